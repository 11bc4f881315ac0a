# The differential wire fuzzer (fuzz/wire/README.md) inside `make test`:
# every reproducer in fuzz/wire/repro/ is replayed against stock httpd and
# httpd with mod_expect, started side by side from fuzz/wire/httpd.conf,
# and must show no difference the rules (fuzz/wire/lib/Wire/Rules.pm) do
# not explain; then a short random pass of generated streams, from a fixed
# seed that is printed, so that a failure can be rerun with
#   make fuzz-wire FUZZ_SEED=<seed> FUZZ_STREAMS=<streams>
#
# WIRE_SEED and WIRE_STREAMS change the random pass; WIRE_PORT_BASE the
# ports (default 9440; both servers use 9 ports each, stock from the base,
# mod_expect ten above; a block in use moves the pair up by 20, below
# 9500).  This file does not use the suite's own httpd.
use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectRelease qw(wire_rules_unmodelled);
use File::Basename qw(dirname);
use Test::More;

my $top;
BEGIN { $top = dirname(dirname(abs_path(__FILE__))) }
use lib "$top/fuzz/wire/lib";

use Wire::Case;
use Wire::Gen;
use Wire::Run;
use Wire::Servers;

if (my $why = wire_rules_unmodelled()) {
    plan skip_all => $why;
}

my $seed = $ENV{WIRE_SEED} // 14;
my $streams = $ENV{WIRE_STREAMS} // 300;

# The test-only echo module, built with apxs into .libs/wire (the suite
# has built the module itself, possibly with sanitizer flags: left as is).
my $out = `make -s --no-print-directory -C '$top' wire-echo 2>&1`;
is($?, 0, 'the echo module builds') or diag($out);
my $echo = "$top/.libs/wire/mod_wire_echo.so";
my $module = "$top/.libs/mod_expect.so";
ok(-f $module, "$module is built") or BAIL_OUT("run make first");

my $servers = eval {
    Wire::Servers->new(module => $module, echo => $echo,
                       port_base => $ENV{WIRE_PORT_BASE} // 9440);
};
if (!$servers) {
    fail("stock and mod_expect servers start: $@");
    done_testing();
    exit;
}
pass("stock on 127.0.0.1:$servers->{ports}{stock}{defer}, "
     . "mod_expect on 127.0.0.1:$servers->{ports}{module}{defer} (and the 8 ports after each)");

my %stats;
my $runner = Wire::Case->new(servers => $servers, stats => \%stats);

# Every reproducer kept so far.
for my $file (sort glob("$top/fuzz/wire/repro/*.case")) {
    my $case = Wire::Gen::read_case($file);
    my $v = $runner->run($case);
    my $name = "reproducer $case->{name}: " . ($case->{comment} =~ /^([^\n]*)/)[0];
    ok(!@{ $v->{findings} }, $name)
        or diag(join "\n", @{ $v->{findings} });
}

# A short random pass.
diag("random pass: seed $seed, $streams streams "
     . "(rerun: make fuzz-wire FUZZ_SEED=$seed FUZZ_STREAMS=$streams FUZZ_JOBS=1)");
my $gen = Wire::Gen->new(seeds => Wire::Run::seeds_dir());
my (@found, %classes);
for my $n (0 .. $streams - 1) {
    my $case = $gen->gen($seed, $n);
    my $v = Wire::Run::run_whole_and_split($runner, $case);
    next unless @{ $v->{findings} };
    (my $class = $v->{findings}[0]) =~ s/\n.*//s;
    $class =~ s/\d+/N/g;
    push @found, "stream $n ($case->{config}, $case->{transport}): "
        . join("\n", @{ $v->{findings} }) if !$classes{$class}++;
}
ok(!@found, "random pass: no unexplained difference in $streams streams")
    or diag(join "\n", "classes: " . join('; ', map { "$classes{$_} x $_" } sort keys %classes),
            "first of each class:", @found);
diag(sprintf("replays and random pass: %d streams, %d connections", $stats{streams} // 0,
             $stats{connections} // 0));

my @crash = $servers->crashes;
ok(!@crash, 'no server crashed') or diag(join '', @crash);
$servers->stop;
done_testing();
