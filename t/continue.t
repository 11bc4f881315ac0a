# 100-continue over a raw connection: when the interim 100 Continue is sent
# under ExpectContinue Defer, Immediate and Reject, what the final response
# says about the connection, and whether the connection really stays open or
# closes.
#
# Handlers used:
#   /cgi/echo.pl     reads the whole body (httpd reads it on the script's behalf)
#   /proto/early.lua answers and flushes without ever reading the body
#   /proto/index.txt a static file ("hello")
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::MD5 qw(md5_hex);
use JSON::PP ();
use ExpectConn ();

plan tests => 114, need_module('expect'), need_cgi, need_module('lua');

my $body = join '', map { sprintf "line %05d of the upload\n", $_ } 1 .. 400;
my $len  = length $body;

# A request line the server would answer if it ever parsed body bytes as a
# new request.
my $smuggled = "GET /proto/index.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n";

sub head_for {
    my ($method, $uri, %h) = @_;
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n";
}

sub json { my $r = shift; my $d = eval { JSON::PP->new->decode($r->content) }; $d || {} }

sub next_is_answered {
    my ($c, $what) = @_;
    ok $c->send(head_for(GET => '/proto/index.txt')), "$what: next request written";
    my ($r) = $c->final;
    is $r && $r->code, 200, "$what: next request on the same connection answered";
    is $r && $r->content, "hello\n", "$what: ... with the requested file";
}

# Upload to the echo script, waiting for the 100 before sending the body.
# The handler sees 100-continue in Expect only under Defer; under Immediate
# the 100 has been sent already and the member is not passed on.
for my $case (['proto_defer', 'Defer', 'continue', '100-continue'],
              ['proto_immediate', 'Immediate', 'immediate', undef]) {
    my ($vhost, $policy, $outcome, $seen) = @$case;
    my $what = "$policy, echo.pl";
    my $c = ExpectConn->new($vhost);
    $c->send(head_for(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                      'Expect' => '100-continue'));
    my $r = $c->response;
    is $r && $r->code, 100, "$what: 100 arrives before any body byte is sent";
    like $r ? $r->{expect_raw_head} : '', qr{\AHTTP/1\.1 100 Continue\r\n\r\n\z},
        "$what: the interim response is exactly 'HTTP/1.1 100 Continue'";
    $c->send($body);
    my ($f, @more) = $c->final;
    is $f && $f->code, 200, "$what: final response 200";
    is scalar(@more), 0, "$what: no second interim response";
    my $j = $f ? json($f) : {};
    is $j->{bytes}, $len, "$what: every byte reached the handler";
    is $j->{md5}, md5_hex($body), "$what: the body arrived intact";
    is $j->{expect}, $seen, "$what: handler sees Expect: " . ($seen // '(none)');
    is $j->{outcome}, $outcome, "$what: EXPECT_OUTCOME=$outcome";
    unlike $f ? ($f->header('Connection') // '') : 'none', qr/close/i,
        "$what: connection not marked close";
    next_is_answered($c, $what);
}

# Same with a chunked body.
for my $vhost (qw(proto_defer proto_immediate)) {
    my $what = ($vhost eq "proto_defer" ? "Defer" : "Immediate") . ", chunked upload";
    my $c = ExpectConn->new($vhost);
    $c->send(head_for(POST => '/cgi/echo.pl', 'Transfer-Encoding' => 'chunked',
                      'Expect' => '100-continue'));
    my $r = $c->response;
    is $r && $r->code, 100, "$what: 100 arrives before the first chunk";
    my $half = int($len / 2);
    $c->send(sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
                     $half, substr($body, 0, $half),
                     $len - $half, substr($body, $half)));
    my ($f) = $c->final;
    is $f && $f->code, 200, "$what: final response 200";
    my $j = $f ? json($f) : {};
    is $j->{bytes}, $len, "$what: every byte reached the handler";
    is $j->{md5}, md5_hex($body), "$what: the body arrived intact";
    next_is_answered($c, $what);
}

# A handler that never reads the body. Defer leaves the 100 to the handler,
# so none is sent; the unread body then forces the connection closed, and
# bytes the client sends afterwards are never parsed as a request.
{
    my $what = 'Defer, handler never reads';
    my $c = ExpectConn->new('proto_defer');
    $c->send(head_for(POST => '/proto/early.lua',
                      'Content-Length' => length $smuggled,
                      'Expect' => '100-continue'));
    my ($f, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $f && $f->code, 200, "$what: final response 200 from the handler";
    like $f ? $f->content : '', qr/before the body was read/, "$what: handler's body";
    like $f ? ($f->header('Connection') // '') : '', qr/\bclose\b/i,
        "$what: Connection: close";
    $c->send($smuggled);
    is ExpectConn::escape($c->rest), '', "$what: body bytes sent afterwards are not answered";
    ok $c->{eof}, "$what: the server closed the connection";
}

# Immediate sends the 100 before the handler runs, so even this handler gets
# one; the body then follows and is discarded, and the connection lives on.
{
    my $what = 'Immediate, handler never reads';
    my $c = ExpectConn->new('proto_immediate');
    $c->send(head_for(POST => '/proto/early.lua',
                      'Content-Length' => length $smuggled,
                      'Expect' => '100-continue'));
    my $r = $c->response;
    is $r && $r->code, 100, "$what: 100 arrives before the handler's response";
    $c->send($smuggled);
    my ($f) = $c->final;
    is $f && $f->code, 200, "$what: final response 200 from the handler";
    like $f ? $f->content : '', qr/before the body was read/, "$what: handler's body";
    # The body looked like a request: if it had been parsed as one, the next
    # response would be index.txt for Host "smuggled", not the early.lua
    # answer below.
    $c->send(head_for(GET => '/proto/early.lua'));
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: next request answered";
    like $n ? $n->content : '', qr/before the body was read/,
        "$what: the body was not taken for a request";
}

# ExpectEngine Off keeps httpd's own timing: like Defer.
{
    my $what = 'ExpectEngine Off, handler never reads';
    my $c = ExpectConn->new('proto_off');
    $c->send(head_for(POST => '/proto/early.lua',
                      'Content-Length' => length $smuggled,
                      'Expect' => '100-continue'));
    my ($f, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue (stock behaviour)";
    is $f && $f->code, 200, "$what: final response 200";
    like $f ? ($f->header('Connection') // '') : '', qr/\bclose\b/i,
        "$what: Connection: close";
}
{
    my $what = 'ExpectEngine Off, echo.pl';
    my $c = ExpectConn->new('proto_off');
    $c->send(head_for(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                      'Expect' => '100-continue'));
    my $r = $c->response;
    is $r && $r->code, 100, "$what: 100 arrives before the body";
    $c->send($body);
    my ($f) = $c->final;
    is $f && $f->code, 200, "$what: final response 200";
    my $j = $f ? json($f) : {};
    is $j->{bytes}, $len, "$what: every byte reached the handler";
    ok !defined $j->{outcome}, "$what: no EXPECT_OUTCOME";
}

# Reject: 417 with the JSON body at once; the body was never sent, so the
# connection closes and later bytes are never answered.
for my $case (['echo.pl', '/cgi/echo.pl'], ['handler never reads', '/proto/early.lua']) {
    my ($name, $uri) = @$case;
    my $what = "Reject, $name";
    my $c = ExpectConn->new('proto_reject');
    $c->send(head_for(POST => $uri, 'Content-Length' => length $smuggled,
                      'Expect' => '100-continue'));
    my ($f, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $f && $f->code, 417, "$what: 417";
    is $f && $f->message, 'Expectation Failed', "$what: reason phrase";
    is $f && $f->header('Content-Type'), 'application/json', "$what: JSON body";
    is $f && $f->header('Content-Length'), $f && length($f->content),
        "$what: Content-Length matches the body";
    my $j = $f ? json($f) : {};
    is $j->{status}, 417, "$what: JSON status";
    is $j->{expect}, '100-continue', "$what: JSON expect";
    is_deeply $j->{unmet}, ['100-continue'], "$what: JSON unmet";
    like $f ? ($f->header('Connection') // '') : '', qr/\bclose\b/i,
        "$what: Connection: close";
    $c->send($smuggled);
    is ExpectConn::escape($c->rest), '', "$what: bytes sent afterwards are not answered";
    ok $c->{eof}, "$what: the server closed the connection";
}

# Immediate with an unknown member beside 100-continue: the request is
# refused, so no 100 may go out first.
{
    my $what = 'Immediate, 100-continue beside an unknown member';
    my $c = ExpectConn->new('proto_immediate');
    $c->send(head_for(POST => '/cgi/echo.pl', 'Content-Length' => length $smuggled,
                      'Expect' => '100-continue, x-unknown'));
    my ($f, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue before the 417";
    is $f && $f->code, 417, "$what: 417";
    is_deeply json($f || HTTP::Response->new(500))->{unmet}, ['x-unknown'],
        "$what: JSON unmet";
    like $f ? ($f->header('Connection') // '') : '', qr/\bclose\b/i,
        "$what: Connection: close";
    $c->send($smuggled);
    is ExpectConn::escape($c->rest), '', "$what: bytes sent afterwards are not answered";
    ok $c->{eof}, "$what: the server closed the connection";
}

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
    my $what = "$policy, bodiless $method"
             . (%$extra ? " with Content-Length: 0" : '');
    my $c = ExpectConn->new($vhost);
    $c->send(head_for($method => $uri, %$extra, 'Expect' => '100-continue'));
    my ($f, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $f && $f->code, $code, "$what: $code";
    unlike $f ? ($f->header('Connection') // '') : 'none', qr/close/i,
        "$what: connection not marked close";
    next_is_answered($c, $what);
}
