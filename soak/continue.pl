#!/usr/bin/perl
# The 100-continue upload client of `make soak`.
#
#   soak/continue.pl PORT WORKERS REQUESTS
#
# WORKERS processes share REQUESTS uploads. Each keeps one connection open
# and, for every upload, sends the headers with "Expect: 100-continue",
# waits for "HTTP/1.1 100 Continue" before it sends the body, then reads the
# final response and checks it is 200 with the file httpd answers (the
# default handler discards the body; a body not consumed to its exact end
# would break the next upload on the same connection). Prints
#   SOAK class=continue responses=<n> status_200=<n> ... errors=<n> bad_100=<n>
# "bad_100" counts uploads whose first answer was not a 100 Continue, and
# "errors" connections that failed or answers that did not match.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY);

my ($port, $workers, $total) = @ARGV;
die "usage: $0 PORT WORKERS REQUESTS\n" unless $total;
$SIG{PIPE} = 'IGNORE';

my $guard = 30;     # seconds a read may wait before the upload counts as failed

sub read_head {
    my ($sock, $buf) = @_;
    my $sel = IO::Select->new($sock);
    while ((my $end = index $$buf, "\r\n\r\n") < 0) {
        return undef unless $sel->can_read($guard);
        my $n = sysread $sock, $$buf, 65536, length $$buf;
        return undef unless $n;
    }
    my $end = index $$buf, "\r\n\r\n";
    return substr $$buf, 0, $end + 4, '';
}

sub read_body {
    my ($sock, $buf, $len) = @_;
    my $sel = IO::Select->new($sock);
    while (length $$buf < $len) {
        return undef unless $sel->can_read($guard);
        my $n = sysread $sock, $$buf, 65536, length $$buf;
        return undef unless $n;
    }
    return substr $$buf, 0, $len, '';
}

sub connect_to {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp') or return undef;
    setsockopt $s, IPPROTO_TCP, TCP_NODELAY, 1;
    binmode $s;
    return $s;
}

sub worker {
    my ($count, $seed) = @_;
    my %st = (responses => 0, errors => 0, bad_100 => 0);
    my ($sock, $buf);
    for my $i (1 .. $count) {
        if (!$sock) {
            $sock = connect_to() or do { $st{errors}++; next };
            $buf = '';
        }
        my $size = 1 + ($seed * 7919 + $i * 104729) % 8192;
        my $head = "POST /index.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 . "Expect: 100-continue\r\nContent-Type: application/octet-stream\r\n"
                 . "Content-Length: $size\r\n\r\n";
        unless (syswrite($sock, $head) == length $head) {
            $st{errors}++; undef $sock; next;
        }
        my $interim = read_head($sock, \$buf);
        if (!defined $interim) { $st{errors}++; undef $sock; next }
        unless ($interim =~ m{^HTTP/1\.1 100 }) {
            $st{bad_100}++;
            undef $sock;
            next;
        }
        my $body = 'u' x $size;
        unless (syswrite($sock, $body) == $size) {
            $st{errors}++; undef $sock; next;
        }
        my $final = read_head($sock, \$buf);
        if (!defined $final) { $st{errors}++; undef $sock; next }
        my ($code) = $final =~ m{^HTTP/1\.1 (\d{3}) };
        my ($len) = $final =~ m{\r\nContent-Length: (\d+)\r\n}i;
        my $content;
        if (defined $len) {
            $content = read_body($sock, \$buf, $len);
        }
        elsif ($final =~ m{\r\nTransfer-Encoding: chunked\r\n}i) {
            # one chunk then the last chunk: what mod_lua sends for r:puts
            $content = '';
            while (1) {
                my $line;
                until (($line = index $buf, "\r\n") >= 0) {
                    my $n = IO::Select->new($sock)->can_read($guard)
                            && sysread $sock, $buf, 65536, length $buf;
                    last unless $n;
                }
                last if $line < 0;
                my $sz = hex substr $buf, 0, $line + 2, '';
                my $data = read_body($sock, \$buf, $sz + 2);
                last unless defined $data;
                if ($sz == 0) { last }
                $content .= substr $data, 0, $sz;
            }
        }
        $st{responses}++;
        $st{"status_" . ($code // 'none')}++;
        unless (defined $code && $code == 200 && defined $content
                && $content eq "hello\n") {
            $st{errors}++;
            undef $sock;
            next;
        }
        undef $sock if $final =~ m{\r\nConnection: close\r\n}i;
    }
    return \%st;
}

# Fork the workers; each reports its counts on a pipe.
my @kids;
my $share = int($total / $workers);
for my $w (1 .. $workers) {
    my $count = $w == $workers ? $total - $share * ($workers - 1) : $share;
    pipe my $r, my $wr or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $r;
        my $st = worker($count, $w);
        print $wr join(' ', map { "$_=$st->{$_}" } sort keys %$st), "\n";
        close $wr;
        exit 0;
    }
    close $wr;
    push @kids, [$pid, $r];
}
my %sum;
for my $k (@kids) {
    my ($pid, $r) = @$k;
    my $line = <$r> // '';
    waitpid $pid, 0;
    for (split ' ', $line) {
        my ($key, $v) = split /=/;
        $sum{$key} += $v;
    }
}
$sum{$_} //= 0 for qw(responses errors bad_100);
print "SOAK class=continue responses=$sum{responses}",
      (map { " $_=$sum{$_}" } grep { /^status_/ } sort keys %sum),
      " errors=$sum{errors} bad_100=$sum{bad_100}\n";
