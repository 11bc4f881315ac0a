package H2Proxy;

# Helpers of t/http2.t and t/proxy.t: run real clients (curl, nghttp)
# against the suite's server and read what they saw, and start and stop the
# test backend (t/backend/backend.pl).
#
#   my $r = H2Proxy::curl('--http2-prior-knowledge', url('h2_defer', '/x'));
#   $r->{status}, $r->{statuses}, $r->{header}{'content-type'},
#   $r->{body}, $r->{trace}, $r->{exit}
#
#   my $n = H2Proxy::nghttp('--expect-continue', '-d', $file, $url);
#   $n->{events}: the stream's events in the order nghttp printed them:
#       'send HEADERS', 'send DATA', 'status 100', 'status 200',
#       'recv RST_STREAM', ...
#   $n->{header}: the final response's header fields (lower-case names)
#   my $bytes = H2Proxy::nghttp_data(@args);   # the response body, exactly
#
#   my $be = H2Proxy::backend_start($record_file);   # {pid, port}
#   H2Proxy::backend_records($record_file);          # list of hashes
#   H2Proxy::backend_stop($be);
#
# Every client run is bounded by GUARD seconds (coreutils timeout), so a
# server that never answers makes a test fail instead of hang; no assertion
# depends on how long anything took.

use strict;
use warnings FATAL => 'all';

use Exporter qw(import);
use File::Basename qw(dirname);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use IO::Select ();
use JSON::PP ();
use Apache::Test ();

our @EXPORT_OK = qw(url curl nghttp nghttp_data have_tool write_data
                    backend_port backend_start backend_stop backend_records
                    index_of);

use constant GUARD => 60;

my $tmp = tempdir(CLEANUP => 1);
my $runs = 0;

# http://127.0.0.1:<port of the vhost><path>
sub url {
    my ($vhost, $path) = @_;
    my $v = Apache::Test::config()->{vhosts}->{$vhost}
        or die "no virtual host $vhost in the test configuration\n";
    my ($port) = ($v->{hostport} || '') =~ /:(\d+)$/
        or die "no port for $vhost\n";
    return "http://127.0.0.1:$port$path";
}

sub have_tool {
    my $name = shift;
    for my $dir (split /:/, $ENV{PATH} || '') {
        return catfile($dir, $name) if -x catfile($dir, $name);
    }
    return;
}

# A file of $size bytes of a fixed, non-repeating-looking pattern.
sub write_data {
    my ($size) = @_;
    my $file = catfile($tmp, "data-$size");
    open my $fh, '>:raw', $file or die "$file: $!\n";
    my $i = 0;
    my $left = $size;
    while ($left > 0) {
        my $chunk = pack('N*', map { ($i++ * 2654435761) % 4294967296 } 1 .. 4096);
        $chunk = substr $chunk, 0, $left if length $chunk > $left;
        print $fh $chunk;
        $left -= length $chunk;
    }
    close $fh or die "$file: $!\n";
    return $file;
}

# Run a command with stdout and stderr in files; returns their contents and
# the exit status.
sub run {
    my @cmd = @_;
    my $n = ++$runs;
    my ($out, $err) = (catfile($tmp, "out-$n"), catfile($tmp, "err-$n"));
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDOUT, '>', $out or die "$out: $!\n";
        open STDERR, '>', $err or die "$err: $!\n";
        exec 'timeout', GUARD, @cmd or exit 127;
    }
    waitpid $pid, 0;
    my $status = $? >> 8;
    return ($status, slurp($out), slurp($err));
}

sub slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or return '';
    local $/;
    my $text = <$fh>;
    return defined $text ? $text : '';
}

# curl -v with the response bodies and header blocks in files. statuses are
# the status codes of every response block received (interim ones first).
sub curl {
    my @args = @_;
    my $n = ++$runs;
    my ($body, $head) = (catfile($tmp, "body-$n"), catfile($tmp, "head-$n"));
    my ($exit, undef, $trace) =
        run('curl', '-sS', '-v', '-o', $body, '-D', $head, @args);
    my $headers = slurp($head);
    my @blocks = grep { /\S/ } split /\r?\n\r?\n/, $headers;
    my @statuses = map { m{^HTTP/\S+ (\d{3})} ? $1 : () } @blocks;
    my %header;
    if (@blocks) {
        my (undef, @lines) = split /\r?\n/, $blocks[-1];
        for (@lines) {
            my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
            $header{lc $k} = defined $header{lc $k}
                             ? "$header{lc $k}, $v" : $v;
        }
    }
    my ($protocol) = @blocks ? $blocks[-1] =~ m{^(HTTP/\S+)} : ();
    return {
        exit     => $exit,
        trace    => $trace,
        body     => slurp($body),
        statuses => \@statuses,
        status   => $statuses[-1],
        protocol => $protocol,
        header   => \%header,
    };
}

# nghttp -v (HTTP/2 over cleartext with prior knowledge for http:// URLs).
# Only the first request stream's events are kept; the header fields are
# those of the last response (the final one).
sub nghttp {
    my @args = @_;
    my ($exit, $out, $err) = run('nghttp', '-v', @args);
    my (@events, %header, $stream);
    while ($out =~ /\[\s*[\d.]+\] ((?:send|recv) [^\n]*)/g) {
        my $line = $1;
        if ($line =~ /^send HEADERS frame <.*stream_id=(\d+)>/) {
            $stream //= $1;
            push @events, 'send HEADERS' if $1 == $stream;
        }
        elsif (!defined $stream) {
            next;
        }
        elsif ($line =~ /^send DATA frame <.*stream_id=(\d+)>/) {
            push @events, 'send DATA' if $1 == $stream;
        }
        elsif ($line =~ /^recv \(stream_id=(\d+)\) ([^:]*|:status): (.*)$/) {
            next unless $1 == $stream;
            my ($name, $value) = ($2, $3);
            if ($name eq ':status') {
                push @events, "status $value";
                %header = ();
            }
            else {
                $header{lc $name} = defined $header{lc $name}
                                    ? "$header{lc $name}, $value" : $value;
            }
        }
        elsif ($line =~ /^(recv|send) (RST_STREAM|GOAWAY) frame <.*stream_id=(\d+)>/) {
            push @events, "$1 $2" if $3 == $stream || $2 eq 'GOAWAY';
        }
    }
    my @statuses = map { /^status (\d+)/ ? $1 : () } @events;
    return {
        exit     => $exit,
        output   => $out . $err,
        events   => \@events,
        statuses => \@statuses,
        status   => $statuses[-1],
        header   => \%header,
    };
}

# The response body as nghttp writes it without -v: the DATA bytes only.
sub nghttp_data {
    my ($exit, $out) = run('nghttp', @_);
    return $out;
}

# Position of the first event matching $re at or after $from; -1 if none.
sub index_of {
    my ($events, $re, $from) = @_;
    for my $i (($from || 0) .. $#$events) {
        return $i if $events->[$i] =~ $re;
    }
    return -1;
}

# The backend's port: reserved by Apache::Test in t/conf/h2proxy.conf.in
# (Define H2PROXY_BACKEND_PORT @NextAvailablePort@) and used by ProxyPass.
sub backend_port {
    my $conf = catfile(Apache::Test::vars('t_conf'), 'h2proxy.conf');
    open my $fh, '<', $conf or die "$conf: $!\n";
    while (<$fh>) {
        return $1 if /^\s*Define\s+H2PROXY_BACKEND_PORT\s+(\d+)/;
    }
    die "no H2PROXY_BACKEND_PORT in $conf\n";
}

# Start t/backend/backend.pl on 127.0.0.1:<backend_port>, recording into
# $record; returns {pid, port} once it listens, or dies.
sub backend_start {
    my ($record, $lifetime) = @_;
    my $script = catfile(dirname(__FILE__), 'backend.pl');
    my $port = backend_port();
    my $pid = open my $out, '-|', $^X, $script, '--port', $port,
                   '--record', $record, '--lifetime', $lifetime || 180
        or die "cannot start $script: $!\n";
    my $line;
    if (IO::Select->new($out)->can_read(GUARD)) {
        $line = <$out>;
    }
    if (!defined $line || $line !~ /^listening 127\.0\.0\.1:(\d+)/) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
        die "backend did not start on 127.0.0.1:$port\n";
    }
    return { pid => $pid, port => $1, out => $out };
}

sub backend_stop {
    my $be = shift;
    return unless $be && $be->{pid};
    kill 'TERM', $be->{pid};
    waitpid $be->{pid}, 0;
    close $be->{out};
    delete $be->{pid};
}

sub backend_records {
    my $record = shift;
    open my $fh, '<', $record or return ();
    return map { JSON::PP::decode_json($_) } grep { /\S/ } <$fh>;
}

1;
