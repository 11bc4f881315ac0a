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
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::MD5 qw(md5_hex);
use JSON::PP ();
use ExpectConn ();

plan tests => 53, need_module('expect'), need_cgi, need_module('lua');

sub req {
    my ($method, $uri, $body, %h) = @_;
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $h{'Content-Length'} = length $body
        if defined $body && !exists $h{'Transfer-Encoding'};
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n" . ($body // '');
}

sub json { my $r = shift; my $d = $r && eval { JSON::PP->new->decode($r->content) }; $d || {} }

my $get_index = req(GET => '/proto/index.txt');
my $body = "field=" . ('v' x 4000);

# An unknown expectation with its body sent at once, and a request behind it
# in the same write.
for my $case (['Content-Length body', req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown')],
              ['chunked body', req(POST => '/cgi/echo.pl',
                                   sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body),
                                   Expect => 'x-unknown', 'Transfer-Encoding' => 'chunked')],
              ['200 KB body', req(POST => '/cgi/echo.pl', 'z' x 204800, Expect => 'x-unknown')]) {
    my ($name, $request) = @$case;
    my $what = "unknown expectation, $name";
    my $c = ExpectConn->new('proto_defer');
    $c->send($request . $get_index);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 417, "$what: 417";
    is_deeply json($r)->{unmet}, ['x-unknown'], "$what: JSON names the unmet expectation";
    unlike $r ? ($r->header('Connection') // '') : 'none', qr/close/i,
        "$what: connection not marked close";
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: the pipelined request is answered";
    is $n && $n->content, "hello\n", "$what: ... with its own response";
}

# Three requests in one write: the 417 in the middle does not disturb the
# others.
{
    my $what = 'three pipelined requests';
    my $c = ExpectConn->new('proto_defer');
    $c->send($get_index
             . req(POST => '/cgi/echo.pl', $body, Expect => 'x-one, x-two')
             . req(GET => '/proto/early.lua'));
    my ($a) = $c->final;
    my ($b) = $c->final;
    my ($z) = $c->final;
    is $a && $a->code, 200, "$what: first answered";
    is $a && $a->content, "hello\n", "$what: first is the static file";
    is $b && $b->code, 417, "$what: second 417";
    is_deeply json($b)->{unmet}, ['x-one', 'x-two'], "$what: second names both unmet members";
    is $z && $z->code, 200, "$what: third answered";
    like $z ? $z->content : '', qr/before the body was read/, "$what: third is early.lua";
}

# HEAD: the 417 has no body, so the next response starts right after its
# header block.
{
    my $what = 'HEAD with an unknown expectation';
    my $c = ExpectConn->new('proto_defer');
    $c->send(req(HEAD => '/proto/index.txt', undef, Expect => 'x-unknown') . $get_index);
    my ($r) = $c->final(head => 1);
    is $r && $r->code, 417, "$what: 417";
    is $r && $r->header('Content-Type'), 'application/json', "$what: JSON content type";
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: the pipelined request is answered";
    is $n && $n->content, "hello\n", "$what: ... and no 417 body bytes precede it";
}

# An allowed extension with its body: the request proceeds, the handler sees
# the member, and the connection lives on.
{
    my $what = 'allowed extension';
    my $c = ExpectConn->new('proto_allow');
    $c->send(req(POST => '/cgi/echo.pl', $body, Expect => 'x-trace') . $get_index);
    my ($r) = $c->final;
    my $j = json($r);
    is $r && $r->code, 200, "$what: 200";
    is $j->{expect}, 'x-trace', "$what: handler sees Expect: x-trace";
    is $j->{outcome}, 'accepted', "$what: EXPECT_OUTCOME=accepted";
    is $j->{bytes}, length $body, "$what: every body byte reached the handler";
    is $j->{md5}, md5_hex($body), "$what: body intact";
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: the pipelined request is answered";
    is $n && $n->content, "hello\n", "$what: ... with its own response";
}

# KeepAlive Off: the 417 closes the connection as any response would.
{
    my $what = 'KeepAlive Off';
    my $c = ExpectConn->new('proto_nokeepalive');
    $c->send(req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown') . $get_index);
    my ($r) = $c->final;
    is $r && $r->code, 417, "$what: 417";
    like $r ? ($r->header('Connection') // '') : '', qr/\bclose\b/i, "$what: Connection: close";
    is ExpectConn::escape($c->rest), '', "$what: the pipelined request is not answered";
    ok $c->{eof}, "$what: the server closed the connection";
}

# 100-continue refused while the client sent the body anyway: the server did
# not ask for those bytes, so it closes instead of parsing them.
for my $case (['proto_reject', '100-continue', 'ExpectContinue Reject'],
              ['proto_defer', '100-continue, x-unknown', 'unknown member beside 100-continue']) {
    my ($vhost, $expect, $name) = @$case;
    my $what = "$name, body sent at once";
    my $c = ExpectConn->new($vhost);
    $c->send(req(POST => '/cgi/echo.pl', $body, Expect => $expect) . $get_index);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 417, "$what: 417";
    like $r ? ($r->header('Connection') // '') : '', qr/\bclose\b/i, "$what: Connection: close";
    is ExpectConn::escape($c->rest), '', "$what: nothing after the 417 is answered";
    ok $c->{eof}, "$what: the server closed the connection";
}

# ExpectEngine Off: httpd's own answer to an unknown expectation, which
# closes the connection.
{
    my $what = 'ExpectEngine Off, unknown expectation';
    my $c = ExpectConn->new('proto_off');
    $c->send(req(POST => '/cgi/echo.pl', $body, Expect => 'x-unknown') . $get_index);
    my ($r) = $c->final;
    is $r && $r->code, 417, "$what: 417";
    like $r ? ($r->header('Content-Type') // '') : '', qr{^text/html}, "$what: httpd's HTML page";
    is ExpectConn::escape($c->rest), '', "$what: the pipelined request is not answered (stock)";
    ok $c->{eof}, "$what: the server closed the connection (stock)";
}
