# Replays every file of the fuzz corpora (fuzz/corpus/parse, fuzz/corpus/json:
# seeds and every crash input ever found) through the property checks of both
# fuzz targets, built without libFuzzer: fuzz/replay.c is main(). The parser
# target also bounds the parser's work per input byte (basic blocks counted
# through -fsanitize-coverage=trace-pc). Built with AddressSanitizer and
# UBSan (checked), so a read past the input fails here too.
use strict;
use warnings FATAL => 'all';
use FindBin;

my $top = "$FindBin::Bin/..";
my @corpus = map { glob "$top/fuzz/corpus/$_/*" } qw(parse json);
my @targets = qw(parse json);

print "1..", 4 + @targets * (2 + @corpus), "\n";
my $n = 0;
sub ok {
    my ($cond, $name, @diag) = @_;
    $n++;
    print $cond ? "ok $n - $name\n" : "not ok $n - $name\n";
    print map { "# $_\n" } map { split /\n/ } @diag unless $cond;
    return $cond;
}

ok(scalar(grep m{/parse/}, @corpus) >= 20, 'the parser corpus has its seeds');
ok(scalar(grep m{/json/}, @corpus) >= 15, 'the JSON corpus has its seeds');

# One recipe builds the replay programs: mk/fuzz.mk's, the one `make fuzz`
# uses too.
my $out = qx{make --no-print-directory -C '$top' fuzz-replay-build 2>&1};
my $built = ok($? == 0, 'the replay builds compile (make fuzz-replay-build)',
               $out);
# A read past an input must fail here too: the programs carry AddressSanitizer
# (its report functions are linked in) and UBSan.
my $nm = $built ? qx{nm '$top/.libs/fuzz/replay_parse' 2>&1} : '';
ok($nm =~ /__asan_report_load/ && $nm =~ /__ubsan_handle/,
   'the replay builds carry ASan and UBSan');

for my $t (@targets) {
    my $bin = "$top/.libs/fuzz/replay_$t";
    unless (ok($built && -x $bin, "$t: the replay program exists")) {
        ok(0, "$t: $_") for map { s{^\Q$top/\E}{}r } @corpus;
        next;
    }
    $out = qx{$bin --selftest 2>&1};
    ok($? == 0 && $out =~ /selftest passed/,
       "$t: the checker's own checks (reference grammar/validator) pass", $out);

    for my $file (@corpus) {
        my $name = $file =~ s{^\Q$top/\E}{}r;
        $out = qx{$bin '$file' 2>&1};
        my $good = $? == 0 && $out =~ /^replayed /m;
        # The parser target must have counted work for a non-empty input,
        # or its linearity bound checked nothing.
        if ($good && $t eq 'parse' && -s $file) {
            $good = $out =~ /parser work [1-9]/;
            $out .= "\n(no parser work counted)" unless $good;
        }
        ok($good, "$t: $name", $out);
    }
}
