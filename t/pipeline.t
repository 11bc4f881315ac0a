# Keep-alive and pipelining around a 417.
#
# A request that carried no 100-continue sends its body at once; when it is
# answered 417 its body is read and discarded, and the connection stays open,
# so a request pipelined behind it is answered. (Stock httpd 2.4.71, measured:
# answers such a request with its HTML 417 and closes the connection, so
# every pipelined request behind it is lost.)
#
# A request that carried 100-continue may have a body on the way that the
# server never asked for: the 417 closes the connection and nothing after it
# is parsed as a request.
#
# Each case is one connection and one write of every request; want says
# what must come back ("then": the response to the next request), and
# "stock" what stock httpd 2.4.71 does with the same bytes.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

# the bytes of a request: header block and body
sub req {
    my ($method, $uri, $body, %h) = @_;
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $h{'Content-Length'} = length $body
        if defined $body && !exists $h{'Transfer-Encoding'};
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n" . ($body // '');
}

my $get_index = req(GET => '/proto/index.txt');
my $hello = { status => 200, body => "hello\n" };
my $body = "field=" . ('v' x 4000);

my @cases;

# An unknown expectation with its body sent at once, and a request behind it
# in the same write.
for my $case (['Content-Length body', req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown')],
              ['chunked body', req(POST => '/cgi/echo.pl',
                                   sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body),
                                   Expect => 'x-unknown', 'Transfer-Encoding' => 'chunked')],
              ['200 KB body', req(POST => '/cgi/echo.pl', 'z' x 204800, Expect => 'x-unknown')]) {
    my ($name, $request) = @$case;
    push @cases,
    { name  => "unknown expectation, $name", vhost => 'proto_defer',
      stock => 'HTML 417, connection closed: the request behind it is lost',
      steps => [$request . $get_index, FINAL],
      want  => { interim => '', status => 417, json_fields => { unmet => ['x-unknown'] },
                 connection_not => 'close', then => $hello } };
}

push @cases,
    # Three requests in one write: the 417 in the middle does not disturb
    # the others.
    { name  => 'three pipelined requests', vhost => 'proto_defer',
      stock => '200, then HTML 417 and the connection closed: the third is lost',
      steps => [$get_index
                . req(POST => '/cgi/echo.pl', $body, Expect => 'x-one, x-two')
                . req(GET => '/proto/early.lua'), FINAL],
      want  => { %$hello,
                 then => { status => 417, json_fields => { unmet => ['x-one', 'x-two'] },
                           then => { status => 200,
                                     body_like => qr/before the body was read/ } } } },

    # HEAD: the 417 has no body, so the next response starts right after
    # its header block.
    { name  => 'HEAD with an unknown expectation', vhost => 'proto_defer',
      stock => 'HTML 417 (headers only), connection closed',
      steps => [req(HEAD => '/proto/index.txt', undef, Expect => 'x-unknown') . $get_index,
                READ_HEAD],
      want  => { status => 417, ctype => 'application/json', then => $hello } },

    # An allowed extension with its body: the request proceeds, the handler
    # sees the member, and the connection lives on.
    { name  => 'allowed extension', vhost => 'proto_allow',
      stock => 'HTML 417, connection closed',
      steps => [req(POST => '/cgi/echo.pl', $body, Expect => 'x-trace') . $get_index, FINAL],
      want  => { status => 200,
                 echo => { expect => 'x-trace', outcome => 'accepted',
                           bytes => length $body, md5 => md5_hex($body) },
                 then => $hello } },

    # KeepAlive Off: the 417 closes the connection as any response would.
    { name  => 'KeepAlive Off', vhost => 'proto_nokeepalive',
      stock => 'HTML 417, connection closed',
      steps => [req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown') . $get_index, FINAL],
      want  => { status => 417, connection => 'close', closed => 1 } };

# 100-continue refused while the client sent the body anyway: the server did
# not ask for those bytes, so it closes instead of parsing them.
for my $case (['proto_reject', '100-continue', 'ExpectContinue Reject',
               'served, then the request behind it is answered (there is no Reject)'],
              ['proto_defer', '100-continue, x-unknown', 'unknown member beside 100-continue',
               'HTML 417, connection closed']) {
    my ($vhost, $expect, $name, $stock) = @$case;
    push @cases,
    { name  => "$name, body sent at once", vhost => $vhost, stock => $stock,
      steps => [req(POST => '/cgi/echo.pl', $body, Expect => $expect) . $get_index, FINAL],
      want  => { interim => '', status => 417, connection => 'close', closed => 1 } };
}

push @cases,
    # ExpectEngine Off: httpd's own answer to an unknown expectation, which
    # closes the connection.
    { name  => 'ExpectEngine Off, unknown expectation', vhost => 'proto_off',
      stock => 'the same (this is stock behaviour)',
      steps => [req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown') . $get_index, FINAL],
      want  => { status => 417, ctype => qr{^text/html}, closed => 1 } };

plan tests => count_checks(@cases), need(need_module(qw(expect lua)), need_cgi);

run_cases(@cases);
