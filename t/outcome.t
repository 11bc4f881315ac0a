# outcome.t — EXPECT_OUTCOME for each outcome and the Expect field that
# handlers and CGI (HTTP_EXPECT) see; the decision rules and their
# precedence (HTTP/1.0, requests without content). Host cfg_main in
# t/conf/extra.last.conf.in; echo is t/htdocs/cgi/echo.pl, X-Outcome and
# X-Seen-Expect come from mod_headers.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient ();
use ExpectTable;

my $BODY = "outcome test body\n";
my $LEN  = length $BODY;

defaults(vhost => 'cfg_main', body => $BODY);

my @cases = (
    ##
    ## each outcome
    ##
    { name => 'rejected: unknown member',
      req  => GET('/default/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => 'rejected: 100-continue under ExpectContinue Reject',
      req  => POST('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected', interim => '' } },
    { name => 'immediate: 100 Continue before the handler',
      req  => POST('/immediate/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'immediate',
                cgi_outcome => 'immediate', cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue: 100-continue honoured, deferred',
      req  => POST('/defer/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                cgi_outcome => 'continue', cgi_expect => '100-continue',
                cgi_bytes => $LEN } },
    { name => 'accepted: only an allowed extension',
      req  => GET('/allow-one/echo', 'x-foo'),
      want => { status => 200, outcome => 'accepted', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'ignored: every member dropped',
      req  => GET('/unknown-ignore/echo', 'x-unk, x-other'),
      want => { status => 200, outcome => 'ignored', cgi_outcome => 'ignored',
                cgi_expect => undef } },

    ##
    ## not set
    ##
    { name => 'no Expect field: EXPECT_OUTCOME not set',
      req  => POST('/defer/echo'),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'empty Expect field: EXPECT_OUTCOME not set',
      req  => POST('/defer/echo', ''),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set for 100-continue',
      req  => POST('/engine-off/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef,
                cgi_outcome => undef, cgi_expect => '100-continue' } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set on the 417',
      req  => GET('/engine-off/static', 'x-unk'),
      want => { status => 417, outcome => undef } },

    ##
    ## strongest wins: rejected > immediate > continue > accepted > ignored
    ##
    { name => 'rejected beats continue and accepted',
      req  => POST('/allow-one/static', '100-continue, x-foo, x-unk'),
      want => { status => 417, outcome => 'rejected', interim => '',
                json => json_417(expect => '100-continue, x-foo, x-unk',
                                 unmet => ['x-unk'],
                                 supported => ['100-continue', 'x-foo']) } },
    { name => 'immediate beats accepted',
      req  => POST('/immediate-allow/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'immediate beats ignored',
      req  => POST('/immediate-ignore/echo', 'x-unk, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue beats accepted',
      req  => POST('/allow-one/echo', 'x-foo, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'x-foo, 100-continue', cgi_bytes => $LEN } },
    { name => 'continue beats ignored',
      req  => POST('/unknown-ignore/echo', '100-continue, x-unk'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'accepted beats ignored',
      req  => GET('/ignore-allow/echo', 'x-unk, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },

    ##
    ## decision rules
    ##
    { name => 'rule 2: 100-continue under Reject refused though the rest is allowed',
      req  => POST('/reject-allow/static', '100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo', 'x-bar']) } },
    { name => 'rule 2 with ExpectUnknown Ignore: only 100-continue is unmet',
      req  => POST('/reject-ignore/static', 'x-unk, 100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo']) } },
    { name => 'rules 2 and 3 together: both unmet, in received order',
      req  => POST('/reject/static', 'x-unk, 100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue',
                                 unmet => ['x-unk', '100-continue'],
                                 supported => []) } },
    { name => 'rule 4: accepted members in received order and spelling',
      req  => POST('/allow-two/echo', 'X-Bar, 100-Continue, x-FOO'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'X-Bar, 100-Continue, x-FOO', cgi_bytes => $LEN } },
    { name => 'rule 4: the field handlers see drops ignored members',
      req  => GET('/ignore-allow/static', 'x-unk, x-foo, x-other'),
      want => { status => 200, outcome => 'accepted', seen => 'x-foo' } },
    { name => 'rule 4: the field is removed when nothing remains',
      req  => GET('/unknown-ignore/static', 'x-unk'),
      want => { status => 200, outcome => 'ignored', seen => undef } },
    { name => 'rule 4: 100-continue stays in the field under Defer',
      req  => POST('/defer/static', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                seen => '100-continue' } },

    ##
    ## rule 1: HTTP/1.0 ignores 100-continue
    ##
    { name => 'HTTP/1.0: 100-continue ignored, no 100 Continue',
      req  => POST('/defer/echo', '100-continue', { proto => 'HTTP/1.0' }),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored even under Reject',
      req  => POST('/reject/echo', '100-continue', { proto => 'HTTP/1.0' }),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored under Immediate',
      req  => POST('/immediate/echo', '100-continue', { proto => 'HTTP/1.0' }),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: allowed extension still accepted',
      req  => POST('/allow-one/echo', '100-continue, x-foo', { proto => 'HTTP/1.0' }),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: unknown member still refused',
      req  => GET('/default/static', 'x-unk', { proto => 'HTTP/1.0' }),
      want => { status => 417, outcome => 'rejected' } },

    ##
    ## requests without content
    ##
    { name => 'no content: 100-continue dropped under Defer',
      req  => GET('/defer/echo', '100-continue'),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef } },
    { name => 'no content: no 100 Continue under Immediate',
      req  => GET('/immediate/status', '100-continue'),
      want => { status => 200, interim => '', outcome => 'ignored' } },
    { name => 'Content-Length 0: 100-continue dropped',
      req  => POST('/defer/echo', '100-continue', { body => '' }),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => 0 } },
    { name => 'no content: still refused under Reject',
      req  => GET('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue', unmet => ['100-continue'],
                                 supported => []) } },
    { name => 'no content: allowed extension kept, 100-continue dropped',
      req  => GET('/allow-one/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'chunked body is content: 100 Continue under Defer',
      req  => POST('/defer/echo', '100-continue', { headers => [['Transfer-Encoding' => 'chunked']],
                     body => "5\r\nhello\r\n0\r\n\r\n" }),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => 5 } },

    ##
    ## EXPECT_OUTCOME where configuration can use it
    ##
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME accepted',
      req  => GET('/observe/static', 'x-foo'),
      want => { status => 200, header => ['X-SetEnvIf' => 'accepted'] } },
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME ignored',
      req  => GET('/observe/static', 'x-unk'),
      want => { status => 200, header => ['X-SetEnvIf' => 'ignored'] } },
    { name => '<If> sees EXPECT_OUTCOME accepted',
      req  => GET('/observe/static', 'x-foo'),
      want => { status => 200, header => ['X-If' => 'accepted'] } },
    { name => '<If> sees EXPECT_OUTCOME ignored',
      req  => GET('/observe/static', 'x-unk'),
      want => { status => 200, header => ['X-If' => 'ignored'] } },
    { name => '<If> that sets ExpectUnknown Reject: judged with it',
      req  => GET('/if-strict/static', 'x-unk', { headers => [['X-Strict' => '1']] }),
      want => { status => 417, header => ['X-Outcome' => 'rejected'] } },
    { name => 'the same scope when the <If> does not apply: ignored',
      req  => GET('/if-strict/static', 'x-unk'),
      want => { status => 200, header => ['X-Outcome' => 'ignored'] } },
    { name => '<If> in the ErrorDocument target sees EXPECT_OUTCOME rejected',
      req  => GET('/observe-reject/static', 'x-unk'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
    { name => '<If> in the ErrorDocument target sees rejected for a list',
      req  => GET('/observe-reject/static', 'x-unk, 100-continue'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
);

# EXPECT_OUTCOME in a LogFormat: cfg_main logs "%{X-Cfg-Mark}i %{EXPECT_OUTCOME}e"
# to cfg_outcome_log. Each request carries a mark of its own; the line is
# written when the request ends, so the log is read until it shows up.
my $outcome_log = Apache::Test::vars('t_logs') . '/cfg_outcome_log';
my $serial = 0;
sub logged_outcome {
    my $case = shift;
    my $mark = sprintf 'cfgmark-%d-%d', $$, ++$serial;
    my $req = $case->{req};
    ExpectClient::request(vhost => 'cfg_main', %$req,
                          headers => [@{ $req->{headers} || [] }, ['X-Cfg-Mark' => $mark]]);
    my $got;
    for (1 .. 50) {
        if (open my $fh, '<', $outcome_log) {
            ($got) = map { /^\Q$mark\E (\S+)$/ ? $1 : () } <$fh>;
        }
        last if defined $got;
        select undef, undef, undef, 0.1;
    }
    return { logged => $got };
}
define logged => sub {
    return { label => 'the access log line', want => $_[0], got => sub { $_[0]{logged} } };
};
for my $item ([rejected  => GET('/default/static', 'x-unk')],
              [immediate => POST('/immediate/echo', '100-continue')],
              [continue  => POST('/defer/echo', '100-continue')],
              [accepted  => GET('/allow-one/static', 'x-foo')],
              [ignored   => GET('/unknown-ignore/static', 'x-unk')],
              ['-'       => GET('/default/static')]) {
    my ($want, $req) = @$item;
    push @cases, { name => "LogFormat %{EXPECT_OUTCOME}e: $want", req => $req,
                   run => \&logged_outcome, want => { logged => $want } };
}

plan tests => count_checks(@cases);

run_cases(@cases);
