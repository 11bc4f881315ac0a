# HTTP/2 (h2c) parity: mod_expect judges Expect the same way over HTTP/2 as
# over HTTP/1.1 (vhosts h2_* in t/conf/h2proxy.conf.in).
#
# Real clients, frames read rather than final statuses only:
# * nghttp --expect-continue holds its DATA frames back until the server
#   sends a :status 100 HEADERS frame (or, when none comes, until its own
#   short wait ends). `nghttp -v` prints every frame in order, so "recv
#   :status 100" listed before the first "send DATA" shows the interim
#   response arrived before the client sent any body.
# * `nghttp` without -v writes exactly the response body, which is compared
#   byte for byte with what curl gets over HTTP/1.1 from the same vhost.
# * curl --http2-prior-knowledge -v lists every response block (HTTP/2 100,
#   then the final one) in its trace.
# (nghttp --expect-continue waits about a second for the 100; the order of
# frames is asserted, never a time.)
# EXPECT_OUTCOME is read from the X-Outcome response header (mod_headers) and
# from what the echo CGI (t/htdocs/cgi/echo.pl) reports.
# Each row says what stock httpd 2.4.71 does with the same requests
# (measured on a scratch server without the module, h2c enabled).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;
use ExpectTools qw(url curl nghttp nghttp_data have_tool write_data);
use ExpectRelease qw(h2_capture_missing);

# Cases whose HTTP/2 request carries an Expect value other than exactly
# "100-continue": the release may leave the module no way to see it.
my $h2_capture = h2_capture_missing();

my $echo  = '/cgi/echo.pl';
my $early = '/proto/early.lua';   # answers without ever reading the body
my $size  = 300_000;
my $data  = write_data($size);

# nghttp's events
my $S100  = qr/^status 100$/;
my $DATA  = qr/^send DATA$/;
my $FINAL = qr/^status [2-5]\d\d$/;

# h2 and h1: the answers over HTTP/2 and over HTTP/1.1 to the same request
scope(h2 => 'over HTTP/2', sub { $_[0]{h2} });
scope(h1 => 'over HTTP/1.1', sub { $_[0]{h1} });
define same_ctype => sub {
    return { label => 'same Content-Type over both',
             want_of => sub { $_[0]{h1}{header}{'content-type'} },
             got => sub { $_[0]{h2}{header}{'content-type'} } };
};
define same_body => sub {
    return { label => 'byte-identical body over both', want => 1, cmp => 'ok',
             got => sub { length $_[0]{h2}{body} && $_[0]{h2}{body} eq $_[0]{h1}{body} },
             diag => sub { "h2:   $_[0]{h2}{body}\nh1.1: $_[0]{h1}{body}" } };
};
define tools => sub {
    return map { my $tool = $_;
                 +{ label => "$tool is installed", want => 1, cmp => 'ok',
                    got => sub { have_tool($tool) } } } @{ $_[0] };
};

# nghttp with the response body too (from a second run without -v)
sub h2 {
    my @args = @_;
    my $n = nghttp(@args);
    $n->{body} = nghttp_data(@args);
    $n->{res}->content($n->{body});
    return $n;
}

# The notice the module logs at startup where the release leaves HTTP/2
# requests to httpd's own check (LogLevel notice, once).
define startup_notice => sub {
    my $want = shift;
    return { label => $want ? 'the startup notice names what falls back to httpd'
                            : 'no startup notice about HTTP/2',
             want => $want, cmp => 'ok',
             got => sub { !!$_[0]{notices} == !!$want && $_[0]{notices} <= 1 } };
};

my @cases = (
    { name => 'the clients', run => sub { {} }, want => { tools => [qw(nghttp curl)] } },
    { name => 'the release', stock => 'no such notice',
      run  => sub {
          my $log = Apache::Test::vars('t_logs') . '/error_log';
          open my $fh, '<', $log or die "$log: $!";
          my $n = grep { /\[expect:notice\].*checks the Expect field of HTTP\/2 requests/ } <$fh>;
          return { notices => $n };
      },
      want => { startup_notice => $h2_capture ? 1 : 0 } },
);

##
## 1. The 417: same JSON body and Content-Type over HTTP/2 as over HTTP/1.1
##
## HTTP/2 with nghttp (frames and header fields from `nghttp -v`, the body
## bytes from a run without -v), HTTP/1.1 with curl. (curl 7.88 over HTTP/2
## reports "Empty reply from server" when a final response and RST_STREAM
## NO_ERROR arrive while it still has body to send, so it is not used for
## HTTP/2 requests with a body.)
##
for my $case (
    # [ what, [Expect field lines], with a body? ]
    [ 'an unknown expectation',                  [ 'x-foo' ],                   0 ],
    [ 'an unknown member beside an allowed one', [ 'x-trace, x-foo=1;a="b c"' ], 0 ],
    [ '100-continue with an unknown member',     [ '100-continue, x-foo' ],     1 ],
    [ 'two Expect fields, one list',             [ 'x-trace', 'X-Foo' ],        0 ],
) {
    my ($what, $lines, $body) = @$case;
    my @h = map { ('-H', "Expect: $_") } @$lines;
    my $url = url('h2_defer', $echo);
    push @cases,
    { name => $what, skip => $h2_capture,
      stock => $body ? 'HTML 417 over both, once the client has sent its body'
                     : 'HTML 417 over both',
      run  => sub { +{ h2 => h2(@h, $body ? ('-d', $data) : (), $url),
                       h1 => curl('--http1.1', @h, $body ? ('--data-binary', "\@$data") : (),
                                  $url) } },
      want => { h2 => { status => 417, ctype => 'application/json', clen => 1,
                        outcome => 'rejected' },
                h1 => { status => 417, protocol => 'HTTP/1.1', outcome => 'rejected' },
                same_ctype => 1, same_body => 1 } };
}

push @cases,
    # The JSON itself, for the two-line case: the lines are one list, joined
    # with ", " in "expect"; "unmet" names the unknown member; "supported"
    # lists 100-continue and the allowed extension.
    { name => 'two Expect fields over HTTP/2', stock => 'HTML 417',
      skip => $h2_capture,
      run  => sub { +{ body => nghttp_data('-H', 'Expect: x-trace', '-H', 'Expect: X-Foo',
                                           url('h2_defer', $echo)) } },
      want => { json_fields => { expect => 'x-trace, X-Foo', unmet => ['X-Foo'],
                                 supported => ['100-continue', 'x-trace'] } } },

    # curl over HTTP/2 without a body: the same bytes again.
    { name => 'curl, HTTP/2 with prior knowledge', stock => 'HTML 417 over both',
      skip => $h2_capture,
      run  => sub { +{ h2 => curl('--http2-prior-knowledge', '-H', 'Expect: x-foo',
                                  url('h2_defer', $echo)),
                       h1 => curl('--http1.1', '-H', 'Expect: x-foo', url('h2_defer', $echo)) } },
      want => { h2 => { protocol => 'HTTP/2', status => 417 }, same_body => 1 } },

##
## 1b. The same with H2SerializeHeaders On (vhost h2_serialize): the way the
##     module judges HTTP/2 requests on httpd 2.4.49 to 2.4.54, where the
##     release checks the header table before any module sees it; on other
##     releases the directive changes nothing.
##
    { name => 'H2SerializeHeaders On: an unknown expectation', stock => 'HTML 417',
      run  => sub { h2('-H', 'Expect: x-foo', url('h2_serialize', $echo)) },
      want => { status => 417, ctype => 'application/json', clen => 1,
                outcome => 'rejected', json_fields => { unmet => ['x-foo'] } } },
    { name => 'H2SerializeHeaders On: an allowed extension', stock => 'HTML 417',
      run  => sub { nghttp('-H', 'Expect: X-Trace', url('h2_serialize', $echo)) },
      want => { status => 200, outcome => 'accepted',
                output_like => ['the handler sees it as received'
                                    => qr/"expect":"X-Trace"/] } },
    { name => 'H2SerializeHeaders On: Defer, reading handler', stock => 'the same',
      run  => sub { nghttp('--expect-continue', '-d', $data, url('h2_serialize', $echo)) },
      want => { status => 200, outcome => 'continue',
                events => ['the :status 100 arrives before the client sends DATA'
                               => [$S100, $DATA]],
                output_like => ['the handler read the whole body' => qr/"bytes":$size,/] } },

##
## 2. ExpectContinue Defer: the 100 comes when the handler reads
##
    { name => 'Defer, reading handler', stock => 'the same',
      run  => sub { nghttp('--expect-continue', '-d', $data, url('h2_defer', $echo)) },
      want => { status => 200, outcome => 'continue',
                events => ['an interim :status 100 arrives' => [$S100],
                           'the :status 100 arrives before the client sends DATA'
                               => [$S100, $DATA],
                           'the final status follows the body' => [$DATA, $FINAL]],
                output_like => ['the handler read the whole body' => qr/"bytes":$size,/,
                                'the request was HTTP/2' => qr/"protocol":"HTTP\/2\.0"/,
                                'the handler sees Expect: 100-continue'
                                    => qr/"expect":"100-continue"/] } },
    # A handler that never reads: under Defer nobody asks for the body, so
    # no 100 is sent (httpd's own timing).
    { name => 'Defer, handler that never reads', stock => 'the same',
      run  => sub { nghttp('--expect-continue', '-d', $data, url('h2_defer', $early)) },
      want => { status => 200, outcome => 'continue',
                events => ['no :status 100' => { absent => $S100 }] } },

##
## 3. ExpectContinue Immediate: the 100 comes before the handler runs
##
    { name => 'Immediate, handler that never reads',
      stock => 'no :status 100 (nobody reads the body)',
      run  => sub { nghttp('--expect-continue', '-d', $data, url('h2_immediate', $early)) },
      want => { status => 200, outcome => 'immediate',
                events => [':status 100 arrives' => [$S100],
                           'the :status 100 comes before the final status' => [$S100, $FINAL],
                           'no DATA was sent before the :status 100'
                               => { none_before => [$DATA, $S100] }] } },
    # SPEC (Decision, 4.): handlers see exactly the accepted members, and
    # 100-continue is one only under Defer; under Immediate it is answered.
    { name => 'Immediate, reading handler',
      stock => ':status 100 when the handler reads; it sees Expect: 100-continue',
      run  => sub { nghttp('--expect-continue', '-d', $data, url('h2_immediate', $echo)) },
      want => { status => 200,
                events => [':status 100 before the client sends DATA' => [$S100, $DATA],
                           'exactly one :status 100' => { once => $S100 }],
                output_like => ['the handler read the whole body' => qr/"bytes":$size,/,
                                'the handler sees EXPECT_OUTCOME immediate'
                                    => qr/"outcome":"immediate"/,
                                'the handler sees no Expect (100-continue was answered)'
                                    => qr/"expect":null/] } },
    # curl's view of the same: its trace lists HTTP/2 100 before the final
    # response.
    { name => 'Immediate, curl over HTTP/2', stock => 'HTTP/2 100 when the handler reads, then 200',
      run  => sub { curl('--http2-prior-knowledge', '-H', 'Expect: 100-continue',
                         '--data-binary', "\@$data", url('h2_immediate', $echo)) },
      want => { statuses => [100, 200],
                trace_like => ['"HTTP/2 100" before "HTTP/2 200"'
                                   => qr/^< HTTP\/2 100\b.*^< HTTP\/2 200\b/ms],
                echo => { bytes => $size, outcome => 'immediate' } } },

##
## 4. ExpectContinue Reject: 417 instead of the 100
##
    { name => 'Reject', stock => 'no Reject there: :status 100, the body and 200',
      run  => sub {
          my @args = ('--expect-continue', '-d', $data, url('h2_reject', $echo));
          return { h2 => h2(@args),
                   h1 => curl('--http1.1', '-H', 'Expect: 100-continue', '--data-binary',
                              "\@$data", '--expect100-timeout', 30, url('h2_reject', $echo)) };
      },
      want => { h2 => { status => 417, ctype => 'application/json', outcome => 'rejected',
                        events => ['no :status 100' => { absent => $S100 },
                                   'the 417 arrives before the client sends any DATA'
                                       => { none_before => [$DATA, qr/^status 417$/] }],
                        json_fields => { unmet => ['100-continue'], supported => [],
                                         status => 417 } },
                h1 => { status => 417 }, same_body => 1 } },

##
## 5. Extensions and requests without content
##
    { name => 'allowed extension over HTTP/2', stock => 'HTML 417',
      skip => $h2_capture,
      run  => sub { nghttp('-H', 'Expect: X-Trace', url('h2_defer', $echo)) },
      want => { status => 200, outcome => 'accepted',
                output_like => ['the handler sees it as received' => qr/"expect":"X-Trace"/,
                                'the handler sees EXPECT_OUTCOME' => qr/"outcome":"accepted"/] } },
    # 100-continue on a request without content is dropped: no 100, and
    # every member dropped means "ignored".
    { name => 'bodiless request with 100-continue over HTTP/2', stock => '200, no :status 100',
      run  => sub { nghttp('-H', 'Expect: 100-continue', url('h2_defer', $echo)) },
      want => { status => 200, outcome => 'ignored',
                events => ['no :status 100' => { absent => $S100 }],
                output_like => ['the handler sees no Expect' => qr/"expect":null/] } },
    # Immediate on a request without content: no 100 either.
    { name => 'Immediate, bodiless request over HTTP/2', stock => '200, no :status 100',
      run  => sub { nghttp('-H', 'Expect: 100-continue', url('h2_immediate', $echo)) },
      want => { status => 200, events => ['no :status 100' => { absent => $S100 }] } },
    # content-length: 0 is no content either.
    { name => 'Immediate, content-length 0 over HTTP/2', stock => '200, no :status 100',
      run  => sub { nghttp('--expect-continue', '-d', write_data(0), url('h2_immediate', $echo)) },
      want => { status => 200, outcome => 'ignored',
                events => ['no :status 100' => { absent => $S100 }] } },
    # A body without content-length (HTTP/2 frames it) is content.
    { name => 'Immediate, body without content-length',
      stock => ':status 100 when the handler reads',
      run  => sub { nghttp('--no-content-length', '--expect-continue', '-d', $data,
                           url('h2_immediate', $echo)) },
      want => { status => 200,
                events => [':status 100 before DATA' => [$S100, $DATA]],
                output_like => ['the handler read it all' => qr/"bytes":$size,/] } },
    # h2c by Upgrade: the request that asks for the switch is an HTTP/1.1
    # request, judged before the switch (which happens at the handler). An
    # accepted expectation lets the switch happen; a rejected one is
    # answered in HTTP/1.1 and the connection is never upgraded.
    { name => 'h2c Upgrade, allowed extension', stock => 'HTML 417 over HTTP/1.1, no switch',
      skip => $h2_capture,
      run  => sub { curl('--http2', '-H', 'Expect: x-trace', url('h2_defer', $echo)) },
      want => { statuses => [101, 200], protocol => 'HTTP/2', outcome => 'accepted' } },
    { name => 'h2c Upgrade, unknown expectation (no switch)', stock => 'the same',
      run  => sub { curl('--http2', '-H', 'Expect: x-foo', url('h2_defer', $echo)) },
      want => { status => 417, protocol => 'HTTP/1.1', ctype => 'application/json' } };

plan tests => count_checks(@cases),
    need(need_module(qw(expect http2 lua)), need_cgi);

run_cases(@cases);
