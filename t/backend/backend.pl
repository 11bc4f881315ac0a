#!/usr/bin/perl
# A small HTTP/1.1 origin server for t/proxy.t: it stands behind httpd's
# ProxyPass and records what reaches it.
#
#   backend.pl --port N --record FILE [--lifetime S] [--idle S]
#
# * Listens on 127.0.0.1:N (N = 0: a free port of the system's choice) and
#   prints "listening 127.0.0.1:PORT" on stdout once it accepts connections.
# * Never sends 100 Continue, whatever the request's Expect says: it reads
#   the request body straight away, the way many application servers and
#   older backends do.
# * For every request it appends one JSON line to FILE:
#     {"method":..., "uri":..., "protocol":..., "headers":[[name,value],...],
#      "expect":"..."|null, "test_id":X-Test-Id|null,
#      "content_length":"..."|null, "chunked":0|1,
#      "bytes":N, "md5":hex, "complete":0|1}
#   ("expect" joins every Expect line with ", "; "complete" says whether the
#   whole announced body arrived) and answers with the same JSON, with
#   Connection: close: 200, or 408 when the body stopped short. One
#   connection at a time.
# * The value of each request field whose name begins with X-Reply-Header
#   becomes a header line of the response, as it is ("X-Reply-Header-1:
#   Expect: x-b" sends "Expect: x-b"; give each line a name of its own,
#   httpd merges fields of one name before it proxies them).
# * Bounded lifetime: it exits by itself after --lifetime seconds (default
#   120) and gives up on a connection that sends nothing for --idle seconds
#   (default 30). The test that starts it also stops it by PID.
#
# Core Perl only.

use strict;
use warnings;
use Digest::MD5 ();
use Getopt::Long qw(GetOptions);
use IO::Handle ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();

my %opt = (port => 0, lifetime => 120, idle => 30);
GetOptions(\%opt, 'port=i', 'record=s', 'lifetime=i', 'idle=i')
    && defined $opt{record}
    or die "usage: $0 --port N --record FILE [--lifetime S] [--idle S]\n";

$SIG{ALRM} = sub { exit 0 };
$SIG{TERM} = sub { exit 0 };
$SIG{PIPE} = 'IGNORE';
alarm $opt{lifetime};

my $listen = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1',
    LocalPort => $opt{port},
    Proto     => 'tcp',
    Listen    => 16,
    ReuseAddr => 1,
) or die "backend: cannot listen on 127.0.0.1:$opt{port}: $@\n";

STDOUT->autoflush(1);
print "listening 127.0.0.1:", $listen->sockport, "\n";

my $json = JSON::PP->new->canonical;

while (1) {
    my $conn = $listen->accept or next;
    binmode $conn;
    serve($conn);
    close $conn;
}

# Read more bytes into $$buf; false on end of stream, error or idle time-out.
sub fill {
    my ($conn, $buf) = @_;
    return 0 unless IO::Select->new($conn)->can_read($opt{idle});
    my $n = sysread $conn, $$buf, 65536, length $$buf;
    return $n ? $n : 0;
}

# Next CRLF- (or LF-) terminated line, without its end; undef at end.
sub line {
    my ($conn, $buf) = @_;
    while ($$buf !~ /\n/) {
        return undef if length $$buf > 65536 || !fill($conn, $buf);
    }
    $$buf =~ s/\A([^\n]*)\n//;
    (my $line = $1) =~ s/\r\z//;
    return $line;
}

sub serve {
    my $conn = shift;
    my $buf = '';

    my $request_line = line($conn, \$buf);
    return unless defined $request_line && length $request_line;
    my ($method, $uri, $protocol) = split / /, $request_line, 3;

    my @headers;
    while (defined(my $h = line($conn, \$buf))) {
        last if $h eq '';
        if ($h =~ /^[ \t]/ && @headers) {       # obs-fold
            $headers[-1][1] .= ' ' . ($h =~ s/^[ \t]+//r);
            next;
        }
        my ($name, $value) = $h =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @headers, [$name, $value];
    }

    my $get = sub {
        my $want = lc shift;
        my @v = map { $_->[1] } grep { lc $_->[0] eq $want } @headers;
        return @v ? join(', ', @v) : undef;
    };

    my $cl = $get->('Content-Length');
    my $te = $get->('Transfer-Encoding');
    my $chunked = defined $te && $te =~ /chunked\s*$/i ? 1 : 0;
    my $md5 = Digest::MD5->new;
    my $bytes = 0;
    my $complete = 1;

    # Consume n bytes of body (from the buffer, then the socket).
    my $take = sub {
        my $n = shift;
        while ($n > 0) {
            if (!length $buf) {
                return 0 unless fill($conn, \$buf);
            }
            my $piece = substr $buf, 0, $n, '';
            $md5->add($piece);
            $bytes += length $piece;
            $n -= length $piece;
        }
        return 1;
    };

    if ($chunked) {
        $complete = 0;
        while (defined(my $size = line($conn, \$buf))) {
            last unless $size =~ /^([0-9a-fA-F]+)/;
            my $n = hex $1;
            if ($n == 0) {
                # trailer section up to the empty line
                while (defined(my $t = line($conn, \$buf))) {
                    last if $t eq '';
                }
                $complete = 1;
                last;
            }
            last unless $take->($n);
            last unless defined line($conn, \$buf);   # CRLF after the data
        }
    }
    elsif (defined $cl && $cl =~ /^\d+$/) {
        $complete = $take->($cl);
    }

    my $record = {
        method         => $method,
        uri            => $uri,
        protocol       => $protocol,
        headers        => \@headers,
        expect         => $get->('Expect'),
        test_id        => $get->('X-Test-Id'),
        content_length => $cl,
        chunked        => $chunked,
        bytes          => $bytes,
        md5            => $md5->hexdigest,
        complete       => $complete ? 1 : 0,
    };
    my $text = $json->encode($record) . "\n";

    if (open my $fh, '>>', $opt{record}) {
        print $fh $text;
        close $fh;
    }
    else {
        warn "backend: cannot append to $opt{record}: $!\n";
    }

    my $status = $complete ? '200 OK' : '408 Request Timeout';
    my $response = "HTTP/1.1 $status\r\n"
                 . join('', map { "$_->[1]\r\n" } grep { $_->[0] =~ /^X-Reply-Header/i } @headers)
                 . "Content-Type: application/json\r\n"
                 . "Content-Length: " . length($text) . "\r\n"
                 . "Connection: close\r\n\r\n" . $text;
    syswrite $conn, $response;
}
