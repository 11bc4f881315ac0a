# Desync and request smuggling around Expect: a table of raw-socket cases.
#
# Each row is sent on a fresh connection to one of the ds_* hosts
# (t/conf/desync.conf.in) as a list of steps: a byte string is one write, a
# list of byte strings is several writes with a short pause between them,
# READ reads the next response (interim or final; READ_HEAD: the response
# to a HEAD request). A row gives the status of every response it reads,
# and whether the connection must then stay open or be closed:
#   open  - a last request (GET /proto/index.txt, Connection: close) is sent
#           and must be answered 200 "hello": the connection is still in
#           step, nothing in between was taken for a request;
#   close - the server closes without sending anything more.
# Every body, and every byte sent after a request the server may refuse to
# read, is itself a request for /smuggled-<row>; none may ever be answered
# (any extra response fails the row's status list), and at the end the
# access log must hold no request for /smuggled.
#
# The comment on each row is what stock httpd 2.4.71 answers without
# mod_expect (same vhost settings, measured on a scratch server).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient qw(escape);
use ExpectTable;
use ExpectRelease qw(stock_keeps_cl_te);

# Framing that httpd itself decides, and decided differently before 2.4.44.
my $framing = stock_keeps_cl_te();

my $N = 0;
sub smuggled {
    my $n = shift // ++$N;
    return "GET /smuggled-$n HTTP/1.1\r\nHost: x\r\n\r\n";
}
sub chunked {
    my $data = join '', @_;
    return sprintf("%x\r\n%s\r\n", length $data, $data);
}
# the header block of a POST of $body to echo.pl, with $head's fields
sub post_head {
    my ($head, $body) = @_;
    return "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\n$head"
         . "Content-Length: " . length($body) . "\r\n\r\n";
}
my $index = "GET /proto/index.txt HTTP/1.1\r\nHost: x\r\n\r\n";
my $S1 = smuggled();

# ---- the table -----------------------------------------------------------
# row(name => ..., vhost => ..., expect => [statuses], close => 0|1,
#     like => qr/first final response's body/, steps => [...],
#     skip => reason or undef): one case
my @cases;
sub row {
    my %row = @_;
    push @cases, { name => "$row{name} [$row{vhost}]", vhost => $row{vhost},
                   skip => $row{skip},
                   steps => $row{steps},
                   want => { wire => { read => $row{expect}, close => $row{close},
                                       like => $row{like} } } };
}

## Content-Length and Transfer-Encoding together: httpd drops the
## Content-Length, reads the chunked body and closes after the response.
row name => 'CL+TE, 100-continue: body after the 100',
    vhost => 'ds_strict', expect => [100, 200], close => 1, skip => $framing,
    # stock: 100, 200, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
              READ, chunked(smuggled()) . "0\r\n\r\n" . smuggled(), READ];
row name => 'CL+TE, unknown expectation, body at once',
    vhost => 'ds_strict', expect => [417], close => 1, skip => $framing,
    # stock: 417, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
              . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              . chunked(smuggled()) . "0\r\n\r\n" . smuggled(), READ];
row name => 'CL+TE, Content-Length covering a smuggled request',
    vhost => 'ds_strict', expect => [417], close => 1, skip => $framing,
    # stock: 417, closed
    steps => [do { my $b = "0\r\n\r\n" . smuggled();
                   "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
                   . "Content-Length: " . length($b) . "\r\n"
                   . "Transfer-Encoding: chunked\r\n\r\n$b" }, READ];
row name => 'CL+TE, 100-continue refused, body sent anyway',
    vhost => 'ds_reject', expect => [417], close => 1,
    # stock: (no ExpectContinue Reject) 100, 200, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              . "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
              . chunked(smuggled()) . "0\r\n\r\n" . smuggled(), READ];
row name => 'TE gzip + CL, 100-continue: 400 and no 100',
    vhost => 'ds_strict', expect => [400], close => 1,
    # stock: 400, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              . "Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n"
              . smuggled(), READ];
row name => 'two Content-Length values with Expect',
    vhost => 'ds_strict', expect => [400], close => 1, skip => $framing,
    # stock: 400, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
              . "Content-Length: 5\r\nContent-Length: 40\r\n\r\n" . smuggled(),
              READ];

## Chunked bodies with a trailer named Expect: a trailer is no header of a
## new request and is not judged.
row name => 'trailer Expect: x-bad after a chunked body',
    vhost => 'ds_strict', expect => [200], close => 0, like => qr/"expect":null/,
    # stock: 200, open
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              . chunked(smuggled()) . "0\r\nExpect: x-bad\r\n\r\n", READ];
row name => 'trailer Expect: 100-continue after a 100-continue body',
    vhost => 'ds_strict', expect => [100, 200], close => 0,
    like => qr/"expect":"100-continue"/,
    # stock: 100, 200, open
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              . "Transfer-Encoding: chunked\r\n\r\n", READ,
              chunked(smuggled()) . "0\r\nExpect: 100-continue\r\nExpect: x-bad\r\n\r\n",
              READ];
row name => 'trailer Expect where 100-continue is refused',
    vhost => 'ds_reject', expect => [200], close => 0,
    # stock: 200, open
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              . chunked(smuggled()) . "0\r\nExpect: 100-continue\r\n\r\n", READ];
row name => 'trailer Expect, then a pipelined request with Expect: x-bad',
    vhost => 'ds_strict', expect => [200, 417], close => 0,
    # stock: 200, 417, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              . chunked(smuggled()) . "0\r\nExpect: x-trace\r\n\r\n"
              . "GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n\r\n",
              READ, READ];

## A refused request whose chunked body ends in a trailer section httpd
## cannot read (a line without a colon): the 417 stays, and the connection
## closes; what follows is never taken for a request.
row name => 'unreadable trailer section after a refused expectation',
    vhost => 'ds_strict', expect => [417], close => 1, like => qr/"unmet":\["x-bad"\]/,
    # stock: 417 (HTML), closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
              . "Transfer-Encoding: chunked\r\n\r\n"
              . chunked('abc') . "0\r\nno colon here\r\n\r\n" . smuggled(), READ];

## Pipelined requests behind 417s.
row name => '417 without 100-continue: body read, next request answered',
    vhost => 'ds_strict', expect => [417, 200], close => 0,
    # stock: 417, closed (the pipelined request is lost)
    steps => [post_head("Expect: x-bad\r\n", $S1) . $S1 . $index, READ, READ];
row name => 'three 417s in a row, then a request',
    vhost => 'ds_strict', expect => [417, 417, 417, 200], close => 0,
    # stock: 417, closed
    steps => [join('', map { my $s = smuggled(); post_head("Expect: x-bad-$_\r\n", $s) . $s } 1 .. 3)
              . $index, READ, READ, READ, READ];
row name => '417 on a chunked body, next request answered',
    vhost => 'ds_strict', expect => [417, 200], close => 0,
    # stock: 417, closed
    steps => ["POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
              . "Transfer-Encoding: chunked\r\n\r\n" . chunked(smuggled())
              . chunked(smuggled()) . "0\r\n\r\n" . $index, READ, READ];
row name => '417 to a HEAD, next request answered',
    vhost => 'ds_strict', expect => [417, 200], close => 0,
    # stock: 417, closed
    steps => ["HEAD /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n\r\n"
              . $index, READ_HEAD, READ];
row name => '417 with 100-continue refused: body sent anyway is never parsed',
    vhost => 'ds_reject', expect => [417], close => 1,
    # stock: (no Reject) 100, 200, open
    steps => [do { my $s = smuggled(); post_head("Expect: 100-continue\r\n", $s) . $s . smuggled() },
              READ];
row name => '417 with 100-continue refused: body held back',
    vhost => 'ds_reject', expect => [417], close => 1,
    # stock: (no Reject) 100, 200, open
    steps => [post_head("Expect: 100-continue\r\n", $S1), READ, $S1 . smuggled()];
row name => '417 for 100-continue plus unknown, body sent anyway',
    vhost => 'ds_strict', expect => [417], close => 1,
    # stock: 417, closed
    steps => [do { my $s = smuggled(); post_head("Expect: 100-continue, x-bad\r\n", $s) . $s . $index },
              READ];
row name => '417 for 100-continue plus unknown, body held back',
    vhost => 'ds_strict', expect => [417], close => 1,
    # stock: no answer until the body arrives (httpd reads it first), then 417, closed
    steps => [post_head("Expect: 100-continue, x-bad\r\n", $S1), READ, $S1 . $index];
row name => '100-continue honoured, then a 417 pipelined behind the body',
    vhost => 'ds_strict', expect => [100, 200, 417, 200], close => 0,
    # stock: 100, 200, 417, closed
    steps => [post_head("Expect: 100-continue\r\n", $S1), READ,
              $S1 . post_head("Expect: x-bad\r\n", $S1) . $S1 . $index, READ, READ, READ];
row name => 'bodiless 100-continue, pipelined request answered',
    vhost => 'ds_strict', expect => [200, 200], close => 0,
    # stock: 200, closed (stock closes after a bodiless 100-continue)
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n"
              . $index, READ, READ];

## obs-fold: a continuation line belongs to the field above it.
row name => 'obs-fold continues an Expect line (Strict)',
    vhost => 'ds_strict', expect => [200], close => 0,
    # stock: 417, closed (Strict still unfolds obs-fold in request headers)
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-trace,\r\n 100-continue\r\n\r\n",
              READ];
row name => 'obs-fold continues an Expect line (Unsafe)',
    vhost => 'ds_unsafe', expect => [200], close => 0,
    # stock: 417, closed
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-trace,\r\n 100-continue\r\n\r\n",
              READ];
row name => 'obs-fold: a folded "Expect:" is part of another field (Unsafe)',
    vhost => 'ds_unsafe', expect => [200], close => 0, like => qr/"expect":null/,
    # stock: 200, open
    steps => [do { my $s = smuggled();
                   "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nX-Foo: a\r\n Expect: x-bad\r\n"
                   . "Content-Length: " . length($s) . "\r\n\r\n$s" }, READ];
row name => 'obs-fold: folded unknown member after a good one (Unsafe)',
    vhost => 'ds_unsafe', expect => [417, 200], close => 0,
    # stock: 417, closed
    steps => [do { my $s = smuggled();
                   "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-trace\r\n\tx-bad\r\n"
                   . "Content-Length: " . length($s) . "\r\n\r\n$s$index" }, READ, READ];
row name => 'obs-fold: an empty Expect line continued by 100-continue (Unsafe)',
    vhost => 'ds_unsafe', expect => [100, 200], close => 0,
    # stock: 100, 200, open
    steps => [post_head("Expect:\r\n 100-continue\r\n", $S1), READ, $S1, READ];

## NUL, bare CR, bare LF and bytes >= 0x80 in Expect: the status stock
## httpd gives, under Strict and under Unsafe.
for my $v (['ds_strict', 'Strict'], ['ds_unsafe', 'Unsafe']) {
    my ($vhost, $mode) = @$v;
    my $unsafe = $mode eq 'Unsafe';
    row name => "NUL in Expect ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-a\0b\r\n\r\n"
                  . smuggled(), READ];
    row name => "NUL after 100-continue ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\0\r\n\r\n"
                  . smuggled(), READ];
    row name => "bare CR inside Expect ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-a\rHost: y\r\n\r\n"
                  . smuggled(), READ];
    row name => "bare CR ending the Expect line ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\r\n\r\n"
                  . smuggled(), READ];
    row name => "bare LF ending the Expect line ($mode)", vhost => $vhost,
        expect => [$unsafe ? 200 : 400], close => !$unsafe,
        # stock: Strict 400, closed; Unsafe 200 (then closed: bodiless 100-continue)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\n\r\n"
                  . ($unsafe ? '' : smuggled()), READ];
    row name => "bare LF ending an unknown Expect line ($mode)", vhost => $vhost,
        expect => [$unsafe ? 417 : 400], close => !$unsafe,
        # stock: Strict 400; Unsafe 417; closed
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-bad\n\r\n"
                  . ($unsafe ? '' : smuggled()), READ];
    row name => "bare LF splitting \"Expect\" from its value ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect\n: 100-continue\r\n\r\n"
                  . smuggled(), READ];
    row name => "bytes >= 0x80 in Expect ($mode)", vhost => $vhost,
        expect => [417, 200], close => 0,
        # stock: 417, closed
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-\xe9\xff\x80\r\n\r\n"
                  . $index, READ, READ];
    row name => "bytes >= 0x80 after 100-continue ($mode)", vhost => $vhost,
        expect => [417], close => 1,
        # stock: no answer until the body arrives, then 417, closed
        steps => [post_head("Expect: 100-continue\xa0\r\n", $S1), READ, $S1];
    row name => "control byte 0x01 in Expect ($mode)", vhost => $vhost,
        expect => [$unsafe ? 417 : 400], close => 1,
        # stock: Strict 400; Unsafe 417; closed
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: x-\x01\r\n\r\n"
                  . ($unsafe ? '' : smuggled()), READ];
}

## Whitespace around the name: httpd refuses "Expect :" in both modes, so
## the field can neither slip past the module nor reach httpd's own check.
for my $v (['ds_strict', 'Strict'], ['ds_unsafe', 'Unsafe']) {
    my ($vhost, $mode) = @$v;
    row name => "space before the colon ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect : x-trace\r\n\r\n"
                  . smuggled(), READ];
    row name => "tab before the colon ($mode)", vhost => $vhost,
        expect => [400], close => 1,
        # stock: 400, closed (Strict and Unsafe)
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect\t: x-trace\r\n\r\n"
                  . smuggled(), READ];
    row name => "no space after the colon, tabs around the value ($mode)", vhost => $vhost,
        expect => [417, 200], close => 0,
        # stock: 417, closed
        steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect:\tx-bad\t\r\n\r\n"
                  . $index, READ, READ];
}

## 10 000 list members inside LimitRequestFieldSize (raised in ds_bigfield).
row name => '10 000 x 100-continue (duplicates count once)',
    vhost => 'ds_bigfield', expect => [100, 200], close => 0,
    like => qr/"expect":"100-continue"/,
    # stock: no answer until the body arrives, then 417, closed
    steps => [post_head("Expect: " . join(',', ('100-continue') x 10000) . "\r\n", $S1),
              READ, $S1, READ];
row name => '10 000 distinct unknown members',
    vhost => 'ds_bigfield', expect => [417, 200], close => 0,
    like => qr/"unmet":\["m00001","m00002",.*"m10000"\]/s,
    # stock: 417, closed
    steps => [do { my $s = smuggled();
                   post_head("Expect: " . join(', ', map { sprintf 'm%05d', $_ } 1 .. 10000) . "\r\n", $s)
                   . $s . $index }, READ, READ];
row name => '10 000 members over 8 lines of one request',
    vhost => 'ds_bigfield', expect => [100, 200], close => 0,
    # stock: no answer until the body arrives, then 417, closed
    steps => [post_head(join('', map { "Expect: " . join(',', ('100-continue') x 1250) . "\r\n" } 1 .. 8),
                   $S1), READ, $S1, READ];
row name => 'Expect line over LimitRequestFieldSize',
    vhost => 'ds_fieldsize', expect => [400], close => 1,
    # stock: 400, closed
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: " . join(',', ('100-continue') x 20)
              . "\r\n\r\n" . smuggled(), READ];
row name => 'Expect line just inside LimitRequestFieldSize',
    vhost => 'ds_fieldsize', expect => [417, 200], close => 0,
    # stock: 417, closed
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nExpect: " . ('x' x (200 - 8))
              . "\r\n\r\n" . $index, READ, READ];

## LimitRequestFields (10 in ds_fields) reached through Expect lines.
row name => 'Host, Content-Length and 8 Expect lines: at the limit',
    vhost => 'ds_fields', expect => [100, 200], close => 0,
    like => qr/"expect":"100-continue, x-trace"/,
    # stock: no answer until the body arrives, then 417 (several Expect lines), closed
    steps => [post_head(join('', map { "Expect: " . ($_ % 2 ? '100-continue' : 'x-trace') . "\r\n" } 1 .. 8), $S1),
              READ, $S1, READ];
row name => 'Host + 10 Expect lines: over the limit',
    vhost => 'ds_fields', expect => [400], close => 1,
    # stock: 400, closed
    steps => ["GET /proto/index.txt HTTP/1.1\r\nHost: x\r\n"
              . ("Expect: 100-continue\r\n" x 10) . "\r\n" . smuggled(), READ];
row name => 'Host, Content-Length and 11 Expect lines, body sent: over the limit',
    vhost => 'ds_fields', expect => [400], close => 1,
    # stock: 400, closed
    steps => [post_head("Expect: x-trace\r\n" x 11, $S1) . $S1, READ];

# ---- split writes at every byte offset of the header block ---------------
# The module finds "Expect:" at the start of a header line even when the
# line arrives in pieces. Each header block is sent as two writes, split at
# every offset in turn (TCP_NODELAY, a 0.1 s pause between the writes).
# stock: 417, closed for both (the first only once its body has arrived).
my $split_continue = "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\n"
    . "Expect: 100-continue, x-trace\r\nContent-Length: " . length($S1) . "\r\n\r\n";
my $split_unknown = "POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\nExpect: x-bad\r\n"
    . "Content-Length: " . length($S1) . "\r\n\r\n";
my @split;
for my $at (1 .. length($split_continue) - 1) {
    push @split, { name => "100-continue, x-trace split at byte $at",
                   vhost => 'ds_strict',
                   want => { wire => { read => [100, 200], close => 0 } },
                   steps => [[substr($split_continue, 0, $at),
                              substr($split_continue, $at)], READ, $S1, READ] };
}
for my $at (1 .. length($split_unknown) - 1) {
    push @split, { name => "x-bad split at byte $at",
                   vhost => 'ds_strict',
                   want => { wire => { read => [417, 200], close => 0 } },
                   steps => [[substr($split_unknown, 0, $at),
                              substr($split_unknown, $at) . $S1 . $index], READ, READ] };
}

# The split rows are many; one assertion per header block, naming every
# offset that failed.
for my $kind ('100-continue, x-trace', 'x-bad') {
    my @rows = grep { index($_->{name}, "$kind split") == 0 } @split;
    push @cases, { name => "$kind: Expect found at every one of " . scalar(@rows)
                           . ' split offsets',
                   run => sub { return { bad => [ map { ExpectTable::failures($_) } @rows ],
                                         rows => scalar @rows } },
                   want => { every_offset => 1 } };
}

# No body byte was ever taken for a request.
push @cases, { name => 'no body byte was taken for a request',
               run => sub {
                   my $log = Apache::Test::vars('t_logs') . '/access_log';
                   open my $fh, '<', $log or die "cannot read $log: $!";
                   return { smuggled => [ grep { m{/smuggled} } <$fh> ] };
               },
               want => { no_smuggled => 1 } };

# ---- the checks ----------------------------------------------------------

# wire => { read => [statuses], close => 0|1, like => qr// }: every response
# read has its status (a missing one is "none"), and then the connection
#   open  - a last request (GET /proto/index.txt, Connection: close) is
#           answered 200 "hello" and the connection then closes;
#   close - the server closes without sending anything more;
# and the first final response's body matches `like`.
my $probe = "GET /proto/index.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
define wire => sub {
    my $w = shift;
    my @want = (@{ $w->{read} }, $w->{close} ? () : 200);
    my $then = $w->{close} ? 'closed' : 'open';
    return { label => join(' ', @{ $w->{read} }) . ", $then",
             want => "@want ($then)",
             got => sub {
                 my $r = shift;
                 my $c = $r->{conn};
                 my @got = map { $_ ? $_->code // 'unparsable' : 'none' } @{ $r->{reads} };
                 my $how;
                 if ($w->{close}) {
                     $how = $c->closed ? 'closed' : 'open';
                     # whatever came instead of the close (a smuggled request's answer)
                     push @got, 'bytes: ' . escape(substr($c->rest, 0, 200)) if $how eq 'open';
                 }
                 else {
                     $c->send($probe);
                     my $p = $c->response;
                     push @got, $p ? $p->code // 'unparsable' : 'none';
                     $how = $p && $p->content eq "hello\n" && $c->closed ? 'open' : 'desync';
                 }
                 my $got = "@got ($how)";
                 my $body = $r->{res}->content // '';
                 $got .= '; body: ' . escape(substr $body, 0, 300)
                     if $w->{like} && $body !~ $w->{like};
                 return $got;
             } };
}, late => 1;
define every_offset => sub {
    return { label => 'every offset', want => 1, cmp => 'ok',
             got => sub { !@{ $_[0]{bad} } && $_[0]{rows} > 40 },
             diag => sub { join "\n", @{ $_[0]{bad} } } };
};
define no_smuggled => sub {
    return { label => 'the access log holds no request for /smuggled', want => 1, cmp => 'ok',
             got => sub { !@{ $_[0]{smuggled} } },
             diag => sub { my @s = @{ $_[0]{smuggled} };
                           join '', @s[0 .. ($#s < 4 ? $#s : 4)] } };
};

# ---- running ------------------------------------------------------------
plan tests => count_checks(@cases), need(need_module('expect'), need_cgi);

run_cases(@cases);
