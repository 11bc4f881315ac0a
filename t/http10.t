# HTTP/1.0 requests. RFC 9110 §10.1.1: a server MUST ignore a 100-continue
# expectation received in an HTTP/1.0 request. So no 100 Continue is ever
# sent and ExpectContinue Reject does not refuse it; other members are judged
# as over HTTP/1.1.
#
# Each case is one connection: steps write the bytes (a list is several
# writes, 0.1 s apart: headers and body in two writes, so a 100 sent on
# reading the headers would come first on the wire), want says what must
# come back; "stock" is what stock httpd 2.4.71 does with the same bytes
# (measured on a scratch server without the module).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

# the header block of an HTTP/1.0 request
sub head10 {
    my ($method, $uri, %h) = @_;
    my $head = "$method $uri HTTP/1.0\r\nHost: localhost\r\n";
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n";
}

my $body = join '', map { "record $_\n" } 1 .. 300;
my $len  = length $body;
my $index = head10(GET => '/proto/index.txt');

my @cases;

# 100-continue under every policy.
for my $case (['proto_defer', 'Defer'], ['proto_immediate', 'Immediate'],
              ['proto_reject', 'Reject']) {
    my ($vhost, $policy) = @$case;
    push @cases,
    { name  => "HTTP/1.0, 100-continue, $policy", vhost => $vhost,
      stock => 'no 100 Continue, 200; the handler sees Expect: 100-continue',
      steps => [[head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                        Expect => '100-continue'), $body], FINAL],
      want  => { interim => '', status => 200,
                 echo => { protocol => 'HTTP/1.0', bytes => $len, md5 => md5_hex($body),
                           expect => undef, outcome => 'ignored' } } };
}

push @cases,
    # Spelling does not matter.
    { name  => 'HTTP/1.0, 100-CONTINUE in capitals, Reject', vhost => 'proto_reject',
      stock => 'no 100 Continue, 200',
      steps => [[head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                        Expect => '100-CONTINUE'), $body], FINAL],
      want  => { interim => '', status => 200 } },

    # Other members are judged.
    { name  => 'HTTP/1.0, unknown member', vhost => 'proto_defer',
      stock => 'HTML 417, connection closed',
      steps => [head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                       Expect => 'x-unknown') . $body, FINAL],
      want  => { status => 417, ctype => 'application/json',
                 json_fields => { unmet => ['x-unknown'] } } },
    { name  => 'HTTP/1.0, 100-continue and an unknown member, Reject', vhost => 'proto_reject',
      stock => 'HTML 417, connection closed',
      steps => [head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                       Expect => '100-continue, x-unknown') . $body, FINAL],
      # expect: the field as received; 100-continue is not among the unmet;
      # nothing supported under Reject without ExpectAllow
      want  => { interim => '', status => 417,
                 json_fields => { expect => '100-continue, x-unknown',
                                  unmet => ['x-unknown'], supported => [] } } },
    { name  => 'HTTP/1.0, 100-continue and an allowed member', vhost => 'proto_allow',
      stock => 'HTML 417, connection closed',
      steps => [[head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                        Expect => '100-continue, x-trace'), $body], FINAL],
      # the handler sees only the allowed member
      want  => { interim => '', status => 200,
                 echo => { expect => 'x-trace', outcome => 'accepted' } } };

# HTTP/1.0 keep-alive: bodiless requests with 100-continue keep the
# connection, under Reject as well.
for my $case (['proto_defer', 'Defer'], ['proto_reject', 'Reject']) {
    my ($vhost, $policy) = @$case;
    push @cases,
    { name  => "HTTP/1.0 keep-alive, bodiless, 100-continue, $policy", vhost => $vhost,
      stock => '200 with Connection: close (it closes after a 100-continue request)',
      steps => [head10(GET => '/proto/index.txt', Connection => 'keep-alive',
                       Expect => '100-continue'), FINAL,
                head10(GET => '/proto/index.txt', Connection => 'keep-alive'), FINAL],
      want  => { interim => '', status => 200, connection => 'keep-alive',
                 then => { status => 200, body => "hello\n" } } };
}

push @cases,
    # HTTP/1.0 keep-alive: a 417 for an unknown member whose body was sent
    # keeps the connection too.
    { name  => 'HTTP/1.0 keep-alive, unknown member with body', vhost => 'proto_defer',
      stock => 'HTML 417, then the connection closes: the request behind it is lost',
      steps => [head10(POST => '/cgi/echo.pl', Connection => 'keep-alive',
                       'Content-Length' => $len, Expect => 'x-unknown') . $body . $index,
                FINAL],
      want  => { status => 417, connection => 'keep-alive',
                 then => { status => 200, body => "hello\n" } } };

# Without keep-alive an HTTP/1.0 connection ends after the response, 417 or not.
for my $case (['proto_defer', 'x-unknown', 417], ['proto_reject', '100-continue', 200]) {
    my ($vhost, $expect, $code) = @$case;
    push @cases,
    { name  => "HTTP/1.0 without keep-alive, Expect: $expect on $vhost", vhost => $vhost,
      stock => $code == 417 ? 'HTML 417, connection closed' : '200, connection closed',
      steps => [head10(POST => '/cgi/echo.pl', 'Content-Length' => $len,
                       Expect => $expect) . $body . $index, FINAL],
      want  => { status => $code, closed => 1 } };
}

plan tests => count_checks(@cases), need(need_module('expect'), need_cgi);

run_cases(@cases);
