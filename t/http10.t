# HTTP/1.0 requests. RFC 9110 §10.1.1: a server MUST ignore a 100-continue
# expectation received in an HTTP/1.0 request. So no 100 Continue is ever
# sent and ExpectContinue Reject does not refuse it; other members are judged
# as over HTTP/1.1.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::MD5 qw(md5_hex);
use JSON::PP ();
use ExpectConn ();

plan tests => 55, need_module('expect'), need_cgi;

sub head10 {
    my ($method, $uri, %h) = @_;
    my $head = "$method $uri HTTP/1.0\r\nHost: localhost\r\n";
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n";
}

sub json { my $r = shift; my $d = $r && eval { JSON::PP->new->decode($r->content) }; $d || {} }

my $body = join '', map { "record $_\n" } 1 .. 300;

# 100-continue under every policy: headers and body in two writes, so a 100
# sent on reading the headers would come first on the wire.
for my $case (['proto_defer', 'Defer'], ['proto_immediate', 'Immediate'],
              ['proto_reject', 'Reject']) {
    my ($vhost, $policy) = @$case;
    my $what = "HTTP/1.0, 100-continue, $policy";
    my $c = ExpectConn->new($vhost);
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => '100-continue'), $body);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 200, "$what: 200, not 417";
    my $j = json($r);
    is $j->{protocol}, 'HTTP/1.0', "$what: handled as HTTP/1.0";
    is $j->{bytes}, length $body, "$what: every byte reached the handler";
    is $j->{md5}, md5_hex($body), "$what: body intact";
    ok !defined $j->{expect}, "$what: the ignored member is removed from Expect";
    is $j->{outcome}, 'ignored', "$what: EXPECT_OUTCOME=ignored";
}

# Spelling does not matter.
{
    my $what = 'HTTP/1.0, 100-CONTINUE in capitals, Reject';
    my $c = ExpectConn->new('proto_reject');
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => '100-CONTINUE'), $body);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 200, "$what: 200";
}

# Other members are judged.
{
    my $what = 'HTTP/1.0, unknown member';
    my $c = ExpectConn->new('proto_defer');
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => 'x-unknown') . $body);
    my ($r) = $c->final;
    is $r && $r->code, 417, "$what: 417";
    is $r && $r->header('Content-Type'), 'application/json', "$what: JSON body";
    is_deeply json($r)->{unmet}, ['x-unknown'], "$what: JSON unmet";
}
{
    my $what = 'HTTP/1.0, 100-continue and an unknown member, Reject';
    my $c = ExpectConn->new('proto_reject');
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => '100-continue, x-unknown') . $body);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 417, "$what: 417 for the unknown member";
    my $j = json($r);
    is $j->{expect}, '100-continue, x-unknown', "$what: JSON expect is the field as received";
    is_deeply $j->{unmet}, ['x-unknown'], "$what: 100-continue is not among the unmet";
    is_deeply $j->{supported}, [], "$what: nothing supported under Reject without ExpectAllow";
}
{
    my $what = 'HTTP/1.0, 100-continue and an allowed member';
    my $c = ExpectConn->new('proto_allow');
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => '100-continue, x-trace'), $body);
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 200, "$what: 200";
    my $j = json($r);
    is $j->{expect}, 'x-trace', "$what: handler sees only the allowed member";
    is $j->{outcome}, 'accepted', "$what: EXPECT_OUTCOME=accepted";
}

# HTTP/1.0 keep-alive: bodiless requests with 100-continue keep the
# connection, under Reject as well.
for my $case (['proto_defer', 'Defer'], ['proto_reject', 'Reject']) {
    my ($vhost, $policy) = @$case;
    my $what = "HTTP/1.0 keep-alive, bodiless, 100-continue, $policy";
    my $c = ExpectConn->new($vhost);
    $c->send(head10(GET => '/proto/index.txt', Connection => 'keep-alive',
                    Expect => '100-continue'));
    my ($r, @interim) = $c->final;
    is scalar(@interim), 0, "$what: no 100 Continue";
    is $r && $r->code, 200, "$what: 200";
    like $r ? ($r->header('Connection') // '') : '', qr/keep-alive/i,
        "$what: Connection: Keep-Alive";
    $c->send(head10(GET => '/proto/index.txt', Connection => 'keep-alive'));
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: next request answered";
    is $n && $n->content, "hello\n", "$what: ... with its own response";
}

# HTTP/1.0 keep-alive: a 417 for an unknown member whose body was sent keeps
# the connection too.
{
    my $what = 'HTTP/1.0 keep-alive, unknown member with body';
    my $c = ExpectConn->new('proto_defer');
    $c->send(head10(POST => '/cgi/echo.pl', Connection => 'keep-alive',
                    'Content-Length' => length $body, Expect => 'x-unknown')
             . $body
             . head10(GET => '/proto/index.txt'));
    my ($r) = $c->final;
    is $r && $r->code, 417, "$what: 417";
    like $r ? ($r->header('Connection') // '') : '', qr/keep-alive/i,
        "$what: Connection: Keep-Alive";
    my ($n) = $c->final;
    is $n && $n->code, 200, "$what: the pipelined request is answered";
    is $n && $n->content, "hello\n", "$what: ... with its own response";
}

# Without keep-alive an HTTP/1.0 connection ends after the response, 417 or not.
for my $case (['proto_defer', 'x-unknown', 417], ['proto_reject', '100-continue', 200]) {
    my ($vhost, $expect, $code) = @$case;
    my $what = "HTTP/1.0 without keep-alive, Expect: $expect on $vhost";
    my $c = ExpectConn->new($vhost);
    $c->send(head10(POST => '/cgi/echo.pl', 'Content-Length' => length $body,
                    Expect => $expect) . $body . head10(GET => '/proto/index.txt'));
    my ($r) = $c->final;
    is $r && $r->code, $code, "$what: $code";
    is ExpectConn::escape($c->rest), '', "$what: nothing more is answered";
    ok $c->{eof}, "$what: the server closed the connection";
}
