#!/usr/bin/env perl
# fuzz/wire/wire.pl: the differential wire fuzzer of mod_expect
# (fuzz/wire/README.md).  `make fuzz-wire` and `make wire-replay` run it.
#
#   wire.pl fuzz   [--streams N] [--seconds S] [--seed N] [--jobs J]
#   wire.pl replay [--verbose] FILE|DIR ...    run case files (reproducers)
#   wire.pl show   --seed N --stream K          print a generated case
#
# Common options: --module .libs/mod_expect.so --echo .libs/wire/mod_wire_echo.so
#                 --port-base 9400 --findings DIR --keep (keep the scratch dir)
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Cwd qw(abs_path);
use Getopt::Long qw(GetOptionsFromArray);

use Wire::Case;
use Wire::Gen;
use Wire::Run;
use Wire::Servers;

$| = 1;
my $top = abs_path("$FindBin::Bin/../..");
my $mode = shift @ARGV // '';
my %o = (streams => 10000, seconds => 0, jobs => 4, 'port-base' => 9400,
         module => "$top/.libs/mod_expect.so",
         echo => "$top/.libs/wire/mod_wire_echo.so",
         findings => "$top/.libs/wire/findings");
GetOptionsFromArray(\@ARGV, \%o, 'streams=i', 'seconds=i', 'seed=i', 'jobs=i',
                    'port-base=i', 'module=s', 'echo=s', 'findings=s', 'keep',
                    'verbose', 'stream=i')
    or die "usage: see the head of $0\n";
$o{seed} //= int(time % 1000000);

# A Ctrl-C or a TERM ends the run the ordinary way, so that the servers
# are stopped (Wire::Servers stops them when it goes away).
$SIG{INT} = $SIG{TERM} = sub { die "wire: interrupted\n" };

if ($mode eq 'show') {
    my $gen = Wire::Gen->new(seeds => Wire::Run::seeds_dir());
    print Wire::Gen::write_case($gen->gen($o{seed}, $o{stream} // 0),
                                "stream " . ($o{stream} // 0) . " of seed $o{seed}");
    exit 0;
}

my $servers = Wire::Servers->new(module => $o{module}, echo => $o{echo},
                                 port_base => $o{'port-base'}, keep => $o{keep});
print "wire: stock on 127.0.0.1:$servers->{ports}{stock}{defer}.., mod_expect on "
    . "127.0.0.1:$servers->{ports}{module}{defer}.. (scratch $servers->{dir})\n";
my $ok;
if ($mode eq 'fuzz') {
    print "wire: seed $o{seed}, streams " . ($o{streams} || 'unlimited')
        . ($o{seconds} ? ", at most $o{seconds} s" : '') . ", $o{jobs} workers\n";
    my $t = Wire::Run::fuzz(%o, servers => $servers);
    $ok = Wire::Run::report($t, sub { print @_, "\n" }, seed => $o{seed}, servers => $servers);
    if (@{ $t->{finding_files} }) {
        print "wire: reproducers: $_\n" for @{ $t->{finding_files} };
        print "wire: copy one into fuzz/wire/repro/ to have make test replay it\n";
    }
    print "wire: rerun this run with FUZZ_SEED=$o{seed}\n";
}
elsif ($mode eq 'replay') {
    my @files = map { -d $_ ? sort(glob("$_/*.case")) : $_ } @ARGV;
    my %stats;
    my $runner = Wire::Case->new(servers => $servers, stats => \%stats, debug => $o{verbose});
    my $bad = 0;
    for my $f (@files) {
        my $case = Wire::Gen::read_case($f);
        my $v = $runner->run($case);
        if (@{ $v->{findings} }) {
            $bad++;
            print "FAIL $f\n", map({ "  $_\n" } map { split /\n/ } @{ $v->{findings} });
        }
        else {
            print "ok   $f" . ($o{verbose} ? ' (' . join(', ', sort keys %{ $v->{rules} }) . ')' : '') . "\n";
        }
    }
    print "wire: replayed " . @files . " case files, $bad failed\n";
    $ok = !$bad && !$servers->crashes;
    print "wire: server crash: $_" for $servers->crashes;
}
else {
    die "usage: wire.pl fuzz|replay|show [options]\n";
}
$servers->stop;
exit($ok ? 0 : 1);
