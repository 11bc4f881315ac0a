# directives.t — every value of every directive, in <Location>,
# <VirtualHost> and .htaccess scope (t/conf/extra.last.conf.in: cfg_main,
# cfg_vhost, cfg_off; .htaccess trees in t/htdocs/cfg/ht-*).

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $HTML_TYPE = 'text/html; charset=iso-8859-1';
my $STOCK_417 = qr{<title>417 Expectation Failed</title>.*The expectation given in the Expect request-header}s;
my $BODY = "directive test body\n";
my $LEN  = length $BODY;
defaults(vhost => 'cfg_main', body => $BODY);

my @cases = (
    ##
    ## ExpectEngine
    ##
    { name => 'ExpectEngine On: unknown member gets the JSON 417',
      req  => GET('/engine-on/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json', outcome => 'rejected',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectEngine On: 100-continue honoured',
      req  => POST('/engine-on/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: unknown member gets httpd\'s own HTML 417',
      req  => GET('/engine-off/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => undef } },
    { name => 'ExpectEngine Off: 100-continue honoured as httpd does',
      req  => POST('/engine-off/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: 100-Continue in other case honoured',
      req  => POST('/engine-off/echo', '100-Continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: a list of two 100-continue gets the HTML 417',
      req  => GET('/engine-off/static', '100-continue, 100-continue'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: no EXPECT_OUTCOME without Expect',
      req  => GET('/engine-off/static'),
      want => { status => 200, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectAllow does not apply',
      req  => GET('/engine-off-set/static', 'x-foo'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectUnknown Ignore does not apply',
      req  => GET('/engine-off-set/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'ExpectEngine Off: the scope\'s ExpectContinue Reject does not apply',
      req  => POST('/engine-off-set/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off for a host: unknown member gets the HTML 417',
      vhost => 'cfg_off',
      req  => GET('/x/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => undef } },
    { name => 'ExpectEngine Off for a host: 100-continue honoured',
      vhost => 'cfg_off',
      req  => POST('/x/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => undef,
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectEngine On inside an Off host: the JSON 417 again',
      vhost => 'cfg_off',
      req  => GET('/on/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json', outcome => 'rejected' } },

    ##
    ## ExpectContinue
    ##
    { name => 'default ExpectContinue (Defer): 100 Continue when the body is read',
      req  => POST('/default/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'default ExpectContinue (Defer): no 100 Continue when the handler never reads',
      req  => GET('/default/status', '100-continue', { body => $BODY }),
      want => { status => 200, interim => '', outcome => 'continue',
                connection => 'close' } },
    { name => 'ExpectContinue Defer: 100 Continue when the body is read',
      req  => POST('/defer/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectContinue Defer: no 100 Continue when the handler never reads',
      req  => GET('/defer/status', '100-continue', { body => $BODY }),
      want => { status => 200, interim => '', outcome => 'continue',
                connection => 'close' } },
    { name => 'ExpectContinue Immediate: 100 Continue although the handler never reads',
      req  => GET('/immediate/status', '100-continue', { body => $BODY }),
      want => { status => 200, interim => '100', outcome => 'immediate' } },
    { name => 'ExpectContinue Immediate: body read, 100-continue not passed on',
      req  => POST('/immediate/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'ExpectContinue Reject: 100-continue gets the 417',
      req  => POST('/reject/static', '100-continue'),
      want => { status => 417, interim => '', outcome => 'rejected',
                ctype => 'application/json', connection => 'close',
                json => json_417(expect => '100-continue',
                                 unmet => ['100-continue'], supported => []) } },
    { name => 'ExpectContinue Reject: a request without Expect is served',
      req  => POST('/reject/echo'),
      want => { status => 200, cgi_outcome => undef, cgi_bytes => $LEN } },

    ##
    ## ExpectAllow
    ##
    { name => 'default ExpectAllow (None): extension refused',
      req  => GET('/default/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },
    { name => 'ExpectAllow None: extension refused',
      req  => GET('/allow-none/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },
    { name => 'ExpectAllow x-foo: x-foo accepted and passed on',
      req  => GET('/allow-one/echo', 'x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
    { name => 'ExpectAllow x-foo: X-FOO accepted in its own spelling',
      req  => GET('/allow-one/echo', 'X-FOO'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'X-FOO' } },
    { name => 'ExpectAllow x-foo: another extension refused',
      req  => GET('/allow-one/static', 'x-bar'),
      want => { status => 417, json => json_417(expect => 'x-bar', unmet => ['x-bar'],
                                                supported => ['100-continue', 'x-foo']) } },
    { name => 'ExpectAllow x-foo x-bar: both accepted',
      req  => GET('/allow-two/echo', 'x-foo, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'ExpectAllow x-foo x-bar: a third refused, both listed as supported',
      req  => GET('/allow-two/static', 'x-baz'),
      want => { status => 417, json => json_417(expect => 'x-baz', unmet => ['x-baz'],
                                                supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'ExpectAllow X-Bar: x-bar accepted (names compare case-insensitively)',
      req  => GET('/allow-mixed-case/echo', 'x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-bar' } },
    { name => 'two ExpectAllow lines add up: both accepted',
      req  => GET('/allow-lines/echo', 'x-bar, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-bar, x-foo' } },
    { name => 'two ExpectAllow lines add up: both listed as supported',
      req  => GET('/allow-lines/static', 'x-baz'),
      want => { status => 417, json => json_417(expect => 'x-baz', unmet => ['x-baz'],
                                                supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'ExpectAllow None after ExpectAllow x-foo clears it',
      req  => GET('/allow-cleared/static', 'x-foo'),
      want => { status => 417, json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                                supported => ['100-continue']) } },

    ##
    ## ExpectUnknown
    ##
    { name => 'default ExpectUnknown (Reject): unknown member refused',
      req  => GET('/default/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => 'ExpectUnknown Reject: unknown member refused',
      req  => GET('/unknown-reject/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectUnknown Ignore: unknown member dropped',
      req  => GET('/unknown-ignore/echo', 'x-unk'),
      want => { status => 200, cgi_outcome => 'ignored', cgi_expect => undef } },
    { name => 'ExpectUnknown Ignore: the rest is processed',
      req  => POST('/unknown-ignore/echo', 'x-unk, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'ExpectUnknown Ignore: allowed extensions still passed on',
      req  => GET('/ignore-allow/echo', 'x-unk, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },

    ##
    ## ExpectErrorFormat
    ##
    { name => 'default ExpectErrorFormat (JSON)',
      req  => GET('/default/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json' } },
    { name => 'ExpectErrorFormat JSON',
      req  => GET('/format-json/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorFormat Problem',
      req  => GET('/format-problem/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(expect => 'x-unk', unmet => ['x-unk'],
                                    supported => ['100-continue']) } },
    { name => 'ExpectErrorFormat HTML: httpd\'s stock 417 page',
      req  => GET('/format-html/static', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, body_like => $STOCK_417,
                outcome => 'rejected' } },

    ##
    ## ExpectErrorMessage
    ##
    { name => 'default ExpectErrorMessage',
      req  => GET('/default/static', 'x-unk'),
      want => { json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorMessage with quotes and a backslash',
      req  => GET('/message/static', 'x-unk'),
      want => { status => 417,
                json => json_417(error => 'Send the body without "Expect"; see C:\docs',
                                 expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'ExpectErrorMessage in the Problem body',
      req  => GET('/problem-message/static', 'x-unk'),
      want => { status => 417,
                json => problem_417(detail => 'Problem text from cfg_main',
                                    expect => 'x-unk', unmet => ['x-unk'],
                                    supported => ['100-continue']) } },

    ##
    ## <VirtualHost> scope
    ##
    { name => 'host-wide ExpectAllow: x-vhost accepted',
      vhost => 'cfg_vhost',
      req  => GET('/x/echo', 'x-vhost'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-vhost' } },
    { name => 'host-wide ExpectUnknown Ignore: unknown member dropped',
      vhost => 'cfg_vhost',
      req  => GET('/x/echo', 'x-unk'),
      want => { status => 200, cgi_outcome => 'ignored', cgi_expect => undef } },
    { name => 'host-wide ExpectContinue Reject, Problem format and message',
      vhost => 'cfg_vhost',
      req  => POST('/x/static', '100-continue'),
      want => { status => 417, ctype => 'application/problem+json', interim => '',
                json => problem_417(detail => 'Message of cfg_vhost',
                                    expect => '100-continue', unmet => ['100-continue'],
                                    supported => ['x-vhost']) } },

    ##
    ## .htaccess scope (Override FileInfo)
    ##
    { name => '.htaccess: ExpectContinue Reject, Problem format and message',
      req  => POST('/cfg/ht-all/ok.txt', '100-continue'),
      want => { status => 417, ctype => 'application/problem+json', interim => '',
                json => problem_417(detail => 'Message of ht-all/.htaccess',
                                    expect => '100-continue', unmet => ['100-continue'],
                                    supported => ['x-htaccess']) } },
    { name => '.htaccess: ExpectAllow x-htaccess',
      req  => GET('/cfg/ht-all/ok.txt', 'x-htaccess'),
      want => { status => 200, outcome => 'accepted', seen => 'x-htaccess' } },
    { name => '.htaccess: ExpectUnknown Ignore',
      req  => GET('/cfg/ht-all/ok.txt', 'x-unk'),
      want => { status => 200, outcome => 'ignored', seen => undef } },
    { name => '.htaccess under AllowOverride None is not read',
      req  => GET('/cfg/ht-none/ok.txt', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => '.htaccess without AllowOverride FileInfo: the directive is refused',
      req  => GET('/cfg/ht-authconfig/ok.txt'),
      want => { status => 500 } },
    { name => '.htaccess with an invalid ExpectContinue value: 500',
      req  => GET('/cfg/ht-bad/ok.txt'),
      want => { status => 500 } },
);

plan tests => count_checks(@cases);

run_cases(@cases);
