# Unit tests of the module's pure unit (expect_parse.c: the Expect list
# parser and the JSON writer), built by `make unit-build` (mk/fuzz.mk) from
# t/unit/expect_unit.c and expect_parse.c with APR alone.
use strict;
use warnings FATAL => 'all';
use FindBin;

my $top = "$FindBin::Bin/..";
my $out = qx{make --no-print-directory -C '$top' unit-build 2>&1};
if ($? != 0) {
    print "1..1\nnot ok 1 - the unit tests build (make unit-build)\n";
    print map { "# $_\n" } split /\n/, $out;
    exit 1;
}
my $bin = "$top/.libs/fuzz/expect_unit";
exec $bin or die "cannot run $bin: $!";
