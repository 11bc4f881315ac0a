# outcome.t — EXPECT_OUTCOME for each outcome and the Expect field that
# handlers and CGI (HTTP_EXPECT) see; the decision rules and their
# precedence (HTTP/1.0, requests without content). Host cfg_main in
# t/conf/extra.last.conf.in; echo is t/htdocs/cgi/echo.pl, X-Outcome and
# X-Seen-Expect come from mod_headers.

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

my $BODY = "outcome test body\n";
my $LEN  = length $BODY;

sub get  { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', path => $path, expect => \@lines } }
sub post { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', method => 'POST', path => $path,
                    expect => \@lines, body => $BODY } }
sub http10 { my $req = shift; return { %$req, proto => 'HTTP/1.0' } }

my @cases = (
    ##
    ## each outcome
    ##
    { name => 'rejected: unknown member',
      req  => get('/default/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => 'rejected: 100-continue under ExpectContinue Reject',
      req  => post('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected', interim => '' } },
    { name => 'immediate: 100 Continue before the handler',
      req  => post('/immediate/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'immediate',
                cgi_outcome => 'immediate', cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue: 100-continue honoured, deferred',
      req  => post('/defer/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                cgi_outcome => 'continue', cgi_expect => '100-continue',
                cgi_bytes => $LEN } },
    { name => 'accepted: only an allowed extension',
      req  => get('/allow-one/echo', 'x-foo'),
      want => { status => 200, outcome => 'accepted', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'ignored: every member dropped',
      req  => get('/unknown-ignore/echo', 'x-unk, x-other'),
      want => { status => 200, outcome => 'ignored', cgi_outcome => 'ignored',
                cgi_expect => undef } },

    ##
    ## not set
    ##
    { name => 'no Expect field: EXPECT_OUTCOME not set',
      req  => post('/defer/echo'),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'empty Expect field: EXPECT_OUTCOME not set',
      req  => post('/defer/echo', ''),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set for 100-continue',
      req  => post('/engine-off/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef,
                cgi_outcome => undef, cgi_expect => '100-continue' } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set on the 417',
      req  => get('/engine-off/static', 'x-unk'),
      want => { status => 417, outcome => undef } },

    ##
    ## strongest wins: rejected > immediate > continue > accepted > ignored
    ##
    { name => 'rejected beats continue and accepted',
      req  => post('/allow-one/static', '100-continue, x-foo, x-unk'),
      want => { status => 417, outcome => 'rejected', interim => '',
                json => json_417(expect => '100-continue, x-foo, x-unk',
                                 unmet => ['x-unk'],
                                 supported => ['100-continue', 'x-foo']) } },
    { name => 'immediate beats accepted',
      req  => post('/immediate-allow/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'immediate beats ignored',
      req  => post('/immediate-ignore/echo', 'x-unk, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue beats accepted',
      req  => post('/allow-one/echo', 'x-foo, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'x-foo, 100-continue', cgi_bytes => $LEN } },
    { name => 'continue beats ignored',
      req  => post('/unknown-ignore/echo', '100-continue, x-unk'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'accepted beats ignored',
      req  => get('/ignore-allow/echo', 'x-unk, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },

    ##
    ## decision rules
    ##
    { name => 'rule 2: 100-continue under Reject refused though the rest is allowed',
      req  => post('/reject-allow/static', '100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo', 'x-bar']) } },
    { name => 'rule 2 with ExpectUnknown Ignore: only 100-continue is unmet',
      req  => post('/reject-ignore/static', 'x-unk, 100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo']) } },
    { name => 'rules 2 and 3 together: both unmet, in received order',
      req  => post('/reject/static', 'x-unk, 100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue',
                                 unmet => ['x-unk', '100-continue'],
                                 supported => []) } },
    { name => 'rule 4: accepted members in received order and spelling',
      req  => post('/allow-two/echo', 'X-Bar, 100-Continue, x-FOO'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'X-Bar, 100-Continue, x-FOO', cgi_bytes => $LEN } },
    { name => 'rule 4: the field handlers see drops ignored members',
      req  => get('/ignore-allow/static', 'x-unk, x-foo, x-other'),
      want => { status => 200, outcome => 'accepted', seen => 'x-foo' } },
    { name => 'rule 4: the field is removed when nothing remains',
      req  => get('/unknown-ignore/static', 'x-unk'),
      want => { status => 200, outcome => 'ignored', seen => undef } },
    { name => 'rule 4: 100-continue stays in the field under Defer',
      req  => post('/defer/static', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                seen => '100-continue' } },

    ##
    ## rule 1: HTTP/1.0 ignores 100-continue
    ##
    { name => 'HTTP/1.0: 100-continue ignored, no 100 Continue',
      req  => http10(post('/defer/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored even under Reject',
      req  => http10(post('/reject/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored under Immediate',
      req  => http10(post('/immediate/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: allowed extension still accepted',
      req  => http10(post('/allow-one/echo', '100-continue, x-foo')),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: unknown member still refused',
      req  => http10(get('/default/static', 'x-unk')),
      want => { status => 417, outcome => 'rejected' } },

    ##
    ## requests without content
    ##
    { name => 'no content: 100-continue dropped under Defer',
      req  => get('/defer/echo', '100-continue'),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef } },
    { name => 'no content: no 100 Continue under Immediate',
      req  => get('/immediate/status', '100-continue'),
      want => { status => 200, interim => '', outcome => 'ignored' } },
    { name => 'Content-Length 0: 100-continue dropped',
      req  => { %{ post('/defer/echo', '100-continue') }, body => '' },
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => 0 } },
    { name => 'no content: still refused under Reject',
      req  => get('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue', unmet => ['100-continue'],
                                 supported => []) } },
    { name => 'no content: allowed extension kept, 100-continue dropped',
      req  => get('/allow-one/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'chunked body is content: 100 Continue under Defer',
      req  => { vhost => 'cfg_main', method => 'POST', path => '/defer/echo',
                expect => ['100-continue'],
                headers => [['Transfer-Encoding' => 'chunked']],
                body => "5\r\nhello\r\n0\r\n\r\n" },
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => 5 } },

    ##
    ## EXPECT_OUTCOME where configuration can use it
    ##
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME accepted',
      req  => get('/observe/static', 'x-foo'),
      want => { status => 200, header => ['X-SetEnvIf' => 'accepted'] } },
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME ignored',
      req  => get('/observe/static', 'x-unk'),
      want => { status => 200, header => ['X-SetEnvIf' => 'ignored'] } },
    { name => '<If> sees EXPECT_OUTCOME accepted',
      req  => get('/observe/static', 'x-foo'),
      want => { status => 200, header => ['X-If' => 'accepted'] } },
    { name => '<If> sees EXPECT_OUTCOME ignored',
      req  => get('/observe/static', 'x-unk'),
      want => { status => 200, header => ['X-If' => 'ignored'] } },
    { name => '<If> that sets ExpectUnknown Reject: judged with it',
      req  => { vhost => 'cfg_main', path => '/if-strict/static',
                expect => ['x-unk'], headers => [['X-Strict' => '1']] },
      want => { status => 417, header => ['X-Outcome' => 'rejected'] } },
    { name => 'the same scope when the <If> does not apply: ignored',
      req  => get('/if-strict/static', 'x-unk'),
      want => { status => 200, header => ['X-Outcome' => 'ignored'] } },
    { name => '<If> in the ErrorDocument target sees EXPECT_OUTCOME rejected',
      req  => get('/observe-reject/static', 'x-unk'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
    { name => '<If> in the ErrorDocument target sees rejected for a list',
      req  => get('/observe-reject/static', 'x-unk, 100-continue'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
);

# EXPECT_OUTCOME in a LogFormat: cfg_main logs "%{X-Cfg-Mark}i %{EXPECT_OUTCOME}e"
my $outcome_log = Apache::Test::vars('t_logs') . '/cfg_outcome_log';
my @logged = (
    [rejected  => get('/default/static', 'x-unk')],
    [immediate => post('/immediate/echo', '100-continue')],
    [continue  => post('/defer/echo', '100-continue')],
    [accepted  => get('/allow-one/static', 'x-foo')],
    [ignored   => get('/unknown-ignore/static', 'x-unk')],
    ['-'       => get('/default/static')],
);

plan tests => count_checks(@cases) + @logged;

run_case($_) for @cases;

my $serial = 0;
for my $item (@logged) {
    my ($want, $req) = @$item;
    my $mark = sprintf 'cfgmark-%d-%d', $$, ++$serial;
    send_request(%$req, headers => [['X-Cfg-Mark' => $mark]]);
    # the access log line is written when the request ends; wait for it
    my $got;
    for (1 .. 50) {
        if (open my $fh, '<', $outcome_log) {
            ($got) = map { /^\Q$mark\E (\S+)$/ ? $1 : () } <$fh>;
        }
        last if defined $got;
        select undef, undef, undef, 0.1;
    }
    is $got, $want, "LogFormat %{EXPECT_OUTCOME}e: $want";
}
