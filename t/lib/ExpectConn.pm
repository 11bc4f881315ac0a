package ExpectConn;

# A raw HTTP/1.x client connection for the protocol tests: send exact bytes,
# read interim and final responses one at a time, and tell whether the server
# has closed the connection.
#
#   my $c = ExpectConn->new('proto_defer');
#   $c->send("POST /cgi/echo.pl HTTP/1.1\r\nHost: x\r\n...\r\n\r\n");
#   my $r = $c->response;            # next response (a 100 counts), or undef
#   my ($final, @interim) = $c->final;
#   $c->closed;                      # true once the server has closed
#
# Reads wait at most GUARD seconds, so a server that never answers makes the
# test fail instead of hang; no assertion depends on how long anything took.

use strict;
use warnings FATAL => 'all';

use Errno qw(EINTR);
use Exporter qw(import);
use HTTP::Response ();
use IO::Select ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Apache::TestRequest ();

our @EXPORT_OK = qw(escape);

use constant GUARD => 8;

# Writing to a connection the server has closed must not kill the test.
$SIG{PIPE} = 'IGNORE';

sub new {
    my ($class, $vhost) = @_;
    my $sock = Apache::TestRequest::vhost_socket($vhost)
        or die "cannot connect to $vhost: $!\n";
    binmode $sock;
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    return bless { sock => $sock, buf => '', eof => 0, vhost => $vhost }, $class;
}

# Send each argument with a write of its own; between two writes, pause a
# little so that they reach the server as separate reads. Returns false when
# the server had already closed the connection.
sub send {
    my ($self, @chunks) = @_;
    my $first = 1;
    for my $chunk (@chunks) {
        select undef, undef, undef, 0.1 unless $first;
        $first = 0;
        my $off = 0;
        while ($off < length $chunk) {
            my $n = syswrite $self->{sock}, $chunk, length($chunk) - $off, $off;
            if (!defined $n) {
                next if $! == EINTR;
                return 0;
            }
            $off += $n;
        }
    }
    return 1;
}

# Read more bytes into the buffer; false on end of stream or time-out.
sub fill {
    my $self = shift;
    return 0 if $self->{eof};
    my $sel = IO::Select->new($self->{sock});
    return 0 unless $sel->can_read(GUARD);
    my $n = sysread $self->{sock}, $self->{buf}, 65536, length $self->{buf};
    if (!$n) {                     # 0: orderly close; undef: reset
        $self->{eof} = 1;
        return 0;
    }
    return $n;
}

# The next response on the connection, interim (1xx) or final, as an
# HTTP::Response whose content is the body as sent. Pass head => 1 for the
# response to a HEAD request. undef when the connection ended (or nothing
# came) before a complete response.
sub response {
    my ($self, %opt) = @_;
    my $end;
    until (($end = index $self->{buf}, "\r\n\r\n") >= 0) {
        return undef unless $self->fill;
    }
    my $head = substr $self->{buf}, 0, $end + 4, '';
    my $res = HTTP::Response->parse($head);
    $res->{expect_raw_head} = $head;
    my $code = $res->code // 0;
    return $res if $code < 200 || $code == 204 || $code == 304 || $opt{head};

    my $body = '';
    my $te = $res->header('Transfer-Encoding') // '';
    my $cl = $res->header('Content-Length');
    if ($te =~ /chunked/i) {
        while (1) {
            my $eol;
            until (($eol = index $self->{buf}, "\r\n") >= 0) {
                return undef unless $self->fill;
            }
            my $line = substr $self->{buf}, 0, $eol + 2, '';
            my ($size) = $line =~ /^([0-9a-fA-F]+)/ or return undef;
            $size = hex $size;
            if ($size == 0) {
                # trailer section up to the empty line
                until (($eol = index $self->{buf}, "\r\n\r\n") >= 0
                       || substr($self->{buf}, 0, 2) eq "\r\n") {
                    return undef unless $self->fill;
                }
                if (substr($self->{buf}, 0, 2) eq "\r\n") {
                    substr $self->{buf}, 0, 2, '';
                } else {
                    substr $self->{buf}, 0, $eol + 4, '';
                }
                last;
            }
            while (length $self->{buf} < $size + 2) {
                return undef unless $self->fill;
            }
            $body .= substr $self->{buf}, 0, $size, '';
            substr $self->{buf}, 0, 2, '';
        }
    }
    elsif (defined $cl) {
        while (length $self->{buf} < $cl) {
            return undef unless $self->fill;
        }
        $body = substr $self->{buf}, 0, $cl, '';
    }
    else {
        1 while $self->fill;
        $body = $self->{buf};
        $self->{buf} = '';
    }
    $res->content($body);
    return $res;
}

# Every response up to and including the final one: (final, interim...).
# The final one is undef when the connection ended first.
sub final {
    my ($self, %opt) = @_;
    my @interim;
    while (my $res = $self->response(%opt)) {
        return ($res, @interim) if $res->code >= 200;
        push @interim, $res;
    }
    return (undef, @interim);
}

# True when the server has closed the connection without sending anything
# more; false when bytes arrived (they stay buffered for response()) or when
# the connection is still open after the guard time.
sub closed {
    my $self = shift;
    return 0 if length $self->{buf};
    1 while !$self->{eof} && !length $self->{buf} && $self->fill;
    return $self->{eof} && !length $self->{buf};
}

# Whatever arrived before the connection ended (used to show that nothing
# was answered).
sub rest {
    my $self = shift;
    1 while $self->fill;
    my $rest = $self->{buf};
    $self->{buf} = '';
    return $rest;
}

sub close {
    my $self = shift;
    close $self->{sock};
}

# Printable form of raw bytes for test names and diagnostics.
sub escape {
    my $in = shift // '';
    $in =~ s{\\}{\\\\}g;
    $in =~ s{\r}{\\r}g;
    $in =~ s{\n}{\\n}g;
    $in =~ s{\t}{\\t}g;
    $in =~ s{([\x00-\x1f\x7f-\xff])}{sprintf '\\x%02x', ord $1}ge;
    return $in;
}

1;
