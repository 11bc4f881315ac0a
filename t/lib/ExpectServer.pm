package ExpectServer;

# Standalone httpd configurations, for the tests that check configurations
# with `httpd -t` (t/configtest.t, t/docs.t) or need a server of their own
# (t/status.t). They use the httpd, the module directory and the module
# build of the Apache::Test run (t/TEST.PL: APXS, APACHE_TEST_HTTPD), and
# load modules the way t/TEST.PL does: only those not compiled into httpd.
#
#   my $conf = ExpectServer::config($dir,
#       mpm => [qw(event worker prefork)],    # the first one there is
#       modules => [qw(status headers)],      # those that exist are loaded
#       expect => 0,                          # stock httpd: no mod_expect
#       lines => ['ServerName 127.0.0.1', ...]);
#   my ($ok, $output, $exit) = ExpectServer::configtest($dir, $conf);
#   ExpectServer::ctl($conf, 'start');        # httpd -f $conf -k start

use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec::Functions qw(catfile);

my ($httpd, $libexec);
sub httpd   { $httpd //= Apache::Test::vars('httpd') }
sub libexec { $libexec //= do { local $_; Apache::Test::config()->apxs('LIBEXECDIR') } }

# The module under test, built in .libs/.
sub module_so {
    return abs_path(catfile(dirname(__FILE__), '..', '..', '.libs', 'mod_expect.so'));
}

my %static;
sub compiled_in {
    my $name = shift;    # "mod_status.c", "prefork.c"
    if (!%static) {
        my $bin = httpd();
        %static = map { /^\s*(\S+\.c)\s*$/ ? ($1 => 1) : () } qx{"$bin" -l 2>/dev/null};
    }
    return $static{$name};
}

sub so_of { my $name = shift; return catfile(libexec(), "mod_$name.so") }

# The MPM to load from a list of preferences: the LoadModule line (empty
# when one of them is compiled in), or undef when none is there.
sub mpm_line {
    my @mpms = @_;
    for my $mpm (@mpms) {
        return '' if compiled_in("$mpm.c");
    }
    for my $mpm (@mpms) {
        my $so = so_of("mpm_$mpm");
        return qq{LoadModule mpm_${mpm}_module "$so"} if -f $so;
    }
    return;
}

# LoadModule lines for the modules that are shared objects here; a module
# that is neither compiled in nor there is left out.
sub module_lines {
    my @lines;
    for my $name (@_) {
        my $so = so_of($name);
        push @lines, qq{LoadModule ${name}_module "$so"}
            if !compiled_in("mod_$name.c") && -f $so;
    }
    return @lines;
}

# The text of a configuration rooted in $dir: the MPM, the modules every
# standalone server needs (unixd for User/Group, log_config, authz_core),
# the modules asked for, mod_expect (not with expect => 0: stock httpd),
# then the lines given.
sub config_text {
    my ($dir, %opt) = @_;
    my $mpm = mpm_line(@{ $opt{mpm} || [qw(event worker prefork)] });
    die 'no MPM among ' . join(', ', @{ $opt{mpm} || [] }) . ' in ' . libexec() . "\n"
        unless defined $mpm;
    return join '', map { "$_\n" } (
        qq{ServerRoot "$dir"},
        qq{PidFile "$dir/httpd.pid"},
        qq{ErrorLog "$dir/error_log"},
        qq{DefaultRuntimeDir "$dir"},
        ($mpm ? $mpm : ()),
        module_lines(qw(unixd log_config authz_core), @{ $opt{modules} || [] }),
        (($opt{expect} // 1) ? qq{LoadModule expect_module "} . module_so() . '"' : ()),
        @{ $opt{lines} || [] },
    );
}

# Write config_text to $dir/$name (default httpd.conf); returns its path.
sub config {
    my ($dir, %opt) = @_;
    my $conf = catfile($dir, $opt{name} || 'httpd.conf');
    open my $fh, '>', $conf or die "$conf: $!\n";
    print $fh config_text($dir, %opt);
    close $fh or die "$conf: $!\n";
    chmod 0644, $conf;
    return $conf;
}

# `httpd -t`: (passed, output, exit status).
sub configtest {
    my ($dir, $conf) = @_;
    my $bin = httpd();
    my $out = qx{timeout 60 "$bin" -t -d "$dir" -f "$conf" 2>&1 </dev/null};
    my $rc = $? >> 8;
    return ($rc == 0 && $out =~ /Syntax OK/, $out, $rc);
}

# `httpd -f $conf -k start|graceful|stop`: true when httpd says so.
sub ctl {
    my ($conf, $what) = @_;
    return system('timeout', 60, httpd(), '-f', $conf, '-k', $what) == 0;
}

1;
