package ExpectTools;

# Real clients (curl, nghttp) against the suite's server, and the test
# backend of t/proxy.t (t/backend/backend.pl); used by t/curl.t, t/http2.t,
# t/proxy.t and t/lwp.t.
#
#   my $r = curl('--http2-prior-knowledge', url('h2_defer', '/x'));
#   $r->{status}, $r->{statuses}, $r->{header}{'content-type'},
#   $r->{body}, $r->{trace}, $r->{exit}, $r->{size_upload}
#
#   my $n = nghttp('--expect-continue', '-d', $file, $url);
#   $n->{events}: the stream's events in the order nghttp printed them:
#       'send HEADERS', 'send DATA', 'status 100', 'status 200',
#       'recv RST_STREAM', ...
#   $n->{header}: the final response's header fields (lower-case names)
#   my $bytes = nghttp_data(@args);   # the response body, exactly
#
# Both records also hold res, the final response as an HTTP::Response
# (status and header fields; for curl the body too), and body, so the
# table runner's checks (status, ctype, outcome, echo, ...) apply to them;
# this module adds the checks that read what the clients report.
#
#   my $be = backend_start($record_file);   # {pid, port}
#   backend_records($record_file);          # list of hashes
#   backend_stop($be);
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
use HTTP::Response ();
use IO::Select ();
use Apache::Test ();
use ExpectJSON qw(json_decode);
use ExpectTable qw(define);

our @EXPORT_OK = qw(url curl nghttp nghttp_data have_tool write_data
                    backend_port backend_start backend_stop backend_records
                    fpm_binary fpm_start fpm_stop index_of);

use constant GUARD => 60;

my $tmp = tempdir(CLEANUP => 1);
my $runs = 0;

# http://127.0.0.1:<port of the vhost><path>; url($vhost, $path, 'https')
# for a TLS host.
sub url {
    my ($vhost, $path, $scheme) = @_;
    my $v = Apache::Test::config()->{vhosts}->{$vhost}
        or die "no virtual host $vhost in the test configuration\n";
    my ($port) = ($v->{hostport} || '') =~ /:(\d+)$/
        or die "no port for $vhost\n";
    return ($scheme || 'http') . "://127.0.0.1:$port$path";
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
# the status codes of every response block received (interim ones first);
# size_upload is the number of body bytes curl sent.
sub curl {
    my @args = @_;
    my $n = ++$runs;
    my ($body, $head) = (catfile($tmp, "body-$n"), catfile($tmp, "head-$n"));
    my ($exit, $sizes, $trace) =
        run('curl', '-sS', '-v', '-o', $body, '-D', $head,
            '-w', '%{size_upload}', @args);
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
    my $content = slurp($body);
    return {
        exit        => $exit,
        trace       => $trace,
        body        => $content,
        statuses    => \@statuses,
        status      => $statuses[-1],
        protocol    => $protocol,
        header      => \%header,
        size_upload => $sizes,
        res         => response($statuses[-1], \%header, $content),
        interim     => [ @statuses[0 .. $#statuses - 1] ],
    };
}

# An HTTP::Response of a status, header fields and a body.
sub response {
    my ($status, $header, $content) = @_;
    my $res = HTTP::Response->new($status);
    $res->header($_ => $header->{$_}) for keys %$header;
    $res->content($content // '');
    return $res;
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
        res      => response($statuses[-1], \%header, ''),
        body     => '',    # -v mixes frames and data: nghttp_data() has the body
        interim  => [ @statuses[0 .. $#statuses - 1] ],
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
# (Define H2PROXY_BACKEND_PORT @NextAvailablePort@) and used by ProxyPass;
# backend_port('compose.conf', 'COMPOSE_BACKEND'): another file's.
sub backend_port {
    my ($file, $name) = @_;
    $file //= 'h2proxy.conf';
    $name //= 'H2PROXY_BACKEND_PORT';
    my $conf = catfile(Apache::Test::vars('t_conf'), $file);
    open my $fh, '<', $conf or die "$conf: $!\n";
    while (<$fh>) {
        return $1 if /^\s*Define\s+\Q$name\E\s+(\d+)/;
    }
    die "no $name in $conf\n";
}

# Start t/backend/backend.pl on 127.0.0.1:<port> (default: backend_port()),
# recording into $record; returns {pid, port} once it listens, or dies.
sub backend_start {
    my ($record, $lifetime, $port) = @_;
    my $script = catfile(dirname(__FILE__), '..', 'backend', 'backend.pl');
    $port //= backend_port();
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

# PHP-FPM (Debian's php-fpm<version>) with a pool of its own:
#
#   my $fpm = fpm_start($dir);     # {pid, socket, ...} once it listens
#   fpm_stop($fpm);
#
# Everything lives in $dir: the configuration, the pid file, the log and
# the Unix socket (mode 0666, so that httpd's children reach it). Started
# as root, the workers run as nobody. No php.ini is read (-n). It runs in
# the foreground as a child of the test and is stopped by its PID; the
# system's own php-fpm service is never touched.
sub fpm_binary {
    my @found;
    for my $dir (split(/:/, $ENV{PATH} || ''), '/usr/sbin', '/usr/local/sbin') {
        push @found, grep { -x } glob(catfile($dir, 'php-fpm')),
                                 glob(catfile($dir, 'php-fpm[0-9]*'));
    }
    # the newest version first: php-fpm8.2 before php-fpm7.4
    my ($bin) = sort { fpm_version($b) <=> fpm_version($a) } @found;
    return $bin;
}

sub fpm_version {
    my ($v) = $_[0] =~ /php-fpm([\d.]*)$/;
    my @p = split /\./, $v || '0';
    return ($p[0] || 0) * 1000 + ($p[1] || 0);
}

sub fpm_start {
    my $dir = shift;
    my $bin = fpm_binary() or die "no php-fpm in PATH or /usr/sbin\n";
    my %f = (socket => "$dir/fpm.sock", pidfile => "$dir/fpm.pid",
             log => "$dir/fpm.log", conf => "$dir/fpm.conf");
    unlink $f{socket};
    my ($user, $group) = $> == 0 ? ('nobody', (getgrnam('nogroup') ? 'nogroup' : 'nobody'))
                                 : ();
    open my $fh, '>', $f{conf} or die "$f{conf}: $!\n";
    print $fh join '', map { "$_\n" } (
        '[global]',
        "pid = $f{pidfile}",
        "error_log = $f{log}",
        'daemonize = no',
        '',
        '[compose]',
        "listen = $f{socket}",
        'listen.mode = 0666',
        ($user ? ("user = $user", "group = $group") : ()),
        'pm = static',
        'pm.max_children = 4',
        'catch_workers_output = yes',
    );
    close $fh or die "$f{conf}: $!\n";
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $f{log};
        open STDERR, '>>', $f{log};
        exec $bin, '-n', '-F', '-y', $f{conf}, '-p', $dir or exit 127;
    }
    my $fpm = { %f, pid => $pid, bin => $bin };
    for (1 .. GUARD * 10) {
        return $fpm if -S $f{socket};
        if (waitpid($pid, 1) == $pid) {       # WNOHANG: it ended
            delete $fpm->{pid};
            last;
        }
        select undef, undef, undef, 0.1;
    }
    fpm_stop($fpm);
    die "php-fpm ($bin) did not listen on $f{socket}: " . slurp($f{log}) . "\n";
}

sub fpm_stop {
    my $fpm = shift;
    return unless $fpm;
    if ($fpm->{pid}) {
        kill 'TERM', $fpm->{pid};
        waitpid $fpm->{pid}, 0;
        delete $fpm->{pid};
    }
    unlink $fpm->{socket};
}

sub backend_records {
    my $record = shift;
    open my $fh, '<', $record or return ();
    return map { json_decode($_) // {} } grep { /\S/ } <$fh>;
}

# ---------------------------------------------------------------- checks
# What the clients report, for ExpectTable's want hashes.

sub flag {
    my ($yes, $no, $got) = @_;
    return sub {
        my $want = shift;
        return { label => $want ? $yes : $no, want => $want ? 1 : 0,
                 got => sub { $got->($_[0]) ? 1 : 0 } };
    };
}

# curl's exit status (0: it did what it was asked)
define exit => sub {
    my $want = shift;
    return { label => $want == 0 ? 'curl succeeds' : "curl exits with $want", want => $want,
             got => sub { $_[0]{exit} } };
};
# the protocol of the final response (curl: 'HTTP/1.1', 'HTTP/2')
define protocol => sub {
    return { label => "answered over $_[0]", want => $_[0], got => sub { $_[0]{protocol} } };
};
# statuses => [100, 200]: every response block, interim ones first
define statuses => sub {
    return { label => 'response blocks ' . join(', then ', @{ $_[0] }), want => $_[0],
             got => sub { $_[0]{statuses} } };
};
# from curl -v's trace
define sent_expect => flag('curl sent Expect: 100-continue by itself', 'no Expect sent',
                           sub { grep { /^> Expect: 100-continue\r?$/i } split /\n/, $_[0]{trace} });
define got_100 => flag('curl got HTTP/1.1 100 Continue', 'no 100 Continue',
                       sub { $_[0]{trace} =~ m{^< HTTP/1\.1 100 Continue\r?$}m });
# "Done waiting for 100-continue" is curl's note that it gave up waiting
define gave_up => flag('curl gave up waiting for the 100', 'curl never gave up waiting for the 100',
                       sub { $_[0]{trace} =~ /Done waiting for 100-continue/ });
# uploaded => N: curl sent N body bytes; uploaded_over => N: more than N
# (a chunked upload counts the chunk framing too)
define uploaded => sub {
    my $want = shift;
    return { label => $want ? 'curl uploaded the whole body' : 'curl uploaded nothing',
             want => $want, got => sub { $_[0]{size_upload} } };
};
define uploaded_over => sub {
    return { label => 'curl uploaded the whole body', want => $_[0], cmp => '>',
             got => sub { $_[0]{size_upload} } };
};
# trace_like / trace_unlike / output_like => [what it shows => qr/.../, ...]
# (output: everything nghttp -v printed, frames and data)
for my $spec (['trace_like', 'trace', 'like'], ['trace_unlike', 'trace', 'unlike'],
              ['output_like', 'output', 'like']) {
    my ($name, $field, $cmp) = @$spec;
    define $name => sub {
        my @pairs = @{ $_[0] };
        return map { my ($label, $re) = @pairs[2 * $_, 2 * $_ + 1];
                     +{ label => $label, want => $re, cmp => $cmp,
                        got => sub { $_[0]{$field} } } } 0 .. $#pairs / 2;
    };
}
# events => [what it shows => spec, ...]: the order of nghttp's events.
#   [qr/a/, qr/b/]           a, then b, both there
#   { absent => qr/a/ }      a never happens
#   { once => qr/a/ }        a happens exactly once
#   { none_before => [qr/x/, qr/y/] }   y happens, and no x before it
define events => sub {
    my @pairs = @{ $_[0] };
    return map {
        my ($label, $spec) = @pairs[2 * $_, 2 * $_ + 1];
        +{ label => $label, want => 1, cmp => 'ok',
           got => sub { event_test($_[0]{events}, $spec) },
           diag => sub { 'events: ' . join ', ', @{ $_[0]{events} } } };
    } 0 .. $#pairs / 2;
};

sub event_test {
    my ($ev, $spec) = @_;
    if (ref $spec eq 'ARRAY') {
        my $at = -1;
        for my $re (@$spec) {
            $at = index_of($ev, $re, $at + 1);
            return 0 if $at < 0;
        }
        return 1;
    }
    return index_of($ev, $spec->{absent}) < 0 if $spec->{absent};
    return 1 == grep { $_ =~ $spec->{once} } @$ev if $spec->{once};
    if (my $nb = $spec->{none_before}) {
        my $y = index_of($ev, $nb->[1]);
        my $x = index_of($ev, $nb->[0]);
        return $y >= 0 && ($x < 0 || $x > $y);
    }
    die "unknown event test\n";
}

1;
