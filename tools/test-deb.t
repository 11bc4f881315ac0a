# The Debian package, tested without installing it: `make test-deb`.
#
# Builds libapache2-mod-expect with `make deb` (or takes MOD_EXPECT_DEB, a
# .deb built beforehand), checks its name, fields, files and maintainer
# scripts, and unpacks it (dpkg-deb -x) into a throw-away root directory
# that also holds a copy of the system's apache2 configuration
# (/etc/apache2). In that copy, and only there:
#   * a2enmod expect enables the module (APACHE_CONFDIR and
#     APACHE_STATE_DIRECTORY point a2enmod at the copy);
#   * apache2ctl configtest and -M accept it;
#   * apache2, started with -d on the copy, listens on 127.0.0.1 and a free
#     port (ports.conf of the copy), answers a request mod_expect refuses
#     (Expect: x-foo: the JSON 417) and an upload it lets through
#     (Expect: 100-continue: 100 Continue, then 200), and stops;
#   * what the package's prerm and postrm do on remove and purge
#     (a2dismod, a2dismod --purge) is done, and with the package's files
#     gone the configuration still passes configtest.
# The copy's envvars send pid file, locks and logs into the throw-away root
# too. The system's apache2 (its configuration, its module directory, the
# state a2enmod keeps, dpkg's database) is left as it was, which the last
# checks assert from snapshots taken before and after.
#
# Needs Debian's apache2 (a2enmod, apache2ctl) and, to build the package,
# what `make deb` needs; runs as any user.
use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use Digest::SHA ();
use File::Find ();
use File::Temp qw(tempdir);
use FindBin;
use IO::Socket::INET ();
use Test::More;
use Time::HiRes qw(sleep time);

use lib "$FindBin::Bin/../t/lib";
use ExpectClient ();
use ExpectJSON;
use ExpectTable;

my $PKG = 'libapache2-mod-expect';
my $top = abs_path("$FindBin::Bin/..");
$ENV{PATH} = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:"
    . ($ENV{PATH} // '');
# The copy's own settings only; keep the parent make's job server away
# from the package build.
delete @ENV{qw(APACHE_CONFDIR APACHE_ARGUMENTS APACHE_HTTPD APACHE_ENVVARS
               APACHE_STATE_DIRECTORY MAKEFLAGS MFLAGS MAKELEVEL)};
$ENV{LC_ALL} = 'C';

my $SYSCONF = '/etc/apache2';
my $MODDIR  = '/usr/lib/apache2/modules';
my @PKG_FILES = ("$MODDIR/mod_expect.so", "$SYSCONF/mods-available/expect.load",
                 "$SYSCONF/mods-available/expect.conf");

# Under /tmp whatever TMPDIR says: apache2's children (www-data) read the
# document root from here.
my $tmp = tempdir('mod_expect-test-deb.XXXXXX', DIR => '/tmp', CLEANUP => 1);
chmod 0755, $tmp;
my $root = "$tmp/root";
my $conf = "$root$SYSCONF";          # the copy of /etc/apache2
my $state = "$root/var/lib/apache2";  # a2enmod's state for the copy
mkdir $_ or die "cannot create $_: $!\n"
    for $root, "$root/etc", "$root/run", "$root/lock", "$root/log", "$root/var",
        "$root/var/lib", $state, "$root/htdocs";
chmod 0755, $_ for $root, "$root/htdocs";
chmod 0777, "$root/log";

# ---------------------------------------------------------------- helpers

sub sq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

# run(seconds, argv...) -> (exit status, combined output); stdin is /dev/null.
sub run {
    my ($secs, @argv) = @_;
    my $cmd = join ' ', 'timeout', '-k', 5, $secs, map { sq($_) } @argv;
    my $out = qx{$cmd </dev/null 2>&1};
    return ($? == -1 ? 255 : $? >> 8, $out // '');
}

# A command against the copy: apache2ctl, a2enmod and apache2 itself read
# the copy's envvars and directories.
sub in_copy {
    my ($secs, @argv) = @_;
    local $ENV{APACHE_CONFDIR} = $conf;
    local $ENV{APACHE_STATE_DIRECTORY} = $state;
    return run($secs, @argv);
}

# apache2 -d <copy> -k start|stop, as apache2ctl does it without systemd.
sub apache2 {
    my $what = shift;
    return in_copy(60, 'sh', '-c', '. "$APACHE_CONFDIR/envvars" && '
                   . 'exec apache2 -d "$APACHE_CONFDIR" -k ' . $what);
}

sub slurp {
    my $file = shift;
    open my $fh, '<:raw', $file or return;
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $data, $mode) = @_;
    open my $fh, '>:raw', $file or die "cannot write $file: $!\n";
    print $fh $data;
    close $fh or die "cannot write $file: $!\n";
    chmod $mode, $file if defined $mode;
}

sub pid_of {
    my $pid = slurp("$root/run/apache2.pid") // return;
    return $pid =~ /^\s*(\d+)\s*$/ && kill(0, $1) ? $1 : undef;
}

sub listening {
    my $port = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 2);
    close $s if $s;
    return !!$s;
}

sub wait_for {
    my ($secs, $test) = @_;
    my $until = time + $secs;
    until ($test->()) {
        return 0 if time > $until;
        sleep 0.2;
    }
    return 1;
}

sub error_log_tail {
    my @lines = split /\n/, slurp("$root/log/error.log") // '';
    splice @lines, 0, @lines - 15 if @lines > 15;
    return join "\n", "$root/log/error.log (last lines):", @lines;
}

# The host's apache2 as the files say it is: every path with its type,
# mode, owner, size, link target and (for files) SHA-256.
my @WATCH = ($SYSCONF, '/var/lib/apache2', $MODDIR, '/var/lib/dpkg/status');
sub snapshot {
    my $path = shift;
    my @entries;
    return '(absent)' unless -e $path || -l $path;
    File::Find::find({ no_chdir => 1, wanted => sub {
        my @st = lstat $_ or return;
        my $sum = -f _ && !-l _ ? Digest::SHA->new(256)->addfile($_)->hexdigest : '';
        push @entries, join ' ', $_, sprintf('%o', $st[2]), @st[4, 5, 7],
                       (-l $_ ? readlink $_ : ''), $sum;
    } }, $path);
    return join "\n", sort @entries;
}
my %before = map { $_ => snapshot($_) } @WATCH;

my $pid;
END {
    local ($?, $!, $@);
    # the server the test started, also when a step failed
    if (my $p = pid_of()) {
        apache2('stop');
        wait_for(30, sub { !kill 0, $p }) or kill 'KILL', $p;
    }
}

# ---------------------------------------------------------------- phases

my ($deb, $port);
my $page = "mod_expect package test $$\n";

sub build {
    my %r;
    if ($ENV{MOD_EXPECT_DEB}) {
        $deb = abs_path($ENV{MOD_EXPECT_DEB});
        %r = (built => $deb && -f $deb, out => "MOD_EXPECT_DEB=$ENV{MOD_EXPECT_DEB}");
    }
    else {
        my ($rc, $out) = run(900, 'make', '-C', $top, '--no-print-directory',
                             '-f', 'mk/deb.mk', 'deb', "DEB_OUT=$tmp/out");
        ($deb) = glob "$tmp/out/${PKG}_*.deb";
        %r = (built => $rc == 0 && $deb, out => $out);
    }
    return \%r unless $deb && -f $deb;
    my (undef, $arch) = run(10, 'dpkg', '--print-architecture');
    my (undef, $version) = run(10, 'dpkg-parsechangelog', '-l', "$top/debian/changelog",
                               '-S', 'Version');
    chomp($arch, $version);
    my (undef, $fields) = run(30, 'dpkg-deb', '-f', $deb, 'Package', 'Depends');
    my (undef, $contents) = run(30, 'dpkg-deb', '-c', $deb);
    return { %r, name => $deb =~ s{.*/}{}r, want_name => "${PKG}_${version}_${arch}.deb",
             fields => $fields, contents => $contents };
}

sub scripts {
    die "no package to test\n" unless $deb && -f $deb;
    my $dir = "$tmp/control";
    my ($rc, $out) = run(30, 'dpkg-deb', '-e', $deb, $dir);
    die "dpkg-deb -e: $out\n" if $rc;
    return { map { $_ => scalar slurp("$dir/$_") } qw(conffiles postinst prerm postrm) };
}

sub unpack_into_copy {
    # the system's configuration first, then the package on top of it
    my ($rc, $out) = run(60, 'cp', '-a', $SYSCONF, "$root/etc/");
    die "cannot copy $SYSCONF: $out\n" if $rc;
    # a module enabled on the host (a make install, say) is not the package's
    unlink glob "$conf/mods-enabled/expect.*";
    ($rc, $out) = run(60, 'dpkg-deb', '-x', $deb, $root);
    die "dpkg-deb -x: $out\n" if $rc;
    my $load = slurp("$conf/mods-available/expect.load") // '';
    # The package's expect.load names the module where dpkg would install it;
    # the copy loads the one unpacked into the throw-away root.
    (my $copy_load = $load) =~ s{\Q$MODDIR\E/mod_expect\.so}{$root$MODDIR/mod_expect.so};
    spew("$conf/mods-available/expect.load", $copy_load);
    # pid file, locks and logs inside the root
    spew("$conf/envvars", (slurp("$conf/envvars") // '') . <<"EOF");

# written by tools/test-deb.t: this copy keeps its files in $root
export APACHE_PID_FILE=$root/run/apache2.pid
export APACHE_RUN_DIR=$root/run
export APACHE_LOCK_DIR=$root/lock
export APACHE_LOG_DIR=$root/log
EOF
    # 127.0.0.1 and a free port only, and a document root of the test's own
    $port = do {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, ReuseAddr => 1) or die $!;
        $s->sockport;
    };
    spew("$root/htdocs/index.html", $page, 0644);
    spew("$conf/ports.conf", <<"EOF", 0644);
# written by tools/test-deb.t
<IfModule !headers_module>
    LoadModule headers_module $MODDIR/mod_headers.so
</IfModule>
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    ServerName 127.0.0.1
    DocumentRoot "$root/htdocs"
    <Directory "$root/htdocs">
        Require all granted
    </Directory>
    Header always set X-Expect-Outcome "%{EXPECT_OUTCOME}e" env=EXPECT_OUTCOME
</VirtualHost>
EOF
    return { root => $root, load => $load, copy_load => slurp("$conf/mods-available/expect.load") };
}

sub enable {
    my ($rc, $out) = in_copy(60, 'a2enmod', 'expect');
    my ($trc, $tout) = in_copy(60, 'apache2ctl', 'configtest');
    my (undef, $mods) = in_copy(60, 'apache2ctl', '-M');
    return { a2enmod => [$rc, $out], configtest => [$trc, $tout], modules => $mods };
}

sub start {
    my ($rc, $out) = apache2('start');
    my $up = wait_for(30, sub { listening($port) });
    $pid = wait_for(15, sub { pid_of() }) && pid_of();
    return { start => [$rc, $out . ($up ? '' : "\n" . error_log_tail())], up => $up,
             pid => $pid };
}

# Expect: x-foo: refused with the JSON 417.
sub refused {
    return ExpectClient::request(port => $port, path => '/', expect => ['x-foo']);
}

# Expect: 100-continue with a body: 100 Continue first, then 200.
sub upload {
    my $body = join '', map { sprintf "upload line %04d\n", $_ } 1 .. 300;
    my $c = ExpectClient->new('127.0.0.1', $port);
    $c->send("POST /index.html HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
             . "Content-Type: application/octet-stream\r\n"
             . 'Content-Length: ' . length($body) . "\r\n"
             . "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    my $first = $c->response;
    $c->send($body) if $first && $first->code == 100;
    my ($res) = $first && $first->code == 100 ? $c->final : ($first);
    $c->close;
    $res ||= HTTP::Response->parse('');
    return { first => $first, res => $res, body => $res->content };
}

sub stop {
    my ($rc, $out) = apache2('stop');
    my $gone = wait_for(30, sub { !kill 0, $pid });
    return { stop => [$rc, $out], gone => $gone,
             closed => wait_for(30, sub { !listening($port) }) };
}

# What prerm (remove) and postrm (purge) run through apache2_invoke, then
# the package's files gone as dpkg --purge would remove them.
sub remove_and_purge {
    my @remove = in_copy(60, 'a2dismod', '-m', '-f', '-q', 'expect');
    my @links = grep { -e $_ || -l $_ } map { "$conf/mods-enabled/expect.$_" } qw(load conf);
    my @purge = in_copy(60, 'a2dismod', '-p', '-f', '-q', 'expect');
    unlink map { "$root$_" } @PKG_FILES;
    my @state;
    File::Find::find(sub { push @state, $File::Find::name if /^expect$/ }, $state);
    my ($trc, $tout) = in_copy(60, 'apache2ctl', 'configtest');
    return { remove => \@remove, links => \@links, purge => \@purge, state => \@state,
             configtest => [$trc, $tout] };
}

sub host {
    return { map { $_ => snapshot($_) } @WATCH };
}

# ---------------------------------------------------------------- checks

sub ok_check {
    my ($label, $got, $diag) = @_;
    return { label => $label, want => 1, cmp => 'ok', got => $got,
             ($diag ? (diag => $diag) : ()) };
}
# a command's [exit status, output]: exit 0, the output shown otherwise
sub cmd_check {
    my ($label, $key) = @_;
    return { label => $label, want => 0, got => sub { $_[0]{$key}[0] },
             diag => sub { $_[0]{$key}[1] } };
}

define package => sub {
    return (ok_check('make deb builds the package', sub { $_[0]{built} }, sub { $_[0]{out} }),
            { label => 'the file is named libapache2-mod-expect_<version>_<arch>.deb',
              want_of => sub { $_[0]{want_name} }, got => sub { $_[0]{name} } },
            { label => "the package is $PKG", want => qr/^Package: \Q$PKG\E$/m,
              got => sub { $_[0]{fields} } },
            { label => 'it depends on the apache2 module API (from dh-apache2)',
              want => qr/^Depends:.*\bapache2-api-\d+/m, got => sub { $_[0]{fields} } },
            map { my $f = $_;
                  +{ label => "the package ships $f", want => qr{\s\.\Q$f\E$}m,
                     got => sub { $_[0]{contents} } } } @PKG_FILES);
};
define scripts => sub {
    return ({ label => 'expect.load and expect.conf are conffiles (local edits survive upgrades)',
              want => [sort map { "$SYSCONF/mods-available/expect.$_" } qw(conf load)],
              got => sub { [sort split /\n/, $_[0]{conffiles} // ''] } },
            ok_check('installing does not enable the module by itself (no postinst enmod)',
                     sub { ($_[0]{postinst} // '') !~ /\benmod\b/ }),
            { label => 'prerm disables the module on remove',
              want => qr/"\$1" = "remove".*for conf in expect\b.*apache2_invoke dismod \$conf/s,
              got => sub { $_[0]{prerm} // '' } },
            { label => 'postrm disables the module on purge',
              want => qr/"\$1" = "purge".*for conf in expect\b.*apache2_invoke dismod \$conf/s,
              got => sub { $_[0]{postrm} // '' } });
};
define unpacked => sub {
    return ((map { my $f = $_;
                   ok_check("$f is in the unpacked package", sub { -f "$_[0]{root}$f" }) }
             @PKG_FILES),
            { label => 'expect.load loads the installed module',
              want => qr{^LoadModule expect_module \Q$MODDIR\E/mod_expect\.so$}m,
              got => sub { $_[0]{load} } },
            ok_check('the module is not enabled in the copy before a2enmod',
                     sub { !-e "$conf/mods-enabled/expect.load" }));
};
define enabled => sub {
    return (cmd_check('a2enmod expect', 'a2enmod'),
            ok_check('a2enmod linked mods-enabled/expect.load to mods-available',
                     sub { (readlink("$conf/mods-enabled/expect.load") // '')
                           eq '../mods-available/expect.load' }),
            ok_check("a2enmod kept its state in the copy's state directory",
                     sub { -e "$state/module/enabled_by_admin/expect" }),
            cmd_check('apache2ctl configtest accepts the configuration', 'configtest'),
            { label => 'apache2ctl -M lists expect_module', want => qr/^\s*expect_module \(shared\)/m,
              got => sub { $_[0]{modules} } });
};
define started => sub {
    return (cmd_check('apache2 -k start', 'start'),
            ok_check('apache2 answers on 127.0.0.1', sub { $_[0]{up} }),
            ok_check('its pid file is in the throw-away root', sub { $_[0]{pid} }));
};
define refused => sub {
    return ({ label => 'Expect: x-foo is answered 417', want => 417,
              got => sub { $_[0]{res}->code }, diag => sub { $_[0]{raw} } },
            { label => 'with a JSON body', want => qr{^application/json\b},
              got => sub { $_[0]{res}->header('Content-Type') // '' } },
            ok_check('that parses', sub { ref json_decode($_[0]{body}) eq 'HASH' }),
            { label => '"status": 417', want => 417, got => sub { json_object($_[0]{body})->{status} } },
            { label => '"expect": the field as received', want => 'x-foo',
              got => sub { json_object($_[0]{body})->{expect} } },
            { label => '"unmet": ["x-foo"]', want => ['x-foo'],
              got => sub { json_object($_[0]{body})->{unmet} } },
            { label => '"supported": ["100-continue"] (the defaults)', want => ['100-continue'],
              got => sub { json_object($_[0]{body})->{supported} } },
            { label => 'EXPECT_OUTCOME=rejected', want => 'rejected',
              got => sub { $_[0]{res}->header('X-Expect-Outcome') } });
};
define accepted => sub {
    return ({ label => 'Expect: 100-continue gets 100 Continue before the body is sent',
              want => 100, got => sub { $_[0]{first} && $_[0]{first}->code } },
            { label => 'and 200 once the body has been sent', want => 200,
              got => sub { $_[0]{res}->code } },
            { label => 'with the requested document', want => $page, got => sub { $_[0]{body} } },
            { label => 'EXPECT_OUTCOME=continue', want => 'continue',
              got => sub { $_[0]{res}->header('X-Expect-Outcome') } });
};
define stopped => sub {
    return (cmd_check('apache2 -k stop', 'stop'),
            ok_check('the server has exited', sub { $_[0]{gone} }),
            ok_check('nothing listens on its port any more', sub { $_[0]{closed} }));
};
define removed => sub {
    return ({ label => 'a2dismod expect (what prerm runs on remove)', want => 0,
              got => sub { $_[0]{remove}[0] }, diag => sub { $_[0]{remove}[1] } },
            { label => 'the mods-enabled links are gone', want => [],
              got => sub { $_[0]{links} } },
            { label => 'a2dismod --purge expect (what postrm runs on purge)', want => 0,
              got => sub { $_[0]{purge}[0] }, diag => sub { $_[0]{purge}[1] } },
            { label => 'no state about the module is left', want => [],
              got => sub { $_[0]{state} } },
            cmd_check('without the package the configuration still passes configtest',
                      'configtest'));
};
define unchanged => sub {
    return map { my $path = $_;
                 +{ label => "$path is as it was before the test",
                    want_of => sub { $before{$path} }, got => sub { $_[0]{$path} } } } @WATCH;
};

my @cases = (
    { name => 'the package',          run => \&build,            want => { package => 1 } },
    { name => 'maintainer scripts',   run => \&scripts,          want => { scripts => 1 } },
    { name => 'unpacked into a copy', run => \&unpack_into_copy, want => { unpacked => 1 } },
    { name => 'enabled in the copy',  run => \&enable,           want => { enabled => 1 } },
    { name => 'apache2 from the copy', run => \&start,           want => { started => 1 } },
    { name => 'a refused expectation', run => \&refused,         want => { refused => 1 } },
    { name => 'an accepted upload',   run => \&upload,           want => { accepted => 1 } },
    { name => 'stopped',              run => \&stop,             want => { stopped => 1 } },
    { name => 'removed and purged',   run => \&remove_and_purge, want => { removed => 1 } },
    { name => "the system's apache2", run => \&host,             want => { unchanged => 1 } },
);

# Without Debian's apache2 there is nothing to test the package against:
# that fails the run (tools/deps.sh test-deb installs it).
-x '/usr/sbin/a2enmod' && -x '/usr/sbin/apache2ctl' && -d "$SYSCONF/mods-available"
    or BAIL_OUT("Debian's apache2 is missing (a2enmod, apache2ctl, $SYSCONF)");
plan tests => count_checks(@cases);

run_cases(@cases);
