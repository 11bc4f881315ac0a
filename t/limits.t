# LimitRequestFieldSize and LimitRequestFields apply to Expect lines exactly
# as they do without the module: the same requests get 400, the same
# requests pass.
#
# proto_limits has LimitRequestFieldSize 256 and LimitRequestFields 8. Stock
# httpd 2.4.71 (Debian, the module not loaded, same two limits, measured on a
# scratch server) answered:
#
#   one field line of 257 bytes (CRLF not counted)     -> accepted
#   one field line of 258 bytes                        -> 400, for Expect and
#                                                         any other field
#   two Expect lines, merged value 256 bytes           -> accepted
#   two Expect lines, merged value 257 bytes           -> 400 ("exceeds
#                                                         LimitRequestFieldSize
#                                                         after merging")
#   Expect: <120 a> + obs-fold " <125 b>"              -> accepted
#   Expect: <120 a> + obs-fold " <126 b>"              -> 400
#   8 field lines (Host + 7 Expect)                    -> accepted
#   9 field lines (Host + 8 Expect, or mixed)          -> 400
#   default LimitRequestFieldSize 8190: an Expect line of 8191 bytes is
#   accepted, 8192 bytes -> 400
#
# "Accepted" means stock went on to its own Expect check (and answered its
# HTML 417 for anything but the exact "100-continue"); mod_expect then
# answers by its own rules, which each row names.
use strict;
use warnings FATAL => 'all';

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use ExpectConn ();

my $get = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n";

sub line { my ($name, $total, $fill) = @_; "$name: " . ($fill x ($total - length($name) - 2)) . "\r\n" }

my @rows = (
    # name, vhost, request, status, JSON "unmet" (for a 417)
    ['Expect line of 257 bytes (stock: accepted)', 'proto_limits',
     $get . line(Expect => 257, 'a') . "\r\n", 417, ['a' x 249]],
    ['Expect line of 258 bytes (stock: 400)', 'proto_limits',
     $get . line(Expect => 258, 'a') . "\r\n", 400],
    ['other field line of 257 bytes (stock: accepted)', 'proto_limits',
     $get . line('X-Other' => 257, 'a') . "Expect: 100-continue\r\n\r\n", 200],
    ['other field line of 258 bytes (stock: 400)', 'proto_limits',
     $get . line('X-Other' => 258, 'a') . "Expect: 100-continue\r\n\r\n", 400],
    ['two Expect lines merging to 256 bytes (stock: accepted)', 'proto_limits',
     $get . "Expect: " . ('c' x 127) . "\r\nExpect: " . ('d' x 127) . "\r\n\r\n",
     417, ['c' x 127, 'd' x 127]],
    ['two Expect lines merging to 257 bytes (stock: 400)', 'proto_limits',
     $get . "Expect: " . ('c' x 127) . "\r\nExpect: " . ('d' x 128) . "\r\n\r\n", 400],
    ['Expect lines of 100-continue merging past the limit (stock: 400)', 'proto_limits',
     $get . ("Expect: 100-continue, 100-continue, 100-continue, 100-continue\r\n" x 5) . "\r\n",
     400],
    ['obs-fold Expect just within the limit (stock: accepted)', 'proto_limits',
     $get . "Expect: " . ('a' x 120) . "\r\n " . ('b' x 125) . "\r\n\r\n", 417],
    ['obs-fold Expect just past the limit (stock: 400)', 'proto_limits',
     $get . "Expect: " . ('a' x 120) . "\r\n " . ('b' x 126) . "\r\n\r\n", 400],
    ['obs-fold Expect with wide indent, within (stock: accepted)', 'proto_limits',
     $get . "Expect: " . ('a' x 120) . "\r\n   " . ('b' x 125) . "\r\n\r\n", 417],
    ['obs-fold Expect with wide indent, past (stock: 400)', 'proto_limits',
     $get . "Expect: " . ('a' x 120) . "\r\n   " . ('b' x 126) . "\r\n\r\n", 400],
    ['8 field lines, 7 of them Expect: 100-continue (stock: accepted)', 'proto_limits',
     $get . ("Expect: 100-continue\r\n" x 7) . "\r\n", 200],
    ['9 field lines, 8 of them Expect (stock: 400)', 'proto_limits',
     $get . ("Expect: 100-continue\r\n" x 8) . "\r\n", 400],
    ['9 field lines, Expect last (stock: 400)', 'proto_limits',
     $get . join('', map { "X-F$_: v\r\n" } 1 .. 7) . "Expect: x-unknown\r\n\r\n", 400],
    ['8 field lines, Expect last (stock: accepted)', 'proto_limits',
     $get . join('', map { "X-F$_: v\r\n" } 1 .. 6) . "Expect: x-unknown\r\n\r\n", 417,
     ['x-unknown']],
    ['default limit: Expect line of 8191 bytes (stock: accepted)', 'proto_defer',
     $get . line(Expect => 8191, 'e') . "\r\n", 417],
    ['default limit: Expect line of 8192 bytes (stock: 400)', 'proto_defer',
     $get . line(Expect => 8192, 'e') . "\r\n", 400],
);

plan tests => 2 * @rows + grep({ defined $_->[4] } @rows),
    need_module('expect');

for my $row (@rows) {
    my ($name, $vhost, $request, $code, $unmet) = @$row;
    my $c = ExpectConn->new($vhost);
    $c->send($request);
    my ($res) = $c->final;
    is $res && $res->code, $code, "$name: $code";
    my $type = $res ? ($res->header('Content-Type') // '') : '';
    if ($code == 417) {
        is $type, 'application/json', "$name: mod_expect's JSON 417";
    } elsif ($code == 400) {
        like $type, qr{^text/html}, "$name: httpd's own 400 page";
    } else {
        is $res && $res->content, "hello\n", "$name: the file";
    }
    if (defined $unmet) {
        my $doc = $res && eval { JSON::PP->new->decode($res->content) } || {};
        is_deeply $doc->{unmet}, $unmet, "$name: JSON unmet";
    }
}
