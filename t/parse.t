# parse.t — each parsing rule of the Expect field (RFC 9110 §5.6, §10.1.1):
# case-insensitive names, empty list elements and OWS, several Expect lines,
# duplicates, 100-continue with a value, malformed members, quoted strings
# with commas, the empty field. Host cfg_main in t/conf/extra.last.conf.in;
# /allow-two allows x-foo and x-bar, /ignore-allow allows x-foo and ignores
# the rest, /default is all defaults. GET and POST take one Expect header
# line per argument after the path.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $BODY = "parse test body\n";
my $LEN  = length $BODY;

defaults(vhost => 'cfg_main', body => $BODY);

my $SUP     = ['100-continue'];
my $SUP_TWO = ['100-continue', 'x-foo', 'x-bar'];

my @cases = (
    ##
    ## names compare case-insensitively
    ##
    { name => 'X-FOO matches ExpectAllow x-foo, passed on as spelled',
      req  => GET('/allow-two/echo', 'X-FOO'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'X-FOO' } },
    { name => 'x-Bar matches ExpectAllow x-bar',
      req  => GET('/allow-two/echo', 'x-Bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-Bar' } },
    { name => '100-CONTINUE is the 100-continue expectation',
      req  => POST('/default/echo', '100-CONTINUE'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-CONTINUE', cgi_bytes => $LEN } },
    { name => '100-Continue is refused under ExpectContinue Reject',
      req  => POST('/reject/static', '100-Continue'),
      want => { status => 417,
                json => json_417(expect => '100-Continue', unmet => ['100-Continue'],
                                 supported => []) } },

    ##
    ## empty list elements and optional whitespace
    ##
    { name => 'empty elements and OWS around members are ignored',
      req  => GET('/allow-two/echo', ", ,x-foo ,\t, x-bar,"),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'members without any whitespace',
      req  => GET('/allow-two/echo', 'x-foo,x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'tabs as OWS',
      req  => GET('/allow-two/echo', "x-foo\t,\tx-bar"),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'empty elements with 100-continue',
      req  => POST('/default/echo', ',, 100-continue ,,'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'empty elements around an unknown member: only the member is unmet',
      req  => GET('/default/static', ', x-unk ,'),
      want => { status => 417,
                json => json_417(expect => ', x-unk ,', unmet => ['x-unk'],
                                 supported => $SUP) } },
    { name => 'a list of empty elements only is no expectation to refuse',
      req  => GET('/default/echo', ', ,'),
      want => { status => 200, cgi_expect => undef } },

    ##
    ## several Expect lines are one list
    ##
    { name => 'two Expect lines, both allowed',
      req  => GET('/allow-two/echo', 'x-foo', 'x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'two Expect lines, the second unknown',
      req  => GET('/allow-two/static', 'x-foo', 'x-unk'),
      want => { status => 417,
                json => json_417(expect => 'x-foo, x-unk', unmet => ['x-unk'],
                                 supported => $SUP_TWO) } },
    { name => 'three Expect lines with 100-continue in the middle',
      req  => POST('/allow-two/echo', 'x-bar', '100-continue', 'x-foo'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'x-bar, 100-continue, x-foo', cgi_bytes => $LEN } },
    { name => 'two Expect lines, each a list',
      req  => GET('/default/static', 'x-a, x-b', 'x-c'),
      want => { status => 417,
                json => json_417(expect => 'x-a, x-b, x-c', unmet => ['x-a', 'x-b', 'x-c'],
                                 supported => $SUP) } },

    ##
    ## duplicates count once
    ##
    { name => '100-continue twice in one line is one expectation',
      req  => POST('/default/echo', '100-continue, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => '100-continue on two lines is one expectation',
      req  => POST('/default/echo', '100-continue', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'an allowed extension twice is passed on once, first spelling',
      req  => GET('/allow-two/echo', 'x-foo, X-Foo, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'an unknown member twice is unmet once',
      req  => GET('/default/static', 'x-unk, X-UNK'),
      want => { status => 417,
                json => json_417(expect => 'x-unk, X-UNK', unmet => ['x-unk'],
                                 supported => $SUP) } },

    ##
    ## 100-continue with a value or parameters is an unknown member
    ##
    { name => '100-continue=1 is unknown: refused under ExpectUnknown Reject',
      req  => GET('/default/static', '100-continue=1'),
      want => { status => 417,
                json => json_417(expect => '100-continue=1', unmet => ['100-continue'],
                                 supported => $SUP) } },
    { name => '100-continue="x";a=b is unknown: refused',
      req  => GET('/default/static', '100-continue="x";a=b'),
      want => { status => 417,
                json => json_417(expect => '100-continue="x";a=b',
                                 unmet => ['100-continue'], supported => $SUP) } },
    { name => '100-continue=1 is unknown: dropped under Ignore, no 100 Continue even under Immediate',
      req  => GET('/immediate-ignore/status', '100-continue=1', { body => $BODY, nowait => 1 }),
      want => { status => 200, interim => '', outcome => 'ignored', seen => undef } },
    { name => '100-continue=1 under Ignore next to a real 100-continue',
      req  => POST('/ignore-allow/echo', '100-continue=1, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },

    ##
    ## malformed members count as unknown
    ##
    { name => 'bad token character: unknown, raw text unmet',
      req  => GET('/default/static', 'x@y'),
      want => { status => 417,
                json => json_417(expect => 'x@y', unmet => ['x@y'], supported => $SUP) } },
    { name => 'unbalanced quote on an allowed name: malformed, refused',
      req  => GET('/allow-two/static', 'x-foo="open'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-foo="open', unmet => ['x-foo="open'],
                                 supported => $SUP_TWO) } },
    { name => 'value without a name: malformed, refused',
      req  => GET('/default/static', '=x'),
      want => { status => 417,
                json => json_417(expect => '=x', unmet => ['=x'], supported => $SUP) } },
    { name => 'name with an empty value: malformed, refused',
      req  => GET('/allow-two/static', 'x-foo='),
      want => { status => 417,
                json => json_417(expect => 'x-foo=', unmet => ['x-foo='],
                                 supported => $SUP_TWO) } },
    { name => 'two tokens without a comma: malformed, refused',
      req  => GET('/allow-two/static', 'x-foo x-bar'),
      want => { status => 417,
                json => json_417(expect => 'x-foo x-bar', unmet => ['x-foo x-bar'],
                                 supported => $SUP_TWO) } },
    { name => 'malformed member dropped under Ignore, the rest accepted',
      req  => GET('/ignore-allow/echo', 'x@y, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
    { name => 'malformed next to good members: only it is unmet',
      req  => GET('/allow-two/static', 'x-foo, x/y, x-bar'),
      want => { status => 417,
                json => json_417(expect => 'x-foo, x/y, x-bar', unmet => ['x/y'],
                                 supported => $SUP_TWO) } },

    ##
    ## quoted-string values with commas inside
    ##
    { name => 'quoted value with a comma is one member, passed on whole',
      req  => GET('/allow-two/echo', 'x-foo="a,b", x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo="a,b", x-bar' } },
    { name => 'quoted value with a comma and an escaped quote is one member',
      req  => GET('/allow-two/echo', 'x-foo="a\",b";p=1, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo="a\",b";p=1, x-bar' } },
    { name => 'quoted comma in an unknown member: one unmet name',
      req  => GET('/allow-two/static', 'x-unk="1,2,3", x-foo'),
      want => { status => 417,
                json => json_417(expect => 'x-unk="1,2,3", x-foo', unmet => ['x-unk'],
                                 supported => $SUP_TWO) } },
    { name => 'quoted comma in a parameter value',
      req  => GET('/allow-two/echo', 'x-foo=tok;p="x,y", x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo=tok;p="x,y", x-bar' } },
    { name => 'token value and parameters on an allowed name',
      req  => GET('/allow-two/echo', 'x-foo=1;a=b'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo=1;a=b' } },

    ##
    ## the empty field is no expectation, and reaches the handler as it
    ## does with stock httpd (CGI: an empty HTTP_EXPECT)
    ##
    { name => 'empty Expect field: no expectation, passed on as received',
      req  => GET('/default/echo', ''),
      want => { status => 200, cgi_outcome => undef, cgi_expect => '' } },
    { name => 'empty Expect field under ExpectContinue Reject: served',
      req  => POST('/reject/echo', ''),
      want => { status => 200, cgi_outcome => undef, cgi_bytes => $LEN } },
    { name => 'whitespace-only Expect field: no expectation, passed on empty',
      req  => GET('/default/echo', "   \t "),
      want => { status => 200, cgi_outcome => undef, cgi_expect => '' } },
    { name => 'an empty Expect line next to a real one',
      req  => GET('/allow-two/echo', '', 'x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
);

plan tests => count_checks(@cases);

run_cases(@cases);
