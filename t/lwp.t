# Requests from LWP (libwww-perl), a client that waits for the 100 Continue
# when it sends "Expect: 100-continue" and sends its body at once otherwise.
# Whether two requests shared a connection is read from the client port the
# echo script reports. Each row says what stock httpd 2.4.71 does (it
# answers 100-continue uploads as under ExpectContinue Defer, and every
# other Expect value with its HTML 417, closing the connection).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use HTTP::Request ();
use LWP::UserAgent ();

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectJSON;
use ExpectTable;
use ExpectTools qw(url);

my $body = join '', map { chr(($_ * 7) % 256) } 1 .. 100_000;

my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);

# One request with LWP: the record of its response.
sub lwp {
    my ($vhost, $expect, %opt) = @_;
    my $method = $opt{method} // 'POST';
    my $req = HTTP::Request->new($method => url($vhost, $opt{path} // '/cgi/echo.pl'));
    $req->header(Expect => $expect) if defined $expect;
    $req->header('Content-Type' => 'application/octet-stream');
    $req->content($opt{body} // $body) unless $method eq 'HEAD';
    my $res = $ua->request($req);
    return { res => $res, body => $res->content };
}

# before and after: the requests sent before and after the case's own, on
# the connection LWP keeps
scope(before => 'request before', sub { $_[0]{before} });
scope(after  => 'request after',  sub { $_[0]{after} });
define same_connection => sub {
    my $same = shift;
    my $port = sub { json_object($_[0]{body})->{remote_port} };
    return ({ label => 'client ports reported', want => 1, cmp => 'ok',
              got => sub { defined $port->($_[0]{before}) && defined $port->($_[0]{after}) } },
            { label => $same ? 'the connection was kept across the 417'
                             : 'the connection was closed by the 417',
              cmp => $same ? 'is' : 'isnt',
              want_of => sub { $port->($_[0]{before}) },
              got => sub { $port->($_[0]{after}) } });
};

my @cases;
for my $case (['proto_defer', 'Defer', 'continue'],
              ['proto_immediate', 'Immediate', 'immediate']) {
    my ($vhost, $what, $outcome) = @$case;
    push @cases,
    { name => $what, run => sub { lwp($vhost, '100-continue') },
      stock => '100 Continue when the handler reads, then 200',
      want => { status => 200,
                echo => { bytes => length $body, md5 => md5_hex($body), outcome => $outcome } } };
}

push @cases,
    { name => 'Reject', run => sub { lwp('proto_reject', '100-continue') },
      stock => 'no Reject there: 100 Continue and 200',
      want => { status => 417, ctype => 'application/json',
                json_fields => { status => 417, unmet => ['100-continue'] } } },
    { name => 'Reject, repeated without Expect', run => sub { lwp('proto_reject', undef) },
      stock => 'the same',
      want => { status => 200, echo => { bytes => length $body } } },
    { name => 'unknown expectation', run => sub { lwp('proto_defer', 'x-unknown') },
      stock => 'HTML 417, connection closed',
      want => { status => 417, json_fields => { unmet => ['x-unknown'] } } },
    { name => 'allowed extension before 100-continue', stock => 'HTML 417, connection closed',
      run => sub { lwp('proto_allow', 'x-trace, 100-continue') },
      # the handler sees both, in received order
      want => { status => 200,
                echo => { expect => 'x-trace, 100-continue', outcome => 'continue',
                          bytes => length $body } } },
    { name => 'HEAD with an unknown expectation', stock => 'HTML 417 (headers only)',
      run => sub { lwp('proto_defer', 'x-unknown', method => 'HEAD', path => '/proto/index.txt') },
      want => { status => 417, ctype => 'application/json', body => '' } };

# Keep-alive across a 417: the same connection serves the request after it
# when the body went with the request; not when 100-continue held it back.
for my $case (['x-unknown', 'proto_defer', 1, 'unknown expectation, body sent'],
              ['100-continue', 'proto_reject', 0, '100-continue refused, body held back']) {
    my ($expect, $vhost, $same, $what) = @$case;
    push @cases,
    { name => $what,
      stock => $same ? 'HTML 417 and the connection closed'
                     : 'no Reject there: 200, and the connection is kept',
      run => sub {
          $ua->conn_cache->drop;
          my $before = lwp($vhost, undef, body => 'first');
          my $r = lwp($vhost, $expect, body => 'second');
          return { %$r, before => $before, after => lwp($vhost, undef, body => 'third') };
      },
      want => { before => { status => 200 }, status => 417,
                after => { status => 200, echo => { bytes => 5 } },
                same_connection => $same } };
}

plan tests => count_checks(@cases), need(need_module('expect'), need_cgi, need_lwp);

run_cases(@cases);
