# Unit tests of the module's pure section (Expect list parser, JSON writer),
# compiled from mod_expect.c itself; see t/unit/expect_unit.c.
use strict;
use warnings FATAL => 'all';
use File::Temp qw(tempdir);
use FindBin;

my $top = "$FindBin::Bin/..";
my $dir = tempdir(CLEANUP => 1);
my $bin = "$dir/expect_unit";

sub query { my $q = qx{apxs -q $_[0] 2>/dev/null}; chomp $q; $q }
my $apr = query('APR_CONFIG') || 'apr-1-config';
my $cc = $ENV{CC} || 'cc';
my $cmd = join ' ', $cc, '-O1 -g -Wall -Wextra -Werror',
    '-Wno-unused-parameter -Wno-missing-field-initializers',
    '-ffunction-sections -fdata-sections',
    '-I' . query('INCLUDEDIR'), qx{$apr --includes --cppflags} =~ s/\n/ /gr,
    "$top/t/unit/expect_unit.c", '-o', $bin, '-Wl,--gc-sections',
    qx{$apr --link-ld --libs} =~ s/\n/ /gr, '2>&1';
my $out = qx{$cmd};
if ($? != 0) {
    print "1..1\nnot ok 1 - the unit tests build\n";
    print map { "# $_\n" } split /\n/, "$cmd\n$out";
    exit 1;
}
exec $bin or die "cannot run $bin: $!";
