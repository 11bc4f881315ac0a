package ExpectClient;

# The suite's one raw HTTP/1.x client: exact bytes out, responses in one at
# a time, and whether the server has closed the connection.
#
#   my $c = ExpectClient->new('proto_defer');        # an Apache::Test vhost
#   my $c = ExpectClient->new('127.0.0.1', $port);   # any server
#   my $c = ExpectClient->new('tls_defer', undef, tls => $ca_file);
#                                   # over TLS (ALPN http/1.1), the server's
#                                   # certificate checked against $ca_file
#   $c->send($bytes, ...);          # each argument is one write
#   my $r = $c->response;           # next response (a 100 counts), or undef
#   my ($final, @interim) = $c->final;
#   $c->closed;                     # true once the server has closed
#   $c->rest;                       # every byte until the server closes
#   $c->{eof};                      # the server has closed (as seen so far)
#
#   my $r = ExpectClient::request(vhost => 'cfg_main', method => 'POST',
#       path => '/x', expect => ['100-continue'], body => 'abc');
#   # a client's request: waits for 100 Continue before the body
#
# Every wait is bounded (GUARD seconds per read or write), so a server that
# never answers makes a test fail instead of hang; no assertion depends on
# how long anything took. Writing to a connection the server has closed
# fails the write, not the test (SIGPIPE is ignored).

use strict;
use warnings FATAL => 'all';

use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use Exporter qw(import);
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);

our @EXPORT_OK = qw(escape request);

use constant GUARD => 8;

$SIG{PIPE} = 'IGNORE';

# new($vhost): a connection to one of Apache::Test's virtual hosts (or to
# the main server: 'default'); new($host, $port): to any server.
# tls => $ca_file: TLS (IO::Socket::SSL) with ALPN http/1.1, the server's
# certificate verified against that CA for the name 127.0.0.1.
sub new {
    my ($class, $where, $port, %opt) = @_;
    my $sock;
    if (!defined $port && ($opt{tls} || $where eq 'default')) {
        require Apache::Test;
        my $v = $where eq 'default' ? undef : Apache::Test::config()->{vhosts}{$where}
            or $opt{tls} && die "no virtual host $where in the test configuration\n";
        ($port) = ($v->{hostport} || '') =~ /:(\d+)$/ if $v;
        $where = '127.0.0.1' if defined $port;
    }
    if ($opt{tls}) {
        require IO::Socket::SSL;
        defined $port or die "no port for $where\n";
        $sock = IO::Socket::SSL->new(PeerAddr => $where, PeerPort => $port,
                                     Timeout => GUARD,
                                     SSL_ca_file => $opt{tls},
                                     SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
                                     SSL_verifycn_name => '127.0.0.1',
                                     SSL_verifycn_scheme => 'http',
                                     SSL_alpn_protocols => ['http/1.1'])
            or die "cannot connect over TLS to $where:$port: "
                   . ($IO::Socket::SSL::SSL_ERROR || $!) . "\n";
    }
    elsif (defined $port) {
        $sock = IO::Socket::INET->new(PeerAddr => $where, PeerPort => $port,
                                      Proto => 'tcp', Timeout => GUARD)
            or die "cannot connect to $where:$port: $!\n";
    }
    else {
        require Apache::TestRequest;
        $sock = Apache::TestRequest::vhost_socket($where)
            or die "cannot connect to $where: $!\n";
    }
    binmode $sock;
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    $sock->blocking(0);
    return bless { sock => $sock, sel => IO::Select->new($sock), buf => '',
                   eof => 0, transcript => '', where => $where,
                   tls => $opt{tls} ? 1 : 0 }, $class;
}

# The protocol ALPN chose (TLS connections only).
sub alpn {
    my $self = shift;
    return $self->{tls} ? $self->{sock}->alpn_selected : undef;
}

# Bytes can be read: the socket is readable, or (TLS) a record already
# read holds bytes not yet taken.
sub can_read {
    my ($self, $secs) = @_;
    return 1 if $self->{tls} && $self->{sock}->pending;
    return scalar $self->{sel}->can_read($secs);
}

# Send each argument with a write of its own; between two writes, pause a
# little so that they reach the server as separate reads. False when the
# server had closed the connection (or took nothing for GUARD seconds).
sub send {
    my ($self, @chunks) = @_;
    my $first = 1;
    for my $chunk (@chunks) {
        select undef, undef, undef, 0.1 unless $first;
        $first = 0;
        my $off = 0;
        while ($off < length $chunk) {
            return 0 unless $self->{sel}->can_write(GUARD);
            my $n = syswrite $self->{sock}, $chunk, length($chunk) - $off, $off;
            if (!defined $n) {
                next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
                return 0;
            }
            $off += $n;
        }
    }
    return 1;
}

# Whether bytes are waiting (or arrive within $secs).
sub readable {
    my ($self, $secs) = @_;
    return 1 if length $self->{buf} || $self->{eof};
    return $self->can_read($secs);
}

# Read more bytes into the buffer; false on end of stream or time-out.
sub fill {
    my $self = shift;
    return 0 if $self->{eof};
    while (1) {
        return 0 unless $self->can_read(GUARD);
        my $n = sysread $self->{sock}, $self->{buf}, 65536, length $self->{buf};
        if (!defined $n && ($! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK)) {
            next;
        }
        if (!$n) {                     # 0: orderly close; undef: reset
            $self->{eof} = 1;
            return 0;
        }
        $self->{transcript} .= substr $self->{buf}, -$n;
        return $n;
    }
}

# The next response on the connection, interim (1xx) or final, as an
# HTTP::Response whose content is the body as sent (chunked bodies
# decoded) and whose {expect_raw_head} is the header block as received.
# Pass head => 1 for the response to a HEAD request. undef when the
# connection ended (or nothing came) before a complete response.
sub response {
    my ($self, %opt) = @_;
    my $end;
    until (($end = index $self->{buf}, "\r\n\r\n") >= 0) {
        return undef unless $self->fill;
    }
    my $head = substr $self->{buf}, 0, $end + 4, '';
    my $res = HTTP::Response->parse($head);
    $res->{expect_raw_head} = $head;
    my $code = $res->code;
    $code = 0 unless defined $code && $code =~ /^\d+$/;     # a status line without a code
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
        my $code = $res->code // '';
        return ($res, @interim) if $code =~ /^\d+$/ && $code >= 200;
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

# Whatever arrives before the connection ends.
sub rest {
    my $self = shift;
    1 while $self->fill;
    my $rest = $self->{buf};
    $self->{buf} = '';
    return $rest;
}

# Every byte received on the connection so far.
sub transcript { $_[0]{transcript} }

sub close {
    my $self = shift;
    close $self->{sock};
}

# request(vhost => 'cfg_main', method => 'POST', path => '/x',
#         proto => 'HTTP/1.1', expect => ['a', 'b'] (one line each),
#         headers => [[Name => value], ...], body => 'bytes',
#         nowait => 1 (send the body at once even with 100-continue))
# (or port => N, host => '127.0.0.1' instead of vhost: any server)
#
# One request as a client sends it, on a connection of its own
# (Connection: close): with an HTTP/1.1 100-continue and a body, the body
# goes once 100 Continue has come (or when nothing has come for 3 seconds,
# as curl does after its own wait), and not at all when a final response
# comes first. Returns
#   { res     => the final response (an empty HTTP::Response if none came),
#     interim => ['100', ...] (codes of the interim responses),
#     body    => everything after the final header block until the server
#                closed (the body, chunks decoded, and anything behind it),
#     raw     => every byte received }
sub request {
    my %a = @_;
    my $method = $a{method} || 'GET';
    my $proto  = $a{proto}  || 'HTTP/1.1';
    my $body   = $a{body};
    my @lines  = ("$method $a{path} $proto", 'Host: localhost');
    push @lines, "Expect: $_" for @{ $a{expect} || [] };
    push @lines, "$_->[0]: $_->[1]" for @{ $a{headers} || [] };
    my $framed = grep { lc($_->[0]) =~ /^(?:content-length|transfer-encoding)$/ }
                 @{ $a{headers} || [] };
    push @lines, 'Content-Length: ' . length $body if defined $body && !$framed;
    push @lines, 'Connection: close';
    my $head = join("\r\n", @lines) . "\r\n\r\n";

    my $wait = defined $body && length $body && $proto eq 'HTTP/1.1'
        && grep { /100-continue/i } @{ $a{expect} || [] };
    $wait = 0 if $a{nowait};
    my %read = (head => $method eq 'HEAD');

    my $c = defined $a{port} ? ExpectClient->new($a{host} // '127.0.0.1', $a{port})
                             : ExpectClient->new($a{vhost} // 'default');
    $c->send($head);
    $c->send($body) if defined $body && !$wait;
    my (@interim, $final);
    if ($wait) {
        if ($c->readable(3)) {
            my $first = $c->response(%read);
            if ($first && ($first->code // '') =~ /^1\d\d$/) {
                push @interim, $first;
                $c->send($body);
            }
            else {
                $final = $first;    # a final answer: the body stays unsent
            }
        }
        else {
            $c->send($body);
        }
    }
    if (!$final) {
        my @more;
        ($final, @more) = $c->final(%read);
        push @interim, @more;
    }
    my $after = $c->rest;
    $c->close;
    $final ||= HTTP::Response->parse('');
    return { res => $final, interim => [ map { $_->code } @interim ],
             body => $final->content . $after, raw => $c->transcript };
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
