# directives.t — every value of every directive, in <Location>,
# <VirtualHost> and .htaccess scope (t/conf/extra.last.conf.in: cfg_main,
# cfg_vhost, cfg_off; .htaccess trees in t/htdocs/cfg/ht-*).

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Response ();
use IO::Select ();
use JSON::PP ();

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectCfg;

my $HTML_TYPE = 'text/html; charset=iso-8859-1';
my $STOCK_417 = qr{<title>417 Expectation Failed</title>.*The expectation given in the Expect request-header}s;
my $BODY = "directive test body\n";
my $LEN  = length $BODY;

sub get  { my ($path, @expect) = @_;
           return { vhost => 'cfg_main', path => $path, expect => \@expect } }
sub post { my ($path, @expect) = @_;
           return { vhost => 'cfg_main', method => 'POST', path => $path,
                    expect => \@expect, body => $BODY } }
sub on   { my ($vhost, $req) = @_; return { %$req, vhost => $vhost } }

my @cases = (
    ##
    ## ExpectEngine
    ##
    { name => 'ExpectEngine On: unknown member gets the JSON 417',
      req  => get('/engine-on/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json', outcome => 'rejected',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectEngine On: 100-continue honoured',
      req  => post('/engine-on/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: unknown member gets httpd\'s own HTML 417',
      req  => get('/engine-off/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => undef } },
    { name => 'ExpectEngine Off: 100-continue honoured as httpd does',
      req  => post('/engine-off/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: 100-Continue in other case honoured',
      req  => post('/engine-off/echo', '100-Continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: a list of two 100-continue gets the HTML 417',
      req  => get('/engine-off/static', '100-continue, 100-continue'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: no EXPECT_OUTCOME without Expect',
      req  => get('/engine-off/static'),
      want => { status => 200, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectAllow does not apply',
      req  => get('/engine-off-set/static', 'x-foo'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectUnknown Ignore does not apply',
      req  => get('/engine-off-set/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectContinue Reject does not apply',
      req  => post('/engine-off-set/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off for a host: unknown member gets the HTML 417',
      req  => on(cfg_off => get('/x/static', 'x-unk')),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => undef } },
    { name => 'ExpectEngine Off for a host: 100-continue honoured',
      req  => on(cfg_off => post('/x/echo', '100-continue')),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine On inside an Off host: the JSON 417 again',
      req  => on(cfg_off => get('/on/static', 'x-unk')),
      want => { status => 417, ctype => 'application/json', outcome => 'rejected' } },

    ##
    ## ExpectContinue
    ##
    { name => 'default ExpectContinue (Defer): 100 Continue when the body is read',
      req  => post('/default/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'default ExpectContinue (Defer): no 100 Continue when the handler never reads',
      req  => { %{ get('/default/status', '100-continue') }, body => $BODY },
      want => { status => 200, interim => '', outcome => 'continue',
                connection => 'close' } },
    { name => 'ExpectContinue Defer: 100 Continue when the body is read',
      req  => post('/defer/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectContinue Defer: no 100 Continue when the handler never reads',
      req  => { %{ get('/defer/status', '100-continue') }, body => $BODY },
      want => { status => 200, interim => '', outcome => 'continue',
                connection => 'close' } },
    { name => 'ExpectContinue Immediate: 100 Continue although the handler never reads',
      req  => { %{ get('/immediate/status', '100-continue') }, body => $BODY },
      want => { status => 200, interim => '100', outcome => 'immediate' } },
    { name => 'ExpectContinue Immediate: body read, 100-continue not passed on',
      req  => post('/immediate/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'ExpectContinue Reject: 100-continue gets the 417',
      req  => post('/reject/static', '100-continue'),
      want => { status => 417, interim => '', outcome => 'rejected',
                ctype => 'application/json', connection => 'close',
                json => json_417(expect => '100-continue',
                                 unmet => ['100-continue'], supported => []) } },
    { name => 'ExpectContinue Reject: a request without Expect is served',
      req  => { %{ post('/reject/echo') } },
      want => { status => 200, cgi_outcome => undef, cgi_bytes => $LEN } },

    ##
    ## ExpectAllow
    ##
    { name => 'default ExpectAllow (None): extension refused',
      req  => get('/default/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },
    { name => 'ExpectAllow None: extension refused',
      req  => get('/allow-none/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },
    { name => 'ExpectAllow x-foo: x-foo accepted and passed on',
      req  => get('/allow-one/echo', 'x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
    { name => 'ExpectAllow x-foo: X-FOO accepted in its own spelling',
      req  => get('/allow-one/echo', 'X-FOO'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'X-FOO' } },
    { name => 'ExpectAllow x-foo: another extension refused',
      req  => get('/allow-one/static', 'x-bar'),
      want => { status => 417, json => json_417(expect => 'x-bar', unmet => ['x-bar'],
                                                supported => ['100-continue', 'x-foo']) } },
    { name => 'ExpectAllow x-foo x-bar: both accepted',
      req  => get('/allow-two/echo', 'x-foo, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'ExpectAllow x-foo x-bar: a third refused, both listed as supported',
      req  => get('/allow-two/static', 'x-baz'),
      want => { status => 417, json => json_417(expect => 'x-baz', unmet => ['x-baz'],
                                                supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'ExpectAllow X-Bar: x-bar accepted (names compare case-insensitively)',
      req  => get('/allow-mixed-case/echo', 'x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-bar' } },
    { name => 'two ExpectAllow lines add up: both accepted',
      req  => get('/allow-lines/echo', 'x-bar, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-bar, x-foo' } },
    { name => 'two ExpectAllow lines add up: both listed as supported',
      req  => get('/allow-lines/static', 'x-baz'),
      want => { status => 417, json => json_417(expect => 'x-baz', unmet => ['x-baz'],
                                                supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'ExpectAllow None after ExpectAllow x-foo clears it',
      req  => get('/allow-cleared/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },

    ##
    ## ExpectUnknown
    ##
    { name => 'default ExpectUnknown (Reject): unknown member refused',
      req  => get('/default/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => 'ExpectUnknown Reject: unknown member refused',
      req  => get('/unknown-reject/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectUnknown Ignore: unknown member dropped',
      req  => get('/unknown-ignore/echo', 'x-unk'),
      want => { status => 200, cgi_outcome => 'ignored', cgi_expect => undef } },
    { name => 'ExpectUnknown Ignore: the rest is processed',
      req  => post('/unknown-ignore/echo', 'x-unk, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectUnknown Ignore: allowed extensions still passed on',
      req  => get('/ignore-allow/echo', 'x-unk, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },

    ##
    ## ExpectErrorFormat
    ##
    { name => 'default ExpectErrorFormat (JSON)',
      req  => get('/default/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json' } },
    { name => 'ExpectErrorFormat JSON',
      req  => get('/format-json/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorFormat Problem',
      req  => get('/format-problem/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(expect => 'x-unk', unmet => ['x-unk'],
                                    supported => ['100-continue']) } },
    { name => 'ExpectErrorFormat HTML: httpd\'s stock 417 page',
      req  => get('/format-html/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => 'rejected' } },

    ##
    ## ExpectErrorMessage
    ##
    { name => 'default ExpectErrorMessage',
      req  => get('/default/static', 'x-unk'),
      want => { json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorMessage with quotes and a backslash',
      req  => get('/message/static', 'x-unk'),
      want => { status => 417,
                json => json_417(error => 'Send the body without "Expect"; see C:\docs',
                                 expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorMessage in the Problem body',
      req  => get('/problem-message/static', 'x-unk'),
      want => { status => 417,
                json => problem_417(detail => 'Problem text from cfg_main',
                                    expect => 'x-unk', unmet => ['x-unk'],
                                    supported => ['100-continue']) } },

    ##
    ## <VirtualHost> scope
    ##
    { name => 'host-wide ExpectAllow: x-vhost accepted',
      req  => on(cfg_vhost => get('/x/echo', 'x-vhost')),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-vhost' } },
    { name => 'host-wide ExpectUnknown Ignore: unknown member dropped',
      req  => on(cfg_vhost => get('/x/echo', 'x-unk')),
      want => { status => 200, cgi_outcome => 'ignored', cgi_expect => undef } },
    { name => 'host-wide ExpectContinue Reject, Problem format and message',
      req  => on(cfg_vhost => post('/x/static', '100-continue')),
      want => { status => 417, ctype => 'application/problem+json', interim => '',
                json => problem_417(detail => 'Message of cfg_vhost',
                                    expect => '100-continue', unmet => ['100-continue'],
                                    supported => ['x-vhost']) } },

    ##
    ## .htaccess scope (Override FileInfo)
    ##
    { name => '.htaccess: ExpectContinue Reject, Problem format and message',
      req  => post('/cfg/ht-all/ok.txt', '100-continue'),
      want => { status => 417, ctype => 'application/problem+json', interim => '',
                json => problem_417(detail => 'Message of ht-all/.htaccess',
                                    expect => '100-continue', unmet => ['100-continue'],
                                    supported => ['x-htaccess']) } },
    { name => '.htaccess: ExpectAllow x-htaccess',
      req  => get('/cfg/ht-all/ok.txt', 'x-htaccess'),
      want => { status => 200, outcome => 'accepted', seen => 'x-htaccess' } },
    { name => '.htaccess: ExpectUnknown Ignore',
      req  => get('/cfg/ht-all/ok.txt', 'x-unk'),
      want => { status => 200, outcome => 'ignored', seen => undef } },
    { name => '.htaccess under AllowOverride None is not read',
      req  => get('/cfg/ht-none/ok.txt', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => '.htaccess without AllowOverride FileInfo: the directive is refused',
      req  => get('/cfg/ht-authconfig/ok.txt'),
      want => { status => 500 } },
    { name => '.htaccess with an invalid ExpectContinue value: 500',
      req  => get('/cfg/ht-bad/ok.txt'),
      want => { status => 500 } },
);

plan tests => count_checks(@cases);

run_case($_) for @cases;
