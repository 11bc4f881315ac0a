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
# answers by its own rules, which each row names: its JSON 417 (with the
# unmet members where they matter), httpd's own 400 page, or the file.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $get = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n";

sub line { my ($name, $total, $fill) = @_; "$name: " . ($fill x ($total - length($name) - 2)) . "\r\n" }

defaults(vhost => 'proto_limits');

my @cases = (
    { name => 'Expect line of 257 bytes (stock: accepted)',
      steps => [$get . line(Expect => 257, 'a') . "\r\n", FINAL],
      want => { status => 417, ctype => 'application/json',
                json_fields => { unmet => ['a' x 249] } } },
    { name => 'Expect line of 258 bytes (stock: 400)',
      steps => [$get . line(Expect => 258, 'a') . "\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => 'other field line of 257 bytes (stock: accepted)',
      steps => [$get . line('X-Other' => 257, 'a') . "Expect: 100-continue\r\n\r\n", FINAL],
      want => { status => 200, body => "hello\n" } },
    { name => 'other field line of 258 bytes (stock: 400)',
      steps => [$get . line('X-Other' => 258, 'a') . "Expect: 100-continue\r\n\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => 'two Expect lines merging to 256 bytes (stock: accepted)',
      steps => [$get . "Expect: " . ('c' x 127) . "\r\nExpect: " . ('d' x 127) . "\r\n\r\n",
                FINAL],
      want => { status => 417, ctype => 'application/json',
                json_fields => { unmet => ['c' x 127, 'd' x 127] } } },
    { name => 'two Expect lines merging to 257 bytes (stock: 400)',
      steps => [$get . "Expect: " . ('c' x 127) . "\r\nExpect: " . ('d' x 128) . "\r\n\r\n",
                FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => 'Expect lines of 100-continue merging past the limit (stock: 400)',
      steps => [$get . ("Expect: 100-continue, 100-continue, 100-continue, 100-continue\r\n" x 5)
                . "\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => 'obs-fold Expect just within the limit (stock: accepted)',
      steps => [$get . "Expect: " . ('a' x 120) . "\r\n " . ('b' x 125) . "\r\n\r\n", FINAL],
      want => { status => 417, ctype => 'application/json' } },
    { name => 'obs-fold Expect just past the limit (stock: 400)',
      steps => [$get . "Expect: " . ('a' x 120) . "\r\n " . ('b' x 126) . "\r\n\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => 'obs-fold Expect with wide indent, within (stock: accepted)',
      steps => [$get . "Expect: " . ('a' x 120) . "\r\n   " . ('b' x 125) . "\r\n\r\n", FINAL],
      want => { status => 417, ctype => 'application/json' } },
    { name => 'obs-fold Expect with wide indent, past (stock: 400)',
      steps => [$get . "Expect: " . ('a' x 120) . "\r\n   " . ('b' x 126) . "\r\n\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => '8 field lines, 7 of them Expect: 100-continue (stock: accepted)',
      steps => [$get . ("Expect: 100-continue\r\n" x 7) . "\r\n", FINAL],
      want => { status => 200, body => "hello\n" } },
    { name => '9 field lines, 8 of them Expect (stock: 400)',
      steps => [$get . ("Expect: 100-continue\r\n" x 8) . "\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => '9 field lines, Expect last (stock: 400)',
      steps => [$get . join('', map { "X-F$_: v\r\n" } 1 .. 7) . "Expect: x-unknown\r\n\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
    { name => '8 field lines, Expect last (stock: accepted)',
      steps => [$get . join('', map { "X-F$_: v\r\n" } 1 .. 6) . "Expect: x-unknown\r\n\r\n", FINAL],
      want => { status => 417, ctype => 'application/json',
                json_fields => { unmet => ['x-unknown'] } } },
    { name => 'default limit: Expect line of 8191 bytes (stock: accepted)', vhost => 'proto_defer',
      steps => [$get . line(Expect => 8191, 'e') . "\r\n", FINAL],
      want => { status => 417, ctype => 'application/json' } },
    { name => 'default limit: Expect line of 8192 bytes (stock: 400)', vhost => 'proto_defer',
      steps => [$get . line(Expect => 8192, 'e') . "\r\n", FINAL],
      want => { status => 400, ctype => qr{^text/html} } },
);

plan tests => count_checks(@cases), need_module('expect');

run_cases(@cases);
