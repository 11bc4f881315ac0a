# Wire::Servers: stock httpd and httpd with mod_expect, side by side, from
# the one configuration fuzz/wire/httpd.conf, in a scratch directory of
# their own.  Each server runs in the foreground (-D FOREGROUND) as a child
# of this process, so it is stopped by its own PID: on stop(), when the
# object goes away, and at exit (the caller turns INT and TERM into an
# exit; see wire.pl).
package Wire::Servers;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @CONFIGS = qw(defer immediate reject allow ignore off mix unsafe tls);
my %live;       # pid => 1 for every server started and not yet reaped

sub httpd_binary {
    return $ENV{APACHE_TEST_HTTPD} if $ENV{APACHE_TEST_HTTPD};
    my $apxs = apxs();
    if ($apxs) {
        my $sbin = `$apxs -q SBINDIR 2>/dev/null`;
        my $target = `$apxs -q TARGET 2>/dev/null`;
        chomp($sbin, $target);
        return "$sbin/$target" if $sbin && $target && -x "$sbin/$target";
    }
    return '/usr/sbin/apache2';
}

sub apxs {
    for my $name ($ENV{APXS} || (), qw(apxs apxs2)) {
        return $name if $name =~ m{/} && -x $name;
        for my $dir (split /:/, $ENV{PATH} // '') {
            return "$dir/$name" if -x "$dir/$name";
        }
    }
    return undef;
}

sub moddir {
    my $apxs = apxs();
    my $dir = $apxs ? `$apxs -q LIBEXECDIR 2>/dev/null` : '';
    chomp $dir;
    return $dir && -d $dir ? $dir : '/usr/lib/apache2/modules';
}

sub port_free {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Proto => 'tcp', ReuseAddr => 1, Listen => 1);
    return 0 unless $s;
    close $s;
    # Something may listen on another address only: try to connect too.
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return $c ? 0 : 1;
}

# new(module => so, echo => so, port_base => N, [port_limit => N], [keep => 1])
# Each server takes one port per configuration: stock from the base,
# mod_expect ten ports above.  A block that is in use moves the pair up by
# twenty, never past port_limit.
sub new {
    my ($class, %o) = @_;
    my $self = bless { %o, pids => {}, creator => $$ }, $class;
    my $conf = abs_path(dirname(__FILE__) . '/../../httpd.conf');
    $self->{conf} = $conf;
    for my $f ($o{module}, $o{echo}) {
        die "wire: $f not found (make wire-build)\n" unless $f && -f $f;
    }
    my $limit = $o{port_limit} // 9499;
    my $base = $o{port_base} // 9400;
    my $n = @CONFIGS;
    for (;; $base += 20) {
        die "wire: no free block of ports below $limit\n"
            if $base + 10 + $n - 1 > $limit;
        next if grep { !port_free($_) } ($base .. $base + $n - 1,
                                         $base + 10 .. $base + 10 + $n - 1);
        last;
    }
    $self->{port_base} = $base;
    my $i = 0;
    for my $c (@CONFIGS) {
        $self->{ports}{stock}{$c} = $base + $i;
        $self->{ports}{module}{$c} = $base + 10 + $i;
        $i++;
    }
    # The tls configuration needs mod_ssl (not built for httpd 2.4.37).
    $self->{tls} = -f moddir() . '/mod_ssl.so' ? 1 : 0;
    $self->{dir} = tempdir('mod_expect-wire.XXXXXX', TMPDIR => 1,
                           CLEANUP => 0);
    chmod 0755, $self->{dir};
    $self->setup;
    $self->start($_) for qw(stock module);
    $self->{error_doctype} = $self->read_error_doctype;
    return $self;
}

# The DOCTYPE line of httpd's own error pages, from stock's 404 for a
# static file that does not exist.
sub read_error_doctype {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{ports}{stock}{defer},
                                  Proto => 'tcp', Timeout => 5)
        or die "wire: cannot reach stock httpd: $!\n";
    $s->timeout(5);
    print $s "GET /static/no-such-file HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    my $page = do { local $/; <$s> } // '';
    close $s;
    $page =~ /\r\n\r\n(<!DOCTYPE[^\n]*\n)/
        or die "wire: stock httpd's 404 page has no DOCTYPE line:\n$page\n";
    return $1;
}

sub setup {
    my ($self) = @_;
    my $d = $self->{dir};
    mkdir "$d/docs" or die "wire: mkdir $d/docs: $!\n";
    open my $fh, '>', "$d/docs/index.txt" or die;
    print $fh "hello, wire\n";
    close $fh;
    open $fh, '>', "$d/docs/htpasswd" or die;
    close $fh;
    # An old mtime: httpd makes the ETag of a file changed within the last
    # second weak, which would differ between two servers by timing.
    utime time - 3600, time - 3600, "$d/docs/index.txt";
    # A throw-away self-signed certificate for the tls configuration.
    my $out = `openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout '$d/key.pem' -out '$d/cert.pem' 2>&1`;
    die "wire: openssl failed: $out\n" unless -s "$d/cert.pem" && -s "$d/key.pem";
    chmod 0644, "$d/cert.pem";
    chmod 0600, "$d/key.pem";
    for my $who (qw(stock module)) {
        mkdir "$d/$who" or die "wire: mkdir $d/$who: $!\n";
        if ($> == 0) {
            my ($uid) = (getpwnam('nobody'))[2];
            chown $uid, -1, "$d/$who" if defined $uid;
        }
    }
    system('chmod', '-R', 'a+rX', "$d/docs");
}

sub args {
    my ($self, $who) = @_;
    my $d = $self->{dir};
    my @a = ('-f', $self->{conf},
             '-C', "Define WIRE_RUN $d/$who",
             '-C', "Define WIRE_DOCS $d/docs",
             '-C', "Define WIRE_MODDIR " . moddir(),
             '-C', "Define WIRE_MODULE $self->{module}",
             '-C', "Define WIRE_ECHO $self->{echo}",
             '-C', "Define WIRE_CERT $d/cert.pem",
             '-C', "Define WIRE_KEY $d/key.pem");
    for my $c (@CONFIGS) {
        push @a, '-C', "Define WIRE_P_$c $self->{ports}{$who}{$c}";
    }
    if ($> == 0) {
        my $group = getgrgid((getpwnam('nobody'))[3]) // 'nogroup';
        push @a, '-D', 'WIRE_ROOT', '-C', 'Define WIRE_USER nobody',
                 '-C', "Define WIRE_GROUP $group";
    }
    push @a, '-D', 'EXPECT' if $who eq 'module';
    push @a, '-D', 'WIRE_TLS' if $self->{tls};
    push @a, '-D', 'FOREGROUND';
    return @a;
}

sub start {
    my ($self, $who) = @_;
    my $httpd = httpd_binary();
    my @args = $self->args($who);
    my $log = "$self->{dir}/$who/stderr";
    my $pid = fork // die "wire: fork: $!\n";
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>>', $log;
        # Own process group: a Ctrl-C in the terminal reaches this
        # process, which stops the server itself.
        POSIX::setpgid(0, 0);
        # Core files for the crash report (CoreDumpDirectory).
        exec '/bin/sh', '-c', 'ulimit -c unlimited 2>/dev/null; exec "$@"', 'sh', $httpd, @args
            or POSIX::_exit(127);
    }
    $self->{pids}{$who} = $pid;
    $live{$pid} = $$;
    my $deadline = time + 30;
    my @ports = map { $self->{ports}{$who}{$_} }
                grep { $_ ne 'tls' || $self->{tls} } @CONFIGS;
    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $live{$pid};
            delete $self->{pids}{$who};
            die "wire: $who httpd exited at start:\n" . $self->log_tail($who);
        }
        my $up = grep {
            IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $_,
                                  Proto => 'tcp', Timeout => 1)
        } @ports;
        last if $up == @ports;
        if (time > $deadline) {
            die "wire: $who httpd did not listen within 30s:\n"
                . $self->log_tail($who);
        }
        sleep 0.05;
    }
}

sub log_tail {
    my ($self, $who) = @_;
    my $out = '';
    for my $f ("$self->{dir}/$who/stderr", "$self->{dir}/$who/error_log") {
        next unless -f $f;
        open my $fh, '<', $f or next;
        my @l = <$fh>;
        $out .= join '', @l > 20 ? @l[-20 .. -1] : @l;
    }
    return $out;
}

sub port { my ($self, $who, $config) = @_; $self->{ports}{$who}{$config} }
sub tls { $_[0]{tls} }
sub error_doctype { $_[0]{error_doctype} }
sub dir { $_[0]{dir} }

# Whether both servers are still running (a crash of either is a finding).
sub alive {
    my ($self) = @_;
    for my $who (keys %{ $self->{pids} }) {
        my $pid = $self->{pids}{$who};
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $live{$pid};
            delete $self->{pids}{$who};
            $self->{died}{$who} = $?;
        }
    }
    return !%{ $self->{died} // {} };
}

# Lines of the error logs that say a child crashed.
sub crashes {
    my ($self) = @_;
    my @c;
    for my $who (qw(stock module)) {
        open my $fh, '<', "$self->{dir}/$who/error_log" or next;
        while (my $l = <$fh>) {
            push @c, "$who: $l" if $l =~ /exit signal|segmentation|AH00052|AH00051/i;
        }
    }
    return @c;
}

sub stop {
    my ($self) = @_;
    my $pids = $self->{pids} || {};
    kill 'TERM', $_ for values %$pids;
    for my $who (keys %$pids) {
        my $pid = $pids->{$who};
        my $deadline = time + 15;
        while (waitpid($pid, WNOHANG) == 0) {
            if (time > $deadline) {
                kill 'KILL', $pid;
                waitpid($pid, 0);
                last;
            }
            sleep 0.05;
        }
        delete $live{$pid};
    }
    $self->{pids} = {};
    my @cores = glob("$self->{dir}/*/core*");
    if (@cores && !$self->{keep}) {
        print STDERR "wire: core files kept in $self->{dir}: @cores\n";
        $self->{keep} = 1;
    }
    if ($self->{dir} && -d $self->{dir} && !$self->{keep}) {
        system('rm', '-rf', $self->{dir});
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    # Not in a forked worker: the servers belong to the process that
    # started them.
    $self->stop if $self->{creator} && $$ == $self->{creator};
}

# Every server this process started, whatever happened to its object.
END {
    local ($?, $!);
    my @mine = grep { $live{$_} == $$ } keys %live;
    kill 'TERM', @mine;
    waitpid($_, 0) for @mine;
}

1;
