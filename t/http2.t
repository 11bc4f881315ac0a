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
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/backend";

use Apache::Test qw(-withtestmore);
use JSON::PP ();
use H2Proxy qw(url curl nghttp nghttp_data have_tool write_data index_of);

plan tests => 102;

my $json = JSON::PP->new;

ok(have_tool('nghttp'), 'nghttp (nghttp2-client) is installed');
ok(have_tool('curl'), 'curl is installed');

my $echo  = '/cgi/echo.pl';
my $early = '/proto/early.lua';   # answers without ever reading the body
my $size  = 300_000;
my $data  = write_data($size);

sub decode {
    my $text = shift;
    my $v = eval { $json->decode($text) };
    return ref $v eq 'HASH' ? $v : {};
}

# Events of an nghttp run, for the test output.
sub show { '[' . join(', ', @{ $_[0]{events} }) . ']' }

##
## 1. The 417: same JSON body and Content-Type over HTTP/2 as over HTTP/1.1
##
## HTTP/2 with nghttp (frames and header fields from `nghttp -v`, the body
## bytes from a run without -v), HTTP/1.1 with curl. (curl 7.88 over HTTP/2
## reports "Empty reply from server" when a final response and RST_STREAM
## NO_ERROR arrive while it still has body to send, so it is not used for
## HTTP/2 requests with a body.)
##
my @rejects = (
    # [ what, [Expect field lines], with a body? ]
    [ 'an unknown expectation',               [ 'x-foo' ],                   0 ],
    [ 'an unknown member beside an allowed one', [ 'x-trace, x-foo=1;a="b c"' ], 0 ],
    [ '100-continue with an unknown member',  [ '100-continue, x-foo' ],     1 ],
    [ 'two Expect fields, one list',          [ 'x-trace', 'X-Foo' ],        0 ],
);
for my $case (@rejects) {
    my ($what, $lines, $body) = @$case;
    my @h = map { ('-H', "Expect: $_") } @$lines;
    my $url = url('h2_defer', $echo);
    my $h2 = nghttp(@h, $body ? ('-d', $data) : (), $url);
    my $h2_body = nghttp_data(@h, $body ? ('-d', $data) : (), $url);
    my $h1 = curl('--http1.1', @h, $body ? ('--data-binary', "\@$data") : (),
                  $url);

    is($h2->{status}, 417, "$what: 417 over HTTP/2") or diag(show($h2));
    is($h1->{status}, 417, "$what: 417 over HTTP/1.1");
    is($h1->{protocol}, 'HTTP/1.1', "$what: the comparison is over HTTP/1.1");
    is($h2->{header}{'content-type'}, 'application/json',
       "$what: Content-Type application/json over HTTP/2");
    is($h2->{header}{'content-type'}, $h1->{header}{'content-type'},
       "$what: same Content-Type over both");
    ok(length $h2_body && $h2_body eq $h1->{body},
       "$what: byte-identical body over both")
        or diag("h2:     $h2_body\nh1.1:   $h1->{body}");
    is($h2->{header}{'content-length'}, length $h2_body,
       "$what: Content-Length matches the body over HTTP/2");
    is($h2->{header}{'x-outcome'}, 'rejected',
       "$what: EXPECT_OUTCOME rejected over HTTP/2");
    is($h1->{header}{'x-outcome'}, 'rejected',
       "$what: EXPECT_OUTCOME rejected over HTTP/1.1");
}

# The JSON itself, for the two-line case: the lines are one list.
{
    my $j = decode(nghttp_data('-H', 'Expect: x-trace', '-H', 'Expect: X-Foo',
                               url('h2_defer', $echo)));
    is($j->{expect}, 'x-trace, X-Foo',
       'two Expect fields over HTTP/2 are joined with ", " in "expect"');
    is_deeply($j->{unmet}, ['X-Foo'], '"unmet" names the unknown member');
    is_deeply($j->{supported}, ['100-continue', 'x-trace'],
              '"supported" lists 100-continue and the allowed extension');
}
{
    # curl over HTTP/2 without a body: the same bytes again.
    my $c2 = curl('--http2-prior-knowledge', '-H', 'Expect: x-foo',
                  url('h2_defer', $echo));
    my $c1 = curl('--http1.1', '-H', 'Expect: x-foo', url('h2_defer', $echo));
    is($c2->{protocol}, 'HTTP/2', 'curl with prior knowledge: HTTP/2 response');
    is($c2->{status}, 417, 'curl over HTTP/2: 417');
    ok(length $c2->{body} && $c2->{body} eq $c1->{body},
       'curl: byte-identical 417 body over HTTP/2 and HTTP/1.1');
}

##
## 2. ExpectContinue Defer: the 100 comes when the handler reads
##
{
    my $n = nghttp('--expect-continue', '-d', $data, url('h2_defer', $echo));
    my $ev = $n->{events};
    my $i100  = index_of($ev, qr/^status 100$/);
    my $idata = index_of($ev, qr/^send DATA$/);
    my $ifin  = index_of($ev, qr/^status [2-5]\d\d$/);
    is($n->{status}, 200, 'Defer, reading handler: final 200') or diag(show($n));
    ok($i100 >= 0, 'Defer, reading handler: an interim :status 100 arrives');
    ok($i100 >= 0 && $idata > $i100,
       'Defer: the :status 100 arrives before the client sends DATA')
        or diag(show($n));
    ok($ifin > $idata, 'Defer: the final status follows the body')
        or diag(show($n));
    is($n->{header}{'x-outcome'}, 'continue', 'Defer: EXPECT_OUTCOME continue');
    like($n->{output}, qr/"bytes":$size,/, 'Defer: the handler read the whole body');
    like($n->{output}, qr/"protocol":"HTTP\/2\.0"/, 'Defer: the request was HTTP/2');
    like($n->{output}, qr/"expect":"100-continue"/,
         'Defer: the handler sees Expect: 100-continue');
}
{
    # A handler that never reads: under Defer nobody asks for the body, so
    # no 100 is sent (httpd's own timing).
    my $n = nghttp('--expect-continue', '-d', $data, url('h2_defer', $early));
    is($n->{status}, 200, 'Defer, handler that never reads: final 200')
        or diag(show($n));
    is(index_of($n->{events}, qr/^status 100$/), -1,
       'Defer, handler that never reads: no :status 100')
        or diag(show($n));
    is($n->{header}{'x-outcome'}, 'continue',
       'Defer, handler that never reads: EXPECT_OUTCOME continue');
}

##
## 3. ExpectContinue Immediate: the 100 comes before the handler runs
##
{
    my $n = nghttp('--expect-continue', '-d', $data, url('h2_immediate', $early));
    my $ev = $n->{events};
    my $i100  = index_of($ev, qr/^status 100$/);
    my $ifin  = index_of($ev, qr/^status [2-5]\d\d$/);
    my $idata = index_of($ev, qr/^send DATA$/);
    is($n->{status}, 200, 'Immediate, handler that never reads: final 200')
        or diag(show($n));
    ok($i100 >= 0, 'Immediate, handler that never reads: :status 100 arrives')
        or diag(show($n));
    ok($i100 >= 0 && $ifin > $i100,
       'Immediate: the :status 100 comes before the final status');
    ok($i100 >= 0 && ($idata == -1 || $idata > $i100),
       'Immediate: no DATA was sent before the :status 100')
        or diag(show($n));
    is($n->{header}{'x-outcome'}, 'immediate',
       'Immediate: EXPECT_OUTCOME immediate');
}
{
    my $n = nghttp('--expect-continue', '-d', $data, url('h2_immediate', $echo));
    my $ev = $n->{events};
    my $i100  = index_of($ev, qr/^status 100$/);
    my $idata = index_of($ev, qr/^send DATA$/);
    is($n->{status}, 200, 'Immediate, reading handler: final 200') or diag(show($n));
    ok($i100 >= 0 && $idata > $i100,
       'Immediate, reading handler: :status 100 before the client sends DATA')
        or diag(show($n));
    is(scalar(grep { $_ eq 'status 100' } @$ev), 1,
       'Immediate, reading handler: exactly one :status 100');
    like($n->{output}, qr/"bytes":$size,/,
         'Immediate: the handler read the whole body');
    like($n->{output}, qr/"outcome":"immediate"/,
         'Immediate: the handler sees EXPECT_OUTCOME immediate');
    # SPEC (Decision, 4.): handlers see exactly the accepted members, and
    # 100-continue is one only under Defer; under Immediate it is answered.
    like($n->{output}, qr/"expect":null/,
         'Immediate: the handler sees no Expect (100-continue was answered)');
}
{
    # curl's view of the same: its trace lists HTTP/2 100 before the final
    # response.
    my $r = curl('--http2-prior-knowledge', '-H', 'Expect: 100-continue',
                 '--data-binary', "\@$data", url('h2_immediate', $echo));
    is_deeply($r->{statuses}, [100, 200],
              'Immediate, curl over HTTP/2: response blocks 100 then 200');
    like($r->{trace}, qr/^< HTTP\/2 100\b.*^< HTTP\/2 200\b/ms,
         'Immediate, curl trace: "HTTP/2 100" before "HTTP/2 200"');
    my $j = decode($r->{body});
    is($j->{bytes}, $size, 'Immediate, curl over HTTP/2: whole body read');
    is($j->{outcome}, 'immediate', 'Immediate, curl: EXPECT_OUTCOME immediate');
}

##
## 4. ExpectContinue Reject: 417 instead of the 100
##
{
    my $n = nghttp('--expect-continue', '-d', $data, url('h2_reject', $echo));
    my $ev = $n->{events};
    my $ifin  = index_of($ev, qr/^status 417$/);
    my $idata = index_of($ev, qr/^send DATA$/);
    is($n->{status}, 417, 'Reject over HTTP/2: 417') or diag(show($n));
    is(index_of($ev, qr/^status 100$/), -1, 'Reject: no :status 100');
    ok($ifin >= 0 && ($idata == -1 || $idata > $ifin),
       'Reject: the 417 arrives before the client sends any DATA')
        or diag(show($n));
    is($n->{header}{'content-type'}, 'application/json',
       'Reject: Content-Type application/json');
    is($n->{header}{'x-outcome'}, 'rejected', 'Reject: EXPECT_OUTCOME rejected');

    my $h2_body = nghttp_data('--expect-continue', '-d', $data,
                              url('h2_reject', $echo));
    my $h1 = curl('--http1.1', '-H', 'Expect: 100-continue',
                  '--data-binary', "\@$data", '--expect100-timeout', 30,
                  url('h2_reject', $echo));
    is($h1->{status}, 417, 'Reject, curl over HTTP/1.1: 417');
    ok(length $h2_body && $h2_body eq $h1->{body},
       'Reject: byte-identical 417 body over HTTP/2 and HTTP/1.1')
        or diag("h2:   $h2_body\nh1.1: $h1->{body}");
    my $j = decode($h2_body);
    is_deeply($j->{unmet}, ['100-continue'], 'Reject: "unmet" is 100-continue');
    is_deeply($j->{supported}, [], 'Reject: nothing "supported"');
    is($j->{status}, 417, 'Reject: "status" 417');
}

##
## 5. Extensions and requests without content
##
{
    my $n = nghttp('-H', 'Expect: X-Trace', url('h2_defer', $echo));
    is($n->{status}, 200, 'allowed extension over HTTP/2: 200') or diag(show($n));
    is($n->{header}{'x-outcome'}, 'accepted',
       'allowed extension over HTTP/2: EXPECT_OUTCOME accepted');
    like($n->{output}, qr/"expect":"X-Trace"/,
         'allowed extension over HTTP/2: the handler sees it as received');
    like($n->{output}, qr/"outcome":"accepted"/,
         'allowed extension over HTTP/2: the handler sees EXPECT_OUTCOME');
}
{
    # 100-continue on a request without content is dropped: no 100, and
    # every member dropped means "ignored".
    my $n = nghttp('-H', 'Expect: 100-continue', url('h2_defer', $echo));
    is($n->{status}, 200, 'bodiless request with 100-continue over HTTP/2: 200')
        or diag(show($n));
    is(index_of($n->{events}, qr/^status 100$/), -1,
       'bodiless request: no :status 100');
    is($n->{header}{'x-outcome'}, 'ignored', 'bodiless request: EXPECT_OUTCOME ignored');
    like($n->{output}, qr/"expect":null/, 'bodiless request: the handler sees no Expect');
}
{
    # Immediate on a request without content: no 100 either.
    my $n = nghttp('-H', 'Expect: 100-continue', url('h2_immediate', $echo));
    is($n->{status}, 200, 'Immediate, bodiless request over HTTP/2: 200');
    is(index_of($n->{events}, qr/^status 100$/), -1,
       'Immediate, bodiless request: no :status 100');
}
{
    # content-length: 0 is no content either.
    my $n = nghttp('--expect-continue', '-d', write_data(0),
                   url('h2_immediate', $echo));
    is($n->{status}, 200, 'Immediate, content-length 0 over HTTP/2: 200')
        or diag(show($n));
    is(index_of($n->{events}, qr/^status 100$/), -1,
       'Immediate, content-length 0: no :status 100');
    is($n->{header}{'x-outcome'}, 'ignored',
       'Immediate, content-length 0: EXPECT_OUTCOME ignored');
}
{
    # A body without content-length (HTTP/2 frames it) is content.
    my $n = nghttp('--no-content-length', '--expect-continue', '-d', $data,
                   url('h2_immediate', $echo));
    my $i100  = index_of($n->{events}, qr/^status 100$/);
    my $idata = index_of($n->{events}, qr/^send DATA$/);
    is($n->{status}, 200, 'Immediate, body without content-length: 200')
        or diag(show($n));
    ok($i100 >= 0 && $idata > $i100,
       'Immediate, body without content-length: :status 100 before DATA')
        or diag(show($n));
    like($n->{output}, qr/"bytes":$size,/,
         'Immediate, body without content-length: the handler read it all');
}
{
    # h2c by Upgrade: the request that asks for the switch is an HTTP/1.1
    # request, judged before the switch (which happens at the handler). An
    # accepted expectation lets the switch happen; a rejected one is
    # answered in HTTP/1.1 and the connection is never upgraded.
    my $ok = curl('--http2', '-H', 'Expect: x-trace', url('h2_defer', $echo));
    is_deeply($ok->{statuses}, [101, 200], 'h2c Upgrade, allowed extension: 101, then 200');
    is($ok->{protocol}, 'HTTP/2', 'h2c Upgrade, allowed extension: answered over HTTP/2');
    is($ok->{header}{'x-outcome'}, 'accepted', 'h2c Upgrade: EXPECT_OUTCOME accepted');
    my $no = curl('--http2', '-H', 'Expect: x-foo', url('h2_defer', $echo));
    is($no->{status}, 417, 'h2c Upgrade, unknown expectation: 417');
    is($no->{protocol}, 'HTTP/1.1', 'h2c Upgrade, unknown expectation: no switch');
    is($no->{header}{'content-type'}, 'application/json', 'h2c Upgrade: the 417 is JSON');
}
