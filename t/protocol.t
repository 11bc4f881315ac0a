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

use FindBin;
use lib "$FindBin::Bin/lib";

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::MD5 qw(md5_hex);
use JSON::PP ();
use ExpectConn ();

my $crlf = "\r\n";
my $req_echo = "POST /cgi/echo.pl HTTP/1.1\r\nHost: localhost\r\n";
my $req_get  = "GET /cgi/echo.pl HTTP/1.1\r\nHost: localhost\r\n";
my $req_file = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n";

# Bytes a client sends where a body was announced; they must never be
# answered as a request of their own.
my $smuggled = "GET /proto/index.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n";
my $smuggled_len = length $smuggled;

# name, vhost, writes (one write each), and what must come back:
#   code     final status
#   after100 body to send once a 100 Continue has arrived (asserts the 100)
#   json     keys of the JSON body (echo.pl report or 417 document)
#   env      variables in echo.pl's "env"
#   ascii    response header block and body are printable ASCII
#   closed   the connection closes and later bytes are never answered
#   next     a request sent afterwards on the connection is answered
my @rows = (
    # --- Strict (proto_defer): same answers as stock ---
    { name => 'whitespace before the colon (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect : 100-continue\r\n\r\n"], code => 400 },
    { name => 'leading whitespace on the first field line (stock: 400)', vhost => 'proto_defer',
      writes => ["GET /proto/index.txt HTTP/1.1\r\n Expect: x-unknown\r\nHost: localhost\r\n\r\n"],
      code => 400 },
    { name => 'control byte 0x01 in Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x\x01y\r\n\r\n"], code => 400 },
    { name => 'DEL in Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x\x7fy\r\n\r\n"], code => 400 },
    { name => 'NUL in Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x\x00y\r\n\r\n"], code => 400 },
    { name => 'bare CR in Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x-unknown\rX-Injected: 1\r\n\r\n"], code => 400 },
    { name => 'bare LF line ends (stock Strict: 400)', vhost => 'proto_defer',
      writes => ["GET /proto/index.txt HTTP/1.1\nHost: localhost\nExpect: 100-continue\n\n"],
      code => 400 },
    { name => 'obs-fold line of spaces after Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: 100-continue\r\n   \r\n\r\n"], code => 400 },
    { name => 'obs-fold line of one tab after Expect (stock: 400)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: 100-continue\r\n\t\r\n\r\n"], code => 400 },

    # --- Strict: the field name and value as httpd reads them ---
    { name => 'EXPECT in capitals, unknown member (stock: 417)', vhost => 'proto_defer',
      writes => ["${req_file}EXPECT: x-unknown\r\n\r\n"], code => 417,
      json => { unmet => ['x-unknown'] } },
    { name => 'no space after the colon (stock: 200)', vhost => 'proto_defer',
      writes => ["${req_echo}expect:100-continue\r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { expect => '100-continue', bytes => 3 } },
    { name => 'trailing whitespace after the value (stock: 200)', vhost => 'proto_defer',
      writes => ["${req_echo}Expect: 100-continue  \t \r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { expect => '100-continue' } },
    { name => 'empty Expect value (stock: 200)', vhost => 'proto_defer',
      writes => ["${req_get}Expect:\r\n\r\n"], code => 200,
      json => { outcome => undef }, next => 1 },
    { name => 'blank Expect value (stock: 200)', vhost => 'proto_defer',
      writes => ["${req_get}Expect:    \r\n\r\n"], code => 200,
      json => { outcome => undef }, next => 1 },

    # --- obs-fold: joined exactly as stock joins it ---
    { name => 'obs-fold: value on the continuation line (stock: 100, 200)', vhost => 'proto_defer',
      writes => ["${req_echo}Expect:\r\n 100-continue\r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { expect => '100-continue', bytes => 3 } },
    { name => 'obs-fold: " , x-foo" continues 100-continue (stock: 417)', vhost => 'proto_defer',
      writes => ["${req_file}Expect: 100-continue\r\n , x-foo\r\n\r\n"], code => 417,
      json => { expect => '100-continue , x-foo', unmet => ['x-foo'] } },
    { name => 'obs-fold: tab continuation (stock: 417, value "x-one, x-two")', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x-one,\r\n\tx-two\r\n\r\n"], code => 417,
      json => { expect => 'x-one, x-two', unmet => ['x-one', 'x-two'] } },
    { name => 'obs-fold: allowed member on a continuation line', vhost => 'proto_allow',
      writes => ["${req_echo}Expect: 100-continue,\r\n    x-trace\r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { expect => '100-continue, x-trace' } },
    { name => 'obs-fold lines around a folded Expect (stock: each joined)', vhost => 'proto_defer',
      writes => ["${req_get}X-F: a,\r\n\tb\r\nExpect: x-trace-none,\r\n x-two\r\n"
                 . "X-G: c\r\n   d  \r\n\r\n"], code => 417,
      json => { expect => 'x-trace-none, x-two' } },
    { name => 'obs-fold in other fields reaches the handler', vhost => 'proto_allow',
      writes => ["${req_get}X-F: a,\r\n\tb\r\nExpect: x-trace\r\nX-G: c\r\n   d  \r\n\r\n"],
      code => 200, env => { HTTP_X_F => 'a, b', HTTP_X_G => 'c d', HTTP_EXPECT => 'x-trace' } },

    # --- chunked trailers: an Expect there is not an expectation ---
    { name => 'Expect: x-unknown in a chunked trailer (stock: 200, kept open)', vhost => 'proto_defer',
      writes => ["${req_echo}Transfer-Encoding: chunked\r\n\r\n"
                 . "3\r\nabc\r\n0\r\nExpect: x-unknown\r\nX-Trailer: t\r\n\r\n"],
      code => 200, json => { bytes => 3, expect => undef }, next => 1 },
    { name => 'Expect: 100-continue in a chunked trailer (stock: 200, kept open)', vhost => 'proto_defer',
      writes => ["${req_echo}Transfer-Encoding: chunked\r\n\r\n"
                 . "3\r\nabc\r\n0\r\nExpect: 100-continue\r\n\r\n"],
      code => 200, json => { bytes => 3, expect => undef }, next => 1 },

    # --- header lines split across writes ---
    { name => 'split inside the field name', vhost => 'proto_defer',
      writes => ["${req_echo}Ex", "pect: 100-con", "tinue\r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { expect => '100-continue', bytes => 3 } },
    { name => 'split right after the field name', vhost => 'proto_defer',
      writes => ["${req_file}Expect", ": x-unknown\r\n\r\n"], code => 417,
      json => { unmet => ['x-unknown'] }, next => 1 },
    { name => 'split between CR and LF', vhost => 'proto_defer',
      writes => ["${req_file}Expect: x-unknown\r", "\n\r\n"], code => 417,
      json => { unmet => ['x-unknown'] }, next => 1 },
    { name => 'split before an obs-fold continuation', vhost => 'proto_defer',
      writes => ["${req_file}Expect: 100-continue\r\n", " , x-foo\r\n\r\n"], code => 417,
      json => { expect => '100-continue , x-foo' } },
    { name => 'split before an ordinary line after Expect', vhost => 'proto_defer',
      writes => ["${req_echo}Expect: 100-continue\r\n", "Content-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200, json => { bytes => 3 } },
    { name => 'split inside the final empty line', vhost => 'proto_defer',
      writes => ["${req_echo}Content-Length: 3\r\nExpect: 100-continue\r\n\r", "\n"],
      after100 => 'abc', code => 200, json => { bytes => 3 } },
    { name => 'header block in 9-byte writes', vhost => 'proto_allow',
      writes => [unpack '(a9)*', "${req_echo}Expect: 100-continue, x-trace\r\n"
                                 . "X-F: a\r\n b\r\nContent-Length: 3\r\n\r\n"],
      after100 => 'abc', code => 200,
      json => { expect => '100-continue, x-trace', bytes => 3 },
      env => { HTTP_X_F => 'a b' } },

    # --- Unsafe (proto_unsafe): hostile bytes reach the field ---
    { name => 'Unsafe: control byte 0x01 (stock Unsafe: 417)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\x01b\r\n\r\n"], code => 417,
      json => { expect => "a\x01b", unmet => ["a\x01b"] }, ascii => 1, next => 1 },
    { name => 'Unsafe: ESC, DEL and bytes >= 0x80 (stock Unsafe: 417)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\x1b[2Jb\x7f\x80\xff\r\n\r\n"], code => 417,
      json => { expect => "a\x1b[2Jb\x7f\x80\xff" }, ascii => 1, next => 1 },
    { name => 'Unsafe: quote, backslash and a control byte', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: x=\"a\\\"b\x08\", y\\\r\n\r\n"], code => 417,
      json => { expect => "x=\"a\\\"b\x08\", y\\" }, ascii => 1, next => 1 },
    { name => 'Unsafe: VT in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\x0bX-Injected: 1\r\n\r\n"], code => 400 },
    { name => 'Unsafe: FF in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\x0cb\r\n\r\n"], code => 400 },
    { name => 'Unsafe: NUL in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\x00b\r\n\r\n"], code => 400 },
    { name => 'Unsafe: bare CR in Expect (stock Unsafe: 400)', vhost => 'proto_unsafe',
      writes => ["${req_file}Expect: a\rX-Injected: 1\r\n\r\n"], code => 400 },
    { name => 'Unsafe: bare LF line ends (stock Unsafe: accepted)', vhost => 'proto_unsafe',
      writes => ["GET /proto/index.txt HTTP/1.1\nHost: localhost\nExpect: x-unknown\n\n"],
      code => 417, json => { unmet => ['x-unknown'] } },
    { name => 'Unsafe: malformed member, body sent at once, pipelined request', vhost => 'proto_unsafe',
      writes => ["${req_echo}Expect: x-odd\x01\r\nContent-Length: 3\r\n\r\nabc"],
      code => 417, ascii => 1, next => 1 },
    # A member that looks like 100-continue but is not (here a control byte
    # after it): the client may be holding its body back, so the connection
    # is closed rather than the body read.
    { name => 'Unsafe: malformed 100-continue, body not read', vhost => 'proto_unsafe',
      writes => ["${req_echo}Expect: 100-continue\x01\r\nContent-Length: $smuggled_len\r\n\r\n"],
      code => 417, ascii => 1, closed => 1 },
    { name => 'Unsafe: 100-continue beside a hostile member, body not sent', vhost => 'proto_unsafe',
      writes => ["${req_echo}Expect: 100-continue, x\x01\x1b\r\nContent-Length: $smuggled_len\r\n\r\n"],
      code => 417, json => { unmet => ["x\x01\x1b"] }, ascii => 1, closed => 1 },
);

my $total = 0;
for my $row (@rows) {
    $total += 1 + ($row->{after100} ? 1 : 0)
            + keys(%{ $row->{json} || {} }) + keys(%{ $row->{env} || {} })
            + ($row->{ascii} ? 2 : 0) + ($row->{closed} ? 2 : 0) + ($row->{next} ? 2 : 0);
}

plan tests => $total, need_module('expect'), need_cgi;

for my $row (@rows) {
    my $what = $row->{name};
    my $c = ExpectConn->new($row->{vhost});
    $c->send(@{ $row->{writes} });
    print '# sent: ', ExpectConn::escape(join '', @{ $row->{writes} }), "\n";

    my ($res, @interim);
    if (defined $row->{after100}) {
        my $first = $c->response;
        is $first && $first->code, 100, "$what: 100 Continue before the body";
        $c->send($row->{after100});
    }
    ($res, @interim) = $c->final;
    print '# got: ', ExpectConn::escape($res ? $res->{expect_raw_head} : '(nothing)'), "\n";
    is $res && $res->code, $row->{code}, "$what: $row->{code}";

    my $doc = {};
    if ($res && ($res->header('Content-Type') // '') =~ /json/) {
        $doc = eval { JSON::PP->new->decode($res->content) } || {};
    }
    for my $key (sort keys %{ $row->{json} || {} }) {
        my $want = $row->{json}{$key};
        if (ref $want) {
            is_deeply $doc->{$key}, $want, "$what: JSON $key";
        } else {
            is $doc->{$key}, $want, "$what: JSON $key";
        }
    }
    for my $var (sort keys %{ $row->{env} || {} }) {
        is $doc->{env}{$var}, $row->{env}{$var}, "$what: handler's $var";
    }
    if ($row->{ascii}) {
        like $res ? $res->{expect_raw_head} : "\0", qr/\A[\x20-\x7e\r\n]*\z/,
            "$what: response header block is printable ASCII";
        like $res ? $res->content : "\0", qr/\A[\x20-\x7e\r\n\t]*\z/,
            "$what: response body is printable ASCII";
    }
    if ($row->{closed}) {
        $c->send($smuggled);
        is ExpectConn::escape($c->rest), '', "$what: bytes sent afterwards are not answered";
        ok $c->{eof}, "$what: the server closed the connection";
    }
    if ($row->{next}) {
        $c->send("GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
        my ($n) = $c->final;
        is $n && $n->code, 200, "$what: next request on the connection answered";
        is $n && $n->content, "hello\n", "$what: ... with its own response";
    }
}
