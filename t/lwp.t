# Requests from LWP (libwww-perl), a client that waits for the 100 Continue
# when it sends "Expect: 100-continue" and sends its body at once otherwise.
# Whether two requests shared a connection is read from the client port the
# echo script reports.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::MD5 qw(md5_hex);
use HTTP::Request ();
use JSON::PP ();
use LWP::UserAgent ();

plan tests => 35, need_module('expect'), need_cgi, need_lwp;

my $body = join '', map { chr(($_ * 7) % 256) } 1 .. 100_000;

sub url {
    my ($vhost, $path) = @_;
    Apache::TestRequest::module($vhost);
    my $url = 'http://' . Apache::TestRequest::hostport() . $path;
    Apache::TestRequest::module('default');
    return $url;
}

sub json { my $r = shift; my $d = eval { JSON::PP->new->decode($r->content) }; $d || {} }

my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);

sub post {
    my ($vhost, $expect, %opt) = @_;
    my $req = HTTP::Request->new(($opt{method} // 'POST') => url($vhost, $opt{path} // '/cgi/echo.pl'));
    $req->header(Expect => $expect) if defined $expect;
    $req->header('Content-Type' => 'application/octet-stream');
    $req->content($opt{body} // $body) unless ($opt{method} // '') eq 'HEAD';
    return $ua->request($req);
}

for my $case (['proto_defer', 'Defer', 'continue'],
              ['proto_immediate', 'Immediate', 'immediate']) {
    my ($vhost, $what, $outcome) = @$case;
    my $r = post($vhost, '100-continue');
    my $j = json($r);
    is $r->code, 200, "$what: 200";
    is $j->{bytes}, length $body, "$what: every byte reached the handler";
    is $j->{md5}, md5_hex($body), "$what: body intact";
    is $j->{outcome}, $outcome, "$what: EXPECT_OUTCOME=$outcome";
}

{
    my $what = 'Reject';
    my $r = post('proto_reject', '100-continue');
    my $j = json($r);
    is $r->code, 417, "$what: 417";
    is $r->header('Content-Type'), 'application/json', "$what: JSON body";
    is $j->{status}, 417, "$what: JSON status";
    is_deeply $j->{unmet}, ['100-continue'], "$what: JSON unmet";
    my $again = post('proto_reject', undef);
    is $again->code, 200, "$what: repeated without Expect: 200";
    is json($again)->{bytes}, length $body, "$what: repeated: every byte reached the handler";
}

{
    my $what = 'unknown expectation';
    my $r = post('proto_defer', 'x-unknown');
    is $r->code, 417, "$what: 417";
    is_deeply json($r)->{unmet}, ['x-unknown'], "$what: JSON unmet";
}

{
    my $what = 'allowed extension before 100-continue';
    my $r = post('proto_allow', 'x-trace, 100-continue');
    my $j = json($r);
    is $r->code, 200, "$what: 200";
    is $j->{expect}, 'x-trace, 100-continue', "$what: handler sees both, in received order";
    is $j->{outcome}, 'continue', "$what: EXPECT_OUTCOME=continue";
    is $j->{bytes}, length $body, "$what: every byte reached the handler";
}

{
    my $what = 'HEAD with an unknown expectation';
    my $r = post('proto_defer', 'x-unknown', method => 'HEAD', path => '/proto/index.txt');
    is $r->code, 417, "$what: 417";
    is $r->header('Content-Type'), 'application/json', "$what: JSON content type";
    is $r->content, '', "$what: no body";
}

# Keep-alive across a 417: the same connection serves the request after it
# when the body went with the request; not when 100-continue held it back.
for my $case (['x-unknown', 'proto_defer', 1, 'unknown expectation, body sent'],
              ['100-continue', 'proto_reject', 0, '100-continue refused, body held back']) {
    my ($expect, $vhost, $same, $what) = @$case;
    $ua->conn_cache->drop;
    my $before = post($vhost, undef, body => 'first');
    my $r = post($vhost, $expect, body => 'second');
    my $after = post($vhost, undef, body => 'third');
    is $before->code, 200, "$what: request before answered";
    is $r->code, 417, "$what: 417";
    is $after->code, 200, "$what: request after answered";
    is json($after)->{bytes}, 5, "$what: request after has its own body";
    my ($p1, $p3) = (json($before)->{remote_port}, json($after)->{remote_port});
    ok defined $p1 && defined $p3, "$what: client ports reported";
    if ($same) {
        is $p3, $p1, "$what: the connection was kept across the 417";
    } else {
        isnt $p3, $p1, "$what: the connection was closed by the 417";
    }
}
