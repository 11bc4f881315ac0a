# 100-continue over a raw connection: when the interim 100 Continue is sent
# under ExpectContinue Defer, Immediate and Reject, what the final response
# says about the connection, and whether the connection really stays open or
# closes.
#
# Handlers used:
#   /cgi/echo.pl     reads the whole body (httpd reads it on the script's behalf)
#   /proto/early.lua answers and flushes without ever reading the body
#   /proto/index.txt a static file ("hello")
#
# Each case is one connection: steps write the bytes and READ a response
# (the body of a 100-continue request goes only after the READ that must
# bring the 100), want says what must come back. "stock" is what stock httpd
# 2.4.71 does with the same bytes (measured on a scratch server without the
# module; ExpectContinue does not exist there).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $body = join '', map { sprintf "line %05d of the upload\n", $_ } 1 .. 400;
my $len  = length $body;
my $half = int($len / 2);
my $chunked = sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
                      $half, substr($body, 0, $half), $len - $half, substr($body, $half));

# A request line the server would answer if it ever parsed body bytes as a
# new request.
my $smuggled = "GET /proto/index.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n";

# the header block of a request
sub head_for {
    my ($method, $uri, %h) = @_;
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n";
}

my @cases;

# Upload to the echo script, waiting for the 100 before sending the body.
# The handler sees 100-continue in Expect only under Defer; under Immediate
# the 100 has been sent already and the member is not passed on.
for my $case (['proto_defer', 'Defer', 'continue', '100-continue'],
              ['proto_immediate', 'Immediate', 'immediate', undef]) {
    my ($vhost, $policy, $outcome, $seen) = @$case;
    push @cases,
    { name  => "$policy, echo.pl", vhost => $vhost,
      stock => '100 Continue when the handler reads the body',
      steps => [head_for(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                         'Expect' => '100-continue'), READ, $body, FINAL],
      want  => { first => 100, first_head => qr{\AHTTP/1\.1 100 Continue\r\n\r\n\z},
                 status => 200, interim => '100',
                 echo => { bytes => $len, md5 => md5_hex($body), expect => $seen,
                           outcome => $outcome },
                 connection_not => 'close', next_written => 1, next => 1 } };
}

# Same with a chunked body.
for my $case (['proto_defer', 'Defer'], ['proto_immediate', 'Immediate']) {
    my ($vhost, $policy) = @$case;
    push @cases,
    { name  => "$policy, chunked upload", vhost => $vhost,
      stock => '100 Continue when the handler reads the body',
      steps => [head_for(POST => '/cgi/echo.pl', 'Transfer-Encoding' => 'chunked',
                         'Expect' => '100-continue'), READ, $chunked, FINAL],
      want  => { first => 100, status => 200,
                 echo => { bytes => $len, md5 => md5_hex($body) },
                 next_written => 1, next => 1 } };
}

push @cases,
    # A handler that never reads the body. Defer leaves the 100 to the
    # handler, so none is sent; the unread body then forces the connection
    # closed, and bytes the client sends afterwards are never parsed as a
    # request.
    { name  => 'Defer, handler never reads', vhost => 'proto_defer',
      stock => 'the same: no 100 Continue, Connection: close',
      steps => [head_for(POST => '/proto/early.lua', 'Content-Length' => length $smuggled,
                         'Expect' => '100-continue'), FINAL],
      want  => { interim => '', status => 200, body_like => qr/before the body was read/,
                 connection => 'close', closed => $smuggled } },

    # Immediate sends the 100 before the handler runs, so even this handler
    # gets one; the body then follows and is discarded, and the connection
    # lives on. The body looked like a request: if it had been parsed as
    # one, the next response would be index.txt for Host "smuggled", not
    # the early.lua answer.
    { name  => 'Immediate, handler never reads', vhost => 'proto_immediate',
      stock => 'no 100 Continue, Connection: close (no Immediate there)',
      steps => [head_for(POST => '/proto/early.lua', 'Content-Length' => length $smuggled,
                         'Expect' => '100-continue'), READ, $smuggled, FINAL,
                head_for(GET => '/proto/early.lua'), FINAL],
      want  => { first => 100, status => 200, body_like => qr/before the body was read/,
                 then => { status => 200, body_like => qr/before the body was read/ } } },

    # ExpectEngine Off keeps httpd's own timing: like Defer.
    { name  => 'ExpectEngine Off, handler never reads', vhost => 'proto_off',
      stock => 'the same (this is stock behaviour)',
      steps => [head_for(POST => '/proto/early.lua', 'Content-Length' => length $smuggled,
                         'Expect' => '100-continue'), FINAL],
      want  => { interim => '', status => 200, connection => 'close' } },
    { name  => 'ExpectEngine Off, echo.pl', vhost => 'proto_off',
      stock => 'the same (this is stock behaviour)',
      steps => [head_for(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                         'Expect' => '100-continue'), READ, $body, FINAL],
      want  => { first => 100, status => 200, echo => { bytes => $len, outcome => undef } } };

# Reject: 417 with the JSON body at once; the body was never sent, so the
# connection closes and later bytes are never answered.
for my $case (['echo.pl', '/cgi/echo.pl'], ['handler never reads', '/proto/early.lua']) {
    my ($name, $uri) = @$case;
    push @cases,
    { name  => "Reject, $name", vhost => 'proto_reject',
      stock => 'no Reject there: 100-continue is honoured as under Defer',
      steps => [head_for(POST => $uri, 'Content-Length' => length $smuggled,
                         'Expect' => '100-continue'), FINAL],
      want  => { interim => '', status => 417, reason => 'Expectation Failed',
                 ctype => 'application/json', clen => 1,
                 json_fields => { status => 417, expect => '100-continue',
                                  unmet => ['100-continue'] },
                 connection => 'close', closed => $smuggled } };
}

push @cases,
    # Immediate with an unknown member beside 100-continue: the request is
    # refused, so no 100 may go out first.
    { name  => 'Immediate, 100-continue beside an unknown member', vhost => 'proto_immediate',
      stock => 'no answer until the body arrives, then HTML 417, connection closed',
      steps => [head_for(POST => '/cgi/echo.pl', 'Content-Length' => length $smuggled,
                         'Expect' => '100-continue, x-unknown'), FINAL],
      want  => { interim => '', status => 417, json_fields => { unmet => ['x-unknown'] },
                 connection => 'close', closed => $smuggled } };

# Requests without content: a 100-continue member is dropped, no 100 is ever
# sent, and the connection stays open (stock httpd closes it). Under Reject
# the request is still refused, and the connection stays open as well.
for my $case (['proto_defer', 'Defer', 'GET', {}, 200],
              ['proto_immediate', 'Immediate', 'GET', {}, 200],
              ['proto_immediate', 'Immediate', 'POST', { 'Content-Length' => 0 }, 200],
              ['proto_defer', 'Defer', 'POST', { 'Content-Length' => 0 }, 200],
              ['proto_reject', 'Reject', 'GET', {}, 417]) {
    my ($vhost, $policy, $method, $extra, $code) = @$case;
    my $uri = $method eq 'GET' ? '/proto/index.txt' : '/cgi/echo.pl';
    push @cases,
    { name  => "$policy, bodiless $method" . (%$extra ? " with Content-Length: 0" : ''),
      vhost => $vhost,
      stock => 'no 100 Continue, 200, then the connection is closed',
      steps => [head_for($method => $uri, %$extra, 'Expect' => '100-continue'), FINAL],
      want  => { interim => '', status => $code, connection_not => 'close',
                 next_written => 1, next => 1 } };
}

plan tests => count_checks(@cases), need(need_module(qw(expect lua)), need_cgi);

run_cases(@cases);
