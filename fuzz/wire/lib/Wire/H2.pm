# Wire::H2: one HTTP/2 connection (h2c by prior knowledge, or h2 over
# TLS) made by nghttp (Debian's nghttp2-client), one stream per path, all
# with the same request header fields, body and trailers; returns what came
# back on each stream.  nghttp -v lists every frame; a response body is
# printed just before the DATA frame line that carried it.
package Wire::H2;

use strict;
use warnings;

use File::Temp qw(tempfile);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

# run(port, tls, h2 => { method, paths => [...], headers => [[n, v]...],
#                        body => bytes or undef, no_cl, trailers => [...] })
# -> { streams => [ { status, interim => [status...], headers => [[n, v]],
#                     body, rst => error code or undef } ... ],
#      goaway => error code or undef, error => text or undef }
sub run {
    my (%o) = @_;
    my $h = $o{h2};
    my @cmd = ('nghttp', '-v', '-t', '15');
    push @cmd, '--no-content-length' if $h->{no_cl};
    push @cmd, '--trailer', "$_->[0]: $_->[1]" for @{ $h->{trailers} // [] };
    push @cmd, '-H', ":method: $h->{method}" if $h->{method};
    push @cmd, '-H', "$_->[0]: $_->[1]" for @{ $h->{headers} // [] };
    my $bodyfile;
    if (defined $h->{body}) {
        (my $fh, $bodyfile) = tempfile('wire-h2-XXXXXX', TMPDIR => 1, UNLINK => 0);
        binmode $fh;
        print $fh $h->{body};
        close $fh;
        push @cmd, '-d', $bodyfile;
    }
    my $scheme = $o{tls} ? 'https' : 'http';
    push @cmd, map { "$scheme://127.0.0.1:$o{port}$_" } @{ $h->{paths} };
    my $out = '';
    my $pid = open(my $fh, '-|') // die "wire: fork: $!\n";
    if (!$pid) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    binmode $fh;
    local $/;
    $out = <$fh> // '';
    close $fh;
    unlink $bodyfile if $bodyfile;
    return parse($out, scalar @{ $h->{paths} });
}

sub parse {
    my ($out, $n) = @_;
    my %by;     # stream id => stream
    my @order;
    my $stream = sub {
        my ($id) = @_;
        $by{$id} //= do { push @order, $id; { headers => [], interim => [], body => '' } };
    };
    my %r;
    my $pending = [];   # header fields of the HEADERS frame being received
    # Every event nghttp prints starts with "[ seconds] "; body bytes are
    # printed raw, right before the DATA frame event that carried them.
    my @seg = split /(?=\[\s*\d+\.\d{3}\] (?:send|recv) )/, $out;
    for my $i (0 .. $#seg) {
        my $seg = $seg[$i];
        if ($seg =~ /^\[[^\]]*\] recv \(stream_id=(\d+)\) ([^\n]*)\n/) {
            my ($name, $value) = $2 =~ /^(:?[^:]*): ?(.*)$/s;
            push @$pending, [$name // $2, $value // ''];
        }
        elsif ($seg =~ /^\[[^\]]*\] recv (\S+) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=(\d+)>/) {
            my ($type, $len, $id) = ($1, $2, $4);
            if ($type eq 'DATA') {
                my $prev = $i ? $seg[$i - 1] : '';
                $stream->($id)->{body} .= length $prev >= $len ? substr($prev, -$len) : $prev;
            }
            elsif ($type eq 'RST_STREAM') {
                my ($code) = $seg =~ /error_code=(\w+)/;
                $stream->($id)->{rst} = $code // '?';
            }
            elsif ($type eq 'GOAWAY') {
                my ($code) = $seg =~ /error_code=(\w+)/;
                $r{goaway} = $code // '?';
            }
            elsif ($type eq 'HEADERS') {
                my $s = $stream->($id);
                my ($status) = map { $_->[1] } grep { $_->[0] eq ':status' } @$pending;
                my @h = grep { $_->[0] !~ /^:/ } @$pending;
                if (defined $status && $status =~ /^1\d\d$/) {
                    push @{ $s->{interim} }, $status;
                }
                elsif (defined $status) {
                    $s->{status} = $status;
                    $s->{headers} = \@h;
                }
                else {
                    $s->{trailers} = \@h;
                }
                $pending = [];
            }
        }
    }
    # The body of the last DATA frame is printed before its event; the
    # bytes after the last event are nghttp's own closing lines.
    $r{streams} = [ map { $by{$_} } sort { $a <=> $b } @order ];
    $r{error} = $1 if $out =~ /^(\[ERROR\][^\n]*)/m;
    $r{unprocessed} = $1 if $out =~ /Some requests were not processed\. (total=\d+, processed=\d+)/;
    return \%r;
}

1;
