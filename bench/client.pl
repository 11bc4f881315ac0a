#!/usr/bin/perl
# bench/client.pl: a tiny HTTP/1.x client for the callgrind measurement and
# for the status checks of bench/run.sh.
#
#   bench/client.pl PORT CASE COUNT [TIMEOUT]
#
# CASE names a request file, bench/requests/CASE.txt (get, post, xfoo,
# continue, ab, browser; see bench/requests/README.md), or is the path of
# one.  The file holds the request line and the header lines, one a line;
# each is sent with CRLF, then the empty line that ends the head, then, when
# the head has a Content-Length of N, a body of N bytes "x".  wrk sends the
# same bytes (bench/wrk.lua reads the same file).
#
# Sends COUNT such requests one after the other over ONE keep-alive
# connection to 127.0.0.1:PORT, opening a new connection only when the
# server closes the one it has.  Bounded: at most COUNT requests, at most
# TIMEOUT seconds (default 600).  Prints one line:
#   statuses=100:N,200:N,... connections=N closes=N type=CONTENT-TYPE
# and exits non-zero on a protocol error or the time limit.
#   bench/client.pl --print CASE    prints the request's bytes instead
use strict;
use warnings;
use File::Basename qw(dirname);
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);

# The bytes of one request from its file (see above).
sub request_bytes {
    my ($case) = @_;
    my $file = $case =~ m{/} ? $case : dirname(__FILE__) . "/requests/$case.txt";
    open my $fh, '<', $file or die "$0: no request file for '$case' ($file): $!\n";
    my @lines = map { s/\r?\n\z//r } <$fh>;
    close $fh;
    pop @lines while @lines && $lines[-1] eq '';
    die "$0: $file: empty\n" unless @lines;
    die "$0: $file: an empty line inside the head\n" if grep { $_ eq '' } @lines;
    my $req = join('', map { "$_\r\n" } @lines) . "\r\n";
    my ($len) = map { /^Content-Length:\s*(\d+)\s*$/i ? $1 : () } @lines[1 .. $#lines];
    $req .= 'x' x $len if $len;
    return $req;
}

if (@ARGV == 2 && $ARGV[0] eq '--print') {
    binmode STDOUT;
    print request_bytes($ARGV[1]);
    exit 0;
}

my ($port, $scenario, $count, $timeout) = @ARGV;
die "usage: $0 PORT CASE COUNT [TIMEOUT]\n       $0 --print CASE\n"
    unless defined $count && $count =~ /^\d+$/ && $port =~ /^\d+$/;
$timeout ||= 600;
my $req = request_bytes($scenario);

local $SIG{ALRM} = sub { die "$0: time limit of $timeout s reached\n" };
alarm $timeout;

my ($sock, $buf, %status);
my ($connections, $closes) = (0, 0);

sub connect_server {
    $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp')
        or die "$0: cannot connect to 127.0.0.1:$port: $!\n";
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    $buf = '';
    $connections++;
}

# Read until $buf holds at least $n bytes; false at end of stream.
sub fill {
    my ($n) = @_;
    while (length($buf) < $n) {
        my $got = sysread($sock, $buf, 65536, length $buf);
        die "$0: read: $!\n" unless defined $got;
        return 0 if $got == 0;
    }
    return 1;
}

# One response head; returns (status, content-length, close?) or () at EOF.
sub read_head {
    my $end;
    while (($end = index($buf, "\r\n\r\n")) < 0) {
        my $got = sysread($sock, $buf, 65536, length $buf);
        $got = 0 if !defined $got && !length $buf;    # reset by the peer
        die "$0: read: $!\n" unless defined $got;
        if ($got == 0) {
            die "$0: connection closed inside a response head\n" if length $buf;
            return ();
        }
    }
    my $head = substr($buf, 0, $end + 4, '');
    my ($code) = $head =~ m{^HTTP/1\.\d (\d{3})} or die "$0: bad status line\n";
    my ($len) = $head =~ /\r\nContent-Length:\s*(\d+)/i;
    my $close = $head =~ /\r\nConnection:[^\r]*\bclose\b/i ? 1 : 0;
    my ($ctype) = $head =~ /\r\nContent-Type:\s*([^;\r]+)/i;
    return ($code, $len || 0, $close, $ctype || '-');
}

$SIG{PIPE} = 'IGNORE';
my $type = '-';
connect_server();
for (my $i = 0; $i < $count; $i++) {
    my @head;
    for my $try (1, 2) {
        # A server that dropped the connection after the previous response
        # without saying so shows up here as a failed write or an empty
        # read: count the close and send the request again, once.
        last if (print {$sock} $req) && (@head = read_head());
        die "$0: connection closed before a response\n" if $try == 2;
        $closes++;
        close $sock;
        connect_server();
    }
    while ($head[0] < 200) {            # interim responses (100 Continue)
        $status{$head[0]}++;
        @head = read_head() or die "$0: connection closed after a 1xx\n";
    }
    my ($code, $len, $close, $ctype) = @head;
    $status{$code}++;
    $type = $ctype;
    fill($len) or die "$0: connection closed inside a body\n";
    substr($buf, 0, $len, '');
    # A server that drops the connection after a response (stock httpd
    # after a 417) may not say "Connection: close": peek for the end.
    if (!$close) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        if (!length $buf && select(my $rout = $rin, undef, undef, 0) > 0) {
            my $got = sysread($sock, $buf, 65536, length $buf);
            $close = 1 if defined $got && $got == 0;
        }
    }
    if ($close) {
        $closes++;
        close $sock;
        connect_server() if $i + 1 < $count;
    }
}
alarm 0;
close $sock;
printf "statuses=%s connections=%d closes=%d type=%s\n",
    join(',', map { "$_:$status{$_}" } sort keys %status), $connections,
    $closes, $type;
