# Header parsing around the Expect field, over a raw connection.
#
# mod_expect takes the Expect field before httpd's own check; everything else
# about the header block must stay exactly as stock httpd parses it. Each row
# below says what stock httpd 2.4.71 (Debian, the module not loaded, default
# HttpProtocolOptions Strict unless the row says Unsafe) answered to the same
# bytes, measured on a scratch server:
#
#   whitespace before the colon, leading whitespace on the first field line,
#   control bytes, DEL, NUL or a bare CR in the value, bare LF line ends,
#   an obs-fold line holding only whitespace                    -> 400
#   obs-fold continuation lines: joined to the line before with one space
#     ("Expect: 100-continue" + " , x-foo" -> "100-continue , x-foo"; a
#     tab fold "x-one," + "\tx-two" -> "x-one, x-two"), in Strict and Unsafe
#   an empty or blank Expect value                              -> no expectation
#   Expect in the trailer section of a chunked body             -> ignored, 200,
#                                                  and the connection stays open
#   Unsafe: control bytes 0x01-0x08, 0x1b-0x1f, DEL, 0x80-0xff reach the
#     field (stock then answers its HTML 417); VT, FF, NUL and a bare CR
#     still get 400; bare LF line ends are accepted
#
# Where stock answers 417 because it knows only the exact "100-continue",
# mod_expect answers by its own rules (JSON 417 for an unknown member, or
# the request proceeds); the rows say which.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectJSON;
use ExpectTable;

my $req_echo = "POST /cgi/echo.pl HTTP/1.1\r\nHost: localhost\r\n";
my $req_get  = "GET /cgi/echo.pl HTTP/1.1\r\nHost: localhost\r\n";
my $req_file = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n";

# Bytes a client sends where a body was announced; they must never be
# answered as a request of their own.
my $smuggled = "GET /proto/index.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n";
my $smuggled_len = length $smuggled;

# handler_env => { VAR => value }: what echo.pl reports of its environment
define handler_env => sub {
    my $want = shift;
    return map { my $var = $_;
                 +{ label => "handler's $var", want => $want->{$var},
                   got => sub { json_object($_[0]{body})->{env}{$var} } } } sort keys %$want;
};

# Each case is sent on a connection of its own (steps: the header block as
# the writes listed, and when a 100 Continue is expected, READ it and then
# send the body), and what must come back is in want:
#   first        the response before the body is sent: 100 Continue
#   status       final status
#   json_fields  keys of the JSON body (echo.pl report or 417 document)
#   handler_env  variables in echo.pl's "env"
#   printable    response header block and body are printable ASCII
#   closed       the connection closes and later bytes are never answered
#   next         a request sent afterwards on the connection is answered
my @cases = (
    # --- Strict (proto_defer): same answers as stock ---
    { name => 'whitespace before the colon (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect : 100-continue\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'leading whitespace on the first field line (stock: 400)', vhost => 'proto_defer',
      steps => [["GET /proto/index.txt HTTP/1.1\r\n Expect: x-unknown\r\nHost: localhost\r\n\r\n"],
                FINAL],
      want => { status => 400 } },
    { name => 'control byte 0x01 in Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x\x01y\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'DEL in Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x\x7fy\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'NUL in Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x\x00y\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'bare CR in Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x-unknown\rX-Injected: 1\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'bare LF line ends (stock Strict: 400)', vhost => 'proto_defer',
      steps => [["GET /proto/index.txt HTTP/1.1\nHost: localhost\nExpect: 100-continue\n\n"],
                FINAL],
      want => { status => 400 } },
    { name => 'obs-fold line of spaces after Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: 100-continue\r\n   \r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'obs-fold line of one tab after Expect (stock: 400)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: 100-continue\r\n\t\r\n\r\n"], FINAL],
      want => { status => 400 } },

    # --- Strict: the field name and value as httpd reads them ---
    { name => 'EXPECT in capitals, unknown member (stock: 417)', vhost => 'proto_defer',
      steps => [["${req_file}EXPECT: x-unknown\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { unmet => ['x-unknown'] } } },
    { name => 'no space after the colon (stock: 200)', vhost => 'proto_defer',
      steps => [["${req_echo}expect:100-continue\r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200,
                json_fields => { expect => '100-continue', bytes => 3 } } },
    { name => 'trailing whitespace after the value (stock: 200)', vhost => 'proto_defer',
      steps => [["${req_echo}Expect: 100-continue  \t \r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200, json_fields => { expect => '100-continue' } } },
    { name => 'empty Expect value (stock: 200)', vhost => 'proto_defer',
      steps => [["${req_get}Expect:\r\n\r\n"], FINAL],
      want => { status => 200, json_fields => { outcome => undef }, next => 1 } },
    { name => 'blank Expect value (stock: 200)', vhost => 'proto_defer',
      steps => [["${req_get}Expect:    \r\n\r\n"], FINAL],
      want => { status => 200, json_fields => { outcome => undef }, next => 1 } },

    # --- obs-fold: joined exactly as stock joins it ---
    { name => 'obs-fold: value on the continuation line (stock: 100, 200)', vhost => 'proto_defer',
      steps => [["${req_echo}Expect:\r\n 100-continue\r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200,
                json_fields => { expect => '100-continue', bytes => 3 } } },
    { name => 'obs-fold: " , x-foo" continues 100-continue (stock: 417)', vhost => 'proto_defer',
      steps => [["${req_file}Expect: 100-continue\r\n , x-foo\r\n\r\n"], FINAL],
      want => { status => 417,
                json_fields => { expect => '100-continue , x-foo', unmet => ['x-foo'] } } },
    { name => 'obs-fold: tab continuation (stock: 417, value "x-one, x-two")', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x-one,\r\n\tx-two\r\n\r\n"], FINAL],
      want => { status => 417,
                json_fields => { expect => 'x-one, x-two', unmet => ['x-one', 'x-two'] } } },
    { name => 'obs-fold: allowed member on a continuation line', vhost => 'proto_allow',
      steps => [["${req_echo}Expect: 100-continue,\r\n    x-trace\r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200,
                json_fields => { expect => '100-continue, x-trace' } } },
    { name => 'obs-fold lines around a folded Expect (stock: each joined)', vhost => 'proto_defer',
      steps => [["${req_get}X-F: a,\r\n\tb\r\nExpect: x-trace-none,\r\n x-two\r\n"
                 . "X-G: c\r\n   d  \r\n\r\n"],
                FINAL],
      want => { status => 417, json_fields => { expect => 'x-trace-none, x-two' } } },
    { name => 'obs-fold in other fields reaches the handler', vhost => 'proto_allow',
      steps => [["${req_get}X-F: a,\r\n\tb\r\nExpect: x-trace\r\nX-G: c\r\n   d  \r\n\r\n"],
                FINAL],
      want => { status => 200,
                handler_env => { HTTP_X_F => 'a, b', HTTP_X_G => 'c d', HTTP_EXPECT => 'x-trace' } } },

    # --- chunked trailers: an Expect there is not an expectation ---
    { name => 'Expect: x-unknown in a chunked trailer (stock: 200, kept open)', vhost => 'proto_defer',
      steps => [["${req_echo}Transfer-Encoding: chunked\r\n\r\n"
                 . "3\r\nabc\r\n0\r\nExpect: x-unknown\r\nX-Trailer: t\r\n\r\n"],
                FINAL],
      want => { status => 200, json_fields => { bytes => 3, expect => undef }, next => 1 } },
    { name => 'Expect: 100-continue in a chunked trailer (stock: 200, kept open)', vhost => 'proto_defer',
      steps => [["${req_echo}Transfer-Encoding: chunked\r\n\r\n"
                 . "3\r\nabc\r\n0\r\nExpect: 100-continue\r\n\r\n"],
                FINAL],
      want => { status => 200, json_fields => { bytes => 3, expect => undef }, next => 1 } },

    # --- header lines split across writes ---
    { name => 'split inside the field name', vhost => 'proto_defer',
      steps => [["${req_echo}Ex", "pect: 100-con", "tinue\r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200,
                json_fields => { expect => '100-continue', bytes => 3 } } },
    { name => 'split right after the field name', vhost => 'proto_defer',
      steps => [["${req_file}Expect", ": x-unknown\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { unmet => ['x-unknown'] }, next => 1 } },
    { name => 'split between CR and LF', vhost => 'proto_defer',
      steps => [["${req_file}Expect: x-unknown\r", "\n\r\n"], FINAL],
      want => { status => 417, json_fields => { unmet => ['x-unknown'] }, next => 1 } },
    { name => 'split before an obs-fold continuation', vhost => 'proto_defer',
      steps => [["${req_file}Expect: 100-continue\r\n", " , x-foo\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { expect => '100-continue , x-foo' } } },
    { name => 'split before an ordinary line after Expect', vhost => 'proto_defer',
      steps => [["${req_echo}Expect: 100-continue\r\n", "Content-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200, json_fields => { bytes => 3 } } },
    { name => 'split inside the final empty line', vhost => 'proto_defer',
      steps => [["${req_echo}Content-Length: 3\r\nExpect: 100-continue\r\n\r", "\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200, json_fields => { bytes => 3 } } },
    { name => 'header block in 9-byte writes', vhost => 'proto_allow',
      steps => [[unpack '(a9)*', "${req_echo}Expect: 100-continue, x-trace\r\n"
                                 . "X-F: a\r\n b\r\nContent-Length: 3\r\n\r\n"],
                READ, 'abc', FINAL],
      want => { first => 100, status => 200,
                json_fields => { expect => '100-continue, x-trace', bytes => 3 },
                handler_env => { HTTP_X_F => 'a b' } } },

    # --- Unsafe (proto_unsafe): hostile bytes reach the field ---
    { name => 'Unsafe: control byte 0x01 (stock Unsafe: 417)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\x01b\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { expect => "a\x01b", unmet => ["a\x01b"] },
                printable => 1, next => 1 } },
    { name => 'Unsafe: ESC, DEL and bytes >= 0x80 (stock Unsafe: 417)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\x1b[2Jb\x7f\x80\xff\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { expect => "a\x1b[2Jb\x7f\x80\xff" },
                printable => 1, next => 1 } },
    { name => 'Unsafe: quote, backslash and a control byte', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: x=\"a\\\"b\x08\", y\\\r\n\r\n"], FINAL],
      want => { status => 417, json_fields => { expect => "x=\"a\\\"b\x08\", y\\" },
                printable => 1, next => 1 } },
    { name => 'Unsafe: VT in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\x0bX-Injected: 1\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'Unsafe: FF in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\x0cb\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'Unsafe: NUL in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\x00b\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'Unsafe: bare CR in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      steps => [["${req_file}Expect: a\rX-Injected: 1\r\n\r\n"], FINAL],
      want => { status => 400 } },
    { name => 'Unsafe: bare LF line ends (stock Unsafe: accepted)', vhost => 'proto_unsafe',
      steps => [["GET /proto/index.txt HTTP/1.1\nHost: localhost\nExpect: x-unknown\n\n"],
                FINAL],
      want => { status => 417, json_fields => { unmet => ['x-unknown'] } } },
    { name => 'Unsafe: malformed member, body sent at once, pipelined request', vhost => 'proto_unsafe',
      steps => [["${req_echo}Expect: x-odd\x01\r\nContent-Length: 3\r\n\r\nabc"], FINAL],
      want => { status => 417, printable => 1, next => 1 } },
    # A member that looks like 100-continue but is not (here a control byte
    # after it): the client may be holding its body back, so the connection
    # is closed rather than the body read.
    { name => 'Unsafe: malformed 100-continue, body not read', vhost => 'proto_unsafe',
      steps => [["${req_echo}Expect: 100-continue\x01\r\nContent-Length: $smuggled_len\r\n\r\n"],
                FINAL],
      want => { status => 417, printable => 1, closed => $smuggled } },
    { name => 'Unsafe: 100-continue beside a hostile member, body not sent', vhost => 'proto_unsafe',
      steps => [["${req_echo}Expect: 100-continue, x\x01\x1b\r\nContent-Length: $smuggled_len\r\n\r\n"],
                FINAL],
      want => { status => 417, json_fields => { unmet => ["x\x01\x1b"] }, printable => 1,
                closed => $smuggled } },
);

plan tests => count_checks(@cases), need(need_module('expect'), need_cgi);

run_cases(@cases);
