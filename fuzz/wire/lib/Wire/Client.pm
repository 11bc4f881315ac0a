# Wire::Client: sends one byte stream on a fresh connection, in the TCP
# writes it is split into, and returns everything the server answered.
#
# Every write goes out on its own (TCP_NODELAY) and is followed by a short
# pause, so that httpd meets each piece in a read of its own.  While it
# writes and pauses it reads whatever arrives.  Once the stream is sent it
# closes its sending side (over TLS: close_notify, then the TCP half-close):
# from then on httpd sees the end of the input wherever it waits for more,
# so what it answers depends on the bytes alone, never on a timer.  It then
# reads until the server closes the connection (or the deadline passes,
# which is reported: it should never happen).
package Wire::Client;

use strict;
use warnings;

use Errno qw(EAGAIN EWOULDBLOCK EINTR EINPROGRESS);
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY SHUT_WR SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time);

my $ssl_ctx;

sub ssl_ctx {
    return $ssl_ctx if $ssl_ctx;
    require Net::SSLeay;
    Net::SSLeay::load_error_strings();
    Net::SSLeay::SSLeay_add_ssl_algorithms();
    Net::SSLeay::randomize();
    $ssl_ctx = Net::SSLeay::CTX_new() or die "wire: SSL_CTX_new failed\n";
    Net::SSLeay::CTX_set_verify($ssl_ctx, &Net::SSLeay::VERIFY_NONE, undef);
    # HTTP/1.1 over TLS: offer no h2 in ALPN.
    Net::SSLeay::CTX_set_alpn_protos($ssl_ctx, ['http/1.1']);
    Net::SSLeay::CTX_set_mode($ssl_ctx,
        &Net::SSLeay::MODE_ENABLE_PARTIAL_WRITE
        | &Net::SSLeay::MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return $ssl_ctx;
}

# exchange(port => N, data => bytes, splits => [offsets], tls => 0|1,
#          pause => seconds, deadline => seconds)
# Returns { data => bytes received, eof => 1 when the server closed,
#           timeout => 1 when the deadline passed, reset => 1 on ECONNRESET,
#           write_error => text when the server stopped taking bytes }.
sub exchange {
    my (%o) = @_;
    my $data = $o{data};
    my $pause = $o{pause} // 0.002;
    my $deadline = time + ($o{deadline} // 20);
    my %r = (data => '', eof => 0, timeout => 0, reset => 0);

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $o{port}, Proto => 'tcp',
                                     Timeout => 5)
        or return { %r, connect_error => "$!" };
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    binmode $sock;
    my $ssl;
    if ($o{tls}) {
        ssl_ctx();
        $ssl = Net::SSLeay::new($ssl_ctx);
        Net::SSLeay::set_fd($ssl, fileno($sock));
        Net::SSLeay::set_tlsext_host_name($ssl, 'localhost');
        if (Net::SSLeay::connect($ssl) != 1) {
            my $err = Net::SSLeay::ERR_error_string(Net::SSLeay::ERR_get_error());
            Net::SSLeay::free($ssl);
            return { %r, connect_error => "TLS: $err" };
        }
    }
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);

    # Reads what is there now; returns 0 once the connection is over.
    my $read = sub {
        while (1) {
            my ($buf, $n);
            if ($ssl) {
                ($buf, $n) = Net::SSLeay::read($ssl, 65536);
                if (!defined $buf || $n <= 0) {
                    my $e = Net::SSLeay::get_error($ssl, $n // -1);
                    return 1 if $e == Net::SSLeay::ERROR_WANT_READ()
                             || $e == Net::SSLeay::ERROR_WANT_WRITE();
                    $r{eof} = 1 if $e == Net::SSLeay::ERROR_ZERO_RETURN()
                                || $e == Net::SSLeay::ERROR_SYSCALL();
                    $r{reset} = 1 if $e == Net::SSLeay::ERROR_SYSCALL() && $!{ECONNRESET};
                    $r{eof} = 1;
                    return 0;
                }
            }
            else {
                $n = sysread($sock, $buf, 65536);
                if (!defined $n) {
                    return 1 if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                    $r{reset} = 1 if $!{ECONNRESET};
                    $r{eof} = 1;
                    return 0;
                }
                if ($n == 0) {
                    $r{eof} = 1;
                    return 0;
                }
            }
            $r{data} .= $buf;
            # A server that answers without end is a finding, not a hang.
            if (length $r{data} > 16 * 1024 * 1024) {
                $r{overflow} = 1;
                $r{eof} = 1;
                return 0;
            }
        }
    };
    # Writes one piece whole (reading meanwhile); 0 when the peer is gone.
    my $write = sub {
        my ($piece) = @_;
        my $off = 0;
        while ($off < length $piece) {
            return 0 if time > $deadline;
            my $n;
            if ($ssl) {
                $n = Net::SSLeay::write($ssl, substr($piece, $off));
                if ($n <= 0) {
                    my $e = Net::SSLeay::get_error($ssl, $n);
                    if ($e == Net::SSLeay::ERROR_WANT_WRITE()
                        || $e == Net::SSLeay::ERROR_WANT_READ()) {
                        $n = 0;
                    }
                    else {
                        $r{write_error} = "TLS write failed";
                        return 0;
                    }
                }
            }
            else {
                local $SIG{PIPE} = 'IGNORE';
                $n = syswrite($sock, $piece, length($piece) - $off, $off);
                if (!defined $n) {
                    if ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR) {
                        $n = 0;
                    }
                    else {
                        $r{write_error} = "$!";
                        return 0;
                    }
                }
            }
            $off += $n;
            if ($off < length $piece) {
                IO::Select::select($sel, $sel, undef, 0.05);
                return 0 unless $read->();
            }
        }
        return 1;
    };

    my @cuts = grep { $_ > 0 && $_ < length $data } sort { $a <=> $b } @{ $o{splits} // [] };
    my @pieces;
    my $at = 0;
    for my $c (@cuts) {
        next if $c <= $at;
        push @pieces, substr($data, $at, $c - $at);
        $at = $c;
    }
    push @pieces, substr($data, $at);
    my $open = 1;
    for my $i (0 .. $#pieces) {
        last unless $open;
        $open = $write->($pieces[$i]);
        last unless $open;
        if ($i < $#pieces) {
            my $until = time + $pause;
            while ($open && (my $left = $until - time) > 0) {
                IO::Select::select($sel, undef, undef, $left);
                $open = $read->();
            }
        }
    }
    if ($open) {
        if ($ssl) {
            local $SIG{PIPE} = 'IGNORE';
            Net::SSLeay::shutdown($ssl);
        }
        shutdown($sock, SHUT_WR);
        while ($read->()) {
            my $left = $deadline - time;
            if ($left <= 0) {
                $r{timeout} = 1;
                last;
            }
            IO::Select::select($sel, undef, undef, $left > 1 ? 1 : $left);
        }
    }
    else {
        # The server stopped reading: take what it sent until it closes.
        while (!$r{eof} && $read->()) {
            my $left = $deadline - time;
            if ($left <= 0) {
                $r{timeout} = 1;
                last;
            }
            IO::Select::select($sel, undef, undef, $left > 1 ? 1 : $left);
        }
    }
    Net::SSLeay::free($ssl) if $ssl;
    close $sock;
    return \%r;
}

1;
