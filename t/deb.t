# The Debian package in the machine's real apache2: build
# libapache2-mod-expect with `make deb` (mk/deb.mk), install it with dpkg -i,
# `a2enmod expect`, (re)start the system apache2 with apache2ctl, send one
# request that mod_expect refuses (Expect: x-foo -> JSON 417) and one upload
# it lets through (Expect: 100-continue -> 100 Continue, then 200), then
# purge the package and put everything back as it was.
#
# The system apache2 is not the Apache::Test server: it has its own
# configuration (/etc/apache2), pid file and ports. While the test runs,
# /etc/apache2/ports.conf is replaced by a file that listens on
# 127.0.0.1:<a free port> only (never on port 80 or on every address) and
# serves a temporary document root; the original file is written back at the
# end, apache2 is stopped again if it was not running before (restarted with
# its own configuration if it was), and module files that existed before the
# test (a `make install`, say) are moved aside and restored. Cleanup runs from
# an END block, so it also happens when a step fails or the test is killed
# with SIGTERM/SIGINT/SIGHUP. Every external command runs under `timeout`.
#
# Needs root (dpkg, /etc/apache2); skipped otherwise. Set MOD_EXPECT_DEB to
# a .deb built beforehand to test that file instead of building one.
use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use FindBin;
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time sleep);

my $PKG = 'libapache2-mod-expect';

if ($> != 0) {
    plan skip_all => "not root: this test installs $PKG into the system's "
        . 'apache2 (dpkg -i, a2enmod, apache2ctl restart) and purges it '
        . 'again, which needs root; run `make test` as root to include it';
}

my $top = abs_path("$FindBin::Bin/..");
$ENV{PATH} = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:"
    . ($ENV{PATH} // '');
# Let apache2ctl read /etc/apache2/envvars unaffected by the caller; keep
# the parent make's job server away from the package build.
delete @ENV{qw(APACHE_CONFDIR APACHE_ARGUMENTS APACHE_HTTPD APACHE_ENVVARS
               MAKEFLAGS MFLAGS MAKELEVEL)};
$ENV{DEBIAN_FRONTEND} = 'noninteractive';
$ENV{LC_ALL} = 'C';

my $CONFDIR   = '/etc/apache2';
my $PORTS     = "$CONFDIR/ports.conf";
my $MODS_AV   = "$CONFDIR/mods-available";
my $MODS_EN   = "$CONFDIR/mods-enabled";
my $MODDIR    = '/usr/lib/apache2/modules';
my @PKG_FILES = ("$MODDIR/mod_expect.so", "$MODS_AV/expect.load",
                 "$MODS_AV/expect.conf");
my @EN_LINKS  = ("$MODS_EN/expect.load", "$MODS_EN/expect.conf");

# Under /tmp whatever TMPDIR says: apache2's children (www-data) serve the
# document root from here.
my $tmp = tempdir('mod_expect-deb-t.XXXXXX', DIR => '/tmp', CLEANUP => 1);
chmod 0755, $tmp;

# Everything the END block needs to put back.
my %undo = (
    lock          => undef,   # file handle holding the lock
    ports         => undef,   # original ports.conf bytes, once replaced
    ports_mode    => undef,
    ports_saved   => undef,   # on-disk copy of the original (for a human)
    aside         => [],      # [original path, saved path] of moved files
    installed     => 0,       # dpkg -i was attempted
    server        => 0,       # apache2 was (re)started by the test
    was_running   => 0,
    port          => undef,   # where the test's configuration listens
    done          => 0,       # cleaning up: signals no longer abort
    cleaned       => 0,
);

# A signal is noted and acted on once the command or request under way has
# finished (each is bounded), so that no dpkg or apache2ctl is left running
# behind the cleanup.
my $caught;
$SIG{$_} = sub { $caught //= $_[0] } for qw(INT TERM HUP);
sub check_signal { die "deb.t: caught SIG$caught\n" if $caught && !$undo{done} }
$SIG{ALRM} = sub { die "deb.t: took longer than 20 minutes\n" };
alarm 1200;

END {
    local ($?, $!, $@);
    restore_system(0) if %undo && !$undo{cleaned};
}

# ---------------------------------------------------------------- helpers

sub sq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

# run(seconds, argv...) -> (exit status, combined output); stdin is /dev/null.
sub run {
    my ($secs, @argv) = @_;
    my $cmd = join ' ', 'timeout', '-k', 5, $secs, map { sq($_) } @argv;
    my $out = qx{$cmd </dev/null 2>&1};
    my $rc = $? == -1 ? 255 : $? >> 8;
    check_signal();
    return ($rc, $out // '');
}

# dpkg refuses to run while apt/dpkg hold the lock elsewhere: wait a little.
sub run_dpkg {
    my @argv = @_;
    my ($rc, $out);
    my $until = time + 120;
    while (1) {
        ($rc, $out) = run(300, 'dpkg', @argv);
        last if $rc == 0 || $out !~ /\block\b/i || time > $until;
        sleep 3;
    }
    return ($rc, $out);
}

sub show { diag(map { "  $_\n" } split /\n/, join '', @_) }

sub slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or return;
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $data, $mode) = @_;
    my $new = "$file.mod_expect-deb-t.new";
    open my $fh, '>:raw', $new or die "cannot write $new: $!\n";
    print $fh $data;
    close $fh or die "cannot write $new: $!\n";
    chmod $mode, $new if defined $mode;
    rename $new, $file or die "cannot rename $new to $file: $!\n";
}

sub pkg_status {
    my (undef, $out) = run(30, 'dpkg-query', '-W', '-f=${db:Status-Status}',
                           $PKG);
    return $out =~ /^(\w[\w-]*)$/ ? $1 : 'not-installed';
}

sub envvar {
    my $name = shift;
    my (undef, $out) = run(10, 'sh', '-c',
                           ". $CONFDIR/envvars >/dev/null 2>&1; "
                           . "printf %s \"\$$name\"");
    return $out;
}

my $PIDFILE = envvar('APACHE_PID_FILE') || '/var/run/apache2/apache2.pid';
my $LOGDIR  = envvar('APACHE_LOG_DIR')  || '/var/log/apache2';

# The pid of the running system apache2, from its pid file.
sub server_pid {
    my $pid = slurp($PIDFILE);
    return unless defined $pid && $pid =~ /^\s*(\d+)\s*$/;
    $pid = $1;
    return unless kill 0, $pid;
    my $exe = readlink "/proc/$pid/exe" // '';
    return $exe =~ m{/(apache2|httpd)\b} ? $pid : undef;
}

# apache2 binds its ports before it detaches and writes the pid file.
sub wait_server_pid {
    my $until = time + 15;
    my $pid;
    sleep 0.1 until ($pid = server_pid()) || time > $until;
    return $pid;
}

sub wait_stopped {
    my $pid = shift;
    my $until = time + 30;
    while (time < $until) {
        return 1 unless kill 0, $pid;
        sleep 0.2;
    }
    return !kill 0, $pid;
}

sub error_log_tail {
    my $log = slurp("$LOGDIR/error.log") // '';
    my @lines = split /\n/, $log;
    splice @lines, 0, @lines - 15 if @lines > 15;
    return join "\n", "$LOGDIR/error.log (last lines):", @lines;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "cannot find a free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Wait (bounded) until something accepts connections on 127.0.0.1:$port.
sub wait_listening {
    my ($port, $secs) = @_;
    my $until = time + $secs;
    while (time < $until) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Timeout => 2);
        if ($s) { close $s; return 1 }
        sleep 0.2;
    }
    return 0;
}

sub wait_not_listening {
    my ($port, $secs) = @_;
    my $until = time + $secs;
    while (time < $until) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Timeout => 2)
            or return 1;
        close $s;
        sleep 0.2;
    }
    return 0;
}

# Read one response (interim or final) from $sock, waiting at most until
# $deadline. Returns { status, reason, headers => { lc name => value },
# body } or undef (with the bytes seen) on timeout/EOF.
sub read_response {
    my ($sock, $bufref, $deadline) = @_;
    my $sel = IO::Select->new($sock);
    my $fill = sub {
        my $left = $deadline - time;
        return 0 if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $sock, my $chunk, 65536;
        return 0 unless $n;
        $$bufref .= $chunk;
        return 1;
    };
    while ($$bufref !~ /\r\n\r\n/) {
        $fill->() or return;
    }
    $$bufref =~ s/^(.*?)\r\n\r\n//s;
    my ($line, @fields) = split /\r\n/, $1;
    my ($status, $reason) = $line =~ m{^HTTP/1\.[01] (\d{3}) ?(.*)$}
        or return;
    my %h;
    for (@fields) {
        my ($k, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
        $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    my $body = '';
    if ($status >= 200 && $status != 204 && $status != 304) {
        my $len = $h{'content-length'} // 0;
        while (length $$bufref < $len) {
            $fill->() or last;
        }
        $body = substr $$bufref, 0, $len, '';
    }
    return { status => $status, reason => $reason, headers => \%h,
             body => $body };
}

sub connect_to {
    my $port = shift;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp', Timeout => 10);
}

# ---------------------------------------------------------------- cleanup

# Put the system back as it was. With $check, also assert that it is.
sub restore_system {
    my $check = shift;
    $undo{cleaned} = 1;
    # Nothing may cut the cleanup short.
    local $undo{done} = 1;
    alarm 0;
    my @problems;
    my $step = sub {
        my ($what, $ok, @detail) = @_;
        if ($check) { ok($ok, $what) or show(@detail) }
        elsif (!$ok) { push @problems, $what, @detail }
    };

    # 1. Stop the server the test started (a running one is restarted with
    #    its own configuration once that is back, in step 5).
    if ($undo{server} && !$undo{was_running}) {
        my $listening = $undo{port} && !wait_not_listening($undo{port}, 0.1);
        my $pid = $listening ? wait_server_pid() : server_pid();
        my ($rc, $out) = (0, '');
        ($rc, $out) = run(60, 'apache2ctl', 'stop') if $pid;
        my $stopped = $pid ? wait_stopped($pid) : 1;
        if (!$stopped && kill 0, $pid) {
            kill 'KILL', $pid;    # the server this test started
            $stopped = wait_stopped($pid);
        }
        $stopped &&= wait_not_listening($undo{port}, 30) if $undo{port};
        $step->('system apache2 stopped again (it was not running before)',
                $stopped, $out, error_log_tail());
        $undo{server} = 0 if $stopped;
    }

    # 2. Purge the package: dh_apache2's prerm/postrm disable the module.
    if ($undo{installed}) {
        my ($rc, $out) = (0, '');
        ($rc, $out) = run_dpkg('--purge', $PKG)
            if pkg_status() ne 'not-installed';
        $step->("dpkg --purge $PKG", $rc == 0, $out);
        my $status = pkg_status();
        $step->("$PKG is no longer known to dpkg",
                $status eq 'not-installed', $status);
        my @left = grep { -e $_ || -l $_ } @PKG_FILES, @EN_LINKS;
        $step->('the purge removed the module, expect.load, expect.conf and '
                . 'the mods-enabled links', !@left, "left behind: @left");
        unlink @left;
        $undo{installed} = 0 if $status eq 'not-installed';
    }

    # 3. ports.conf as it was.
    if (defined $undo{ports}) {
        my $ok = eval { spew($PORTS, $undo{ports}, $undo{ports_mode}); 1 };
        my $same = $ok && (slurp($PORTS) // '') eq $undo{ports};
        $step->("$PORTS restored byte for byte", $same, $@ || '');
        if ($same) {
            unlink $undo{ports_saved} if $undo{ports_saved};
            $undo{ports} = undef;
        }
        else {
            push @problems, "the original is kept in $undo{ports_saved}";
        }
    }

    # 4. Files that existed before the test (a `make install`, a2enmod).
    while (my $pair = pop @{ $undo{aside} }) {
        my ($orig, $saved) = @$pair;
        unlink $orig if -l $orig || -e $orig;
        my $ok = rename $saved, $orig;
        $step->("restored $orig", $ok, "$saved: $!");
    }

    # 5. A server that was running before runs again, with its own config.
    if ($undo{server} && $undo{was_running}) {
        my ($rc, $out) = server_pid() ? run(60, 'apache2ctl', 'restart')
                                      : run(60, 'apache2ctl', 'start');
        my $pid = wait_server_pid();
        $step->('system apache2 running again with its own configuration',
                $rc == 0 && $pid, $out);
        $undo{server} = 0;
    }
    if (@problems) {
        diag('deb.t cleanup after a failure:');
        show(join "\n", @problems);
    }
    if ($undo{lock}) {
        flock $undo{lock}, LOCK_UN;
        close $undo{lock};
        $undo{lock} = undef;
    }
}

# ---------------------------------------------------------------- the test

# One run at a time on this machine: two would fight over the system apache2.
my $lockfile = '/run/lock/mod_expect-deb-t.lock';
$lockfile = '/tmp/mod_expect-deb-t.lock' unless -d '/run/lock';
open $undo{lock}, '>>', $lockfile or die "cannot open $lockfile: $!\n";
{
    my $until = time + 600;
    until (flock $undo{lock}, LOCK_EX | LOCK_NB) {
        die "deb.t: $lockfile is held by another run for 10 minutes\n"
            if time > $until;
        check_signal();
        sleep 1;
    }
}

# Preconditions: apache2 with Debian's layout, and the package not installed
# already (the test would otherwise replace and purge someone's install).
ok(-x '/usr/sbin/apache2ctl' && -d $MODS_AV && -f $PORTS,
   "Debian's apache2 is installed (apache2ctl, $MODS_AV, $PORTS)")
    or do { done_testing(); exit 1 };
is(pkg_status(), 'not-installed', "$PKG is not installed before the test")
    or do {
        diag("deb.t leaves an existing installation of $PKG alone; "
             . "dpkg --purge $PKG to run this test");
        done_testing();
        exit 1;
    };

# ---- the package
my $deb = $ENV{MOD_EXPECT_DEB};
if ($deb) {
    $deb = abs_path($deb);
    ok(defined $deb && -f $deb, "MOD_EXPECT_DEB names a file") or show($deb // '');
}
else {
    my ($rc, $out) = run(600, 'make', '-C', $top, '--no-print-directory',
                         '-f', 'mk/deb.mk', 'deb', "DEB_OUT=$tmp/out");
    ($deb) = glob "$tmp/out/${PKG}_*.deb";
    ok($rc == 0 && $deb, 'make deb builds the package') or show($out);
}
$deb && -f $deb or do { done_testing(); exit 1 };

my ($arch_rc, $arch) = run(10, 'dpkg', '--print-architecture');
chomp $arch;
my ($ver_rc, $version) = run(10, 'dpkg-parsechangelog', '-l',
                             "$top/debian/changelog", '-S', 'Version');
chomp $version;
my $deb_name = $deb =~ s{.*/}{}r;
is($deb_name, "${PKG}_${version}_${arch}.deb",
   'the file is named libapache2-mod-expect_<version>_<arch>.deb');

my (undef, $fields) = run(30, 'dpkg-deb', '-f', $deb, 'Package', 'Depends');
like($fields, qr/^Package: \Q$PKG\E$/m, "the package is $PKG");
like($fields, qr/^Depends:.*\bapache2-api-\d+/m,
     "it depends on the apache2 module API (from dh-apache2)");
my (undef, $contents) = run(30, 'dpkg-deb', '-c', $deb);
for my $f (@PKG_FILES) {
    like($contents, qr{\s\.\Q$f\E$}m, "the package ships $f");
}

# ---- state before: server, pre-existing module files
my $before_pid = server_pid();
$undo{was_running} = $before_pid ? 1 : 0;
note($before_pid ? "system apache2 is running (pid $before_pid)"
                 : 'system apache2 is not running');

for my $f (@EN_LINKS, @PKG_FILES) {
    next unless -e $f || -l $f;
    # Same directory, so rename works; the name matches no Include pattern.
    my $saved = "$f.mod_expect-deb-t-aside";
    if (rename $f, $saved) {
        push @{ $undo{aside} }, [$f, $saved];
        note("moved $f aside for the test; it is put back afterwards");
    }
    else {
        fail("move $f aside: $!");
        done_testing();
        exit 1;
    }
}

# ---- install
$undo{installed} = 1;
my ($rc, $out) = run_dpkg('-i', $deb);
is($rc, 0, "dpkg -i $deb_name") or show($out);
is(pkg_status(), 'installed', "$PKG is installed");
ok(-f $_, "$_ is installed") for @PKG_FILES;
ok(!-e "$MODS_EN/expect.load",
   'installing does not enable the module by itself');
like(slurp("$MODS_AV/expect.load") // '',
     qr{^LoadModule expect_module /usr/lib/apache2/modules/mod_expect\.so$}m,
     'expect.load loads the installed module');

($rc, $out) = run(60, 'a2enmod', 'expect');
is($rc, 0, 'a2enmod expect') or show($out);
ok(-l "$MODS_EN/expect.load" && -f "$MODS_EN/expect.load",
   "a2enmod linked $MODS_EN/expect.load");

# ---- the system apache2 on 127.0.0.1:<free port>, with a document root
#      of the test's own
my $port = $undo{port} = free_port();
my $docroot = "$tmp/htdocs";
mkdir $docroot or die "cannot create $docroot: $!\n";
chmod 0755, $docroot;
my $page = "mod_expect package test $$ " . int(time) . "\n";
spew("$docroot/index.html", $page, 0644);

$undo{ports_mode} = (stat $PORTS)[2] & 07777;
$undo{ports} = slurp($PORTS) // die "cannot read $PORTS: $!\n";
$undo{ports_saved} = "/var/tmp/ports.conf.mod_expect-deb-t.$$";
spew($undo{ports_saved}, $undo{ports}, 0644);
spew($PORTS, <<"EOF", $undo{ports_mode});
# Temporary file written by mod_expect's t/deb.t (pid $$). The original is
# saved in $undo{ports_saved} and is put back when the test ends.
<IfModule !headers_module>
    LoadModule headers_module $MODDIR/mod_headers.so
</IfModule>
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    ServerName 127.0.0.1
    DocumentRoot "$docroot"
    <Directory "$docroot">
        Require all granted
    </Directory>
    Header always set X-Expect-Outcome "%{EXPECT_OUTCOME}e" env=EXPECT_OUTCOME
</VirtualHost>
EOF

($rc, $out) = run(60, 'apache2ctl', 'configtest');
is($rc, 0, 'apache2ctl configtest accepts the configuration') or show($out);
($rc, $out) = run(60, 'apache2ctl', '-M');
like($out, qr/^\s*expect_module \(shared\)/m,
     'apache2ctl -M lists expect_module');

$undo{server} = 1;
($rc, $out) = run(60, 'apache2ctl', $before_pid ? 'restart' : 'start');
is($rc, 0, 'apache2ctl ' . ($before_pid ? 'restart' : 'start')) or show($out);
ok(wait_listening($port, 30), "system apache2 answers on 127.0.0.1:$port")
    or show(error_log_tail());
my $pid = wait_server_pid();
ok($pid, 'system apache2 is running' . ($pid ? " (pid $pid)" : ''));

# ---- a refused expectation: JSON 417
my $sock = connect_to($port);
ok($sock, 'connected for the refused request') or show("$!");
if ($sock) {
    print $sock "GET / HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
        . "Expect: x-foo\r\nConnection: close\r\n\r\n";
    my $buf = '';
    my $r = read_response($sock, \$buf, time + 15);
    close $sock;
    is($r && $r->{status}, 417, 'Expect: x-foo is answered 417')
        or show($buf, error_log_tail());
    like($r && $r->{headers}{'content-type'} // '', qr{^application/json\b},
         '... with a JSON body');
    my $json = $r && eval { JSON::PP->new->decode($r->{body}) };
    ok(ref $json eq 'HASH', '... that parses') or show($r ? $r->{body} : '');
    $json ||= {};
    is($json->{status}, 417, '... "status": 417');
    is($json->{expect}, 'x-foo', '... "expect": the field as received');
    is_deeply($json->{unmet}, ['x-foo'], '... "unmet": ["x-foo"]');
    is_deeply($json->{supported}, ['100-continue'],
              '... "supported": ["100-continue"] (the defaults)');
    is($r && $r->{headers}{'x-expect-outcome'}, 'rejected',
       '... EXPECT_OUTCOME=rejected');
}

# ---- an accepted upload: 100 Continue, then 200
my $body = join '', map { sprintf "upload line %04d\n", $_ } 1 .. 300;
$sock = connect_to($port);
ok($sock, 'connected for the upload') or show("$!");
if ($sock) {
    print $sock "POST /index.html HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
        . "Content-Type: application/octet-stream\r\n"
        . 'Content-Length: ' . length($body) . "\r\n"
        . "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    my $buf = '';
    my $interim = read_response($sock, \$buf, time + 15);
    is($interim && $interim->{status}, 100,
       'Expect: 100-continue gets 100 Continue before the body is sent')
        or show($buf, error_log_tail());
    print $sock $body;
    my $r = $interim && $interim->{status} == 100
          ? read_response($sock, \$buf, time + 15) : $interim;
    close $sock;
    is($r && $r->{status}, 200, '... and 200 once the body has been sent')
        or show($buf);
    is($r && $r->{body}, $page, '... with the requested document');
    is($r && $r->{headers}{'x-expect-outcome'}, 'continue',
       '... EXPECT_OUTCOME=continue');
}

# ---- purge and put everything back (asserted)
check_signal();
restore_system(1);
ok(!defined $undo{ports_saved} || !-e $undo{ports_saved},
   'no backup of ports.conf left behind');
is(server_pid() ? 1 : 0, $undo{was_running},
   'system apache2 is ' . ($undo{was_running} ? 'running' : 'stopped')
   . ' as before the test');

done_testing();
