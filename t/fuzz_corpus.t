# Replays every file of the fuzz corpora (fuzz/corpus/parse, fuzz/corpus/json:
# seeds and every crash input ever found) through the property checks of both
# fuzz targets, built without libFuzzer: fuzz/replay.c is main(). The parser
# target also bounds the parser's work per input byte (basic blocks counted
# through -fsanitize-coverage=trace-pc). Built with AddressSanitizer and
# UBSan when the compiler can, so a read past the input fails here too.
use strict;
use warnings FATAL => 'all';
use File::Temp qw(tempdir);
use FindBin;

my $top = "$FindBin::Bin/..";
my $dir = tempdir(CLEANUP => 1);

sub query { my $q = qx{apxs -q $_[0] 2>/dev/null}; chomp $q; $q }
my $apr = query('APR_CONFIG') || 'apr-1-config';
my $cc = $ENV{CC} || 'cc';
my $includes = join ' ', '-I' . query('INCLUDEDIR'),
    qx{$apr --includes --cppflags} =~ s/\n/ /gr;
my $libs = qx{$apr --link-ld --libs} =~ s/\n/ /gr;
my $is_clang = qx{$cc --version 2>/dev/null} =~ /clang/;
my $common = '-O1 -g -Wall -Wextra -Wno-unused-parameter'
    . ' -Wno-missing-field-initializers -ffunction-sections -fdata-sections';

# Sanitizers when the toolchain has them (a tiny program must build and run).
my $san = '-fsanitize=address,undefined -fno-sanitize-recover=all';
{
    open my $fh, '>', "$dir/probe.c" or die;
    print $fh "#include <stdlib.h>\nint main(void){char*p=malloc(4);p[0]=0;free(p);return 0;}\n";
    close $fh;
    system("$cc $san $dir/probe.c -o $dir/probe >/dev/null 2>&1") == 0
        && system("$dir/probe >/dev/null 2>&1") == 0
        or $san = '';
}
# ASan's metadata for globals would keep the module's httpd glue from being
# garbage-collected; the input copies are on the heap, which stays checked.
my $globals = !$san ? '' : $is_clang ? '-mllvm -asan-globals=0'
                                     : '--param asan-globals=0';

my @corpus = map { glob "$top/fuzz/corpus/$_/*" } qw(parse json);
my @targets = qw(parse json);

print "1..", 3 + @targets * (2 + @corpus), "\n";
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
ok(1, 'built with ' . ($san ? 'ASan+UBSan' : 'no sanitizer (none available)'));

for my $t (@targets) {
    my $bin = "$dir/replay_$t";
    my @cmds = (
        "$cc $common $san $globals -fsanitize-coverage=trace-pc -DFUZZ_COUNT_WORK"
            . " $includes -c $top/fuzz/fuzz_$t.c -o $bin.o",
        "$cc $common $san -c $top/fuzz/replay.c -o $bin.main.o",
        "$cc $common $san -o $bin $bin.o $bin.main.o -Wl,--gc-sections $libs",
    );
    my $out = '';
    for my $cmd (@cmds) {
        $out .= "$cmd\n" . qx{$cmd 2>&1};
        last if $?;
    }
    unless (ok($? == 0, "$t: the replay build compiles", $out)) {
        ok(0, "$t: $_") for 'selftest', map { s{^\Q$top/\E}{}r } @corpus;
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
