#!/usr/bin/perl
# bench/cgdiff.pl: per-request instruction counts per function, from
# callgrind_annotate listings of runs that served N and 6N requests.
#
#   bench/cgdiff.pl N A_N.txt A_6N.txt B_N.txt B_6N.txt [MIN]
#
# Each file is `callgrind_annotate --threshold=100` output (self cost, or
# --inclusive=yes).  For every function it prints (B_6N - B_N)/5N,
# (A_6N - A_N)/5N and their difference: instructions per request, stock
# (A) against the module (B).  Rows whose difference is below MIN (default
# 1.0) in absolute value are left out, except the module's own functions
# (expect_*), which are always listed.
use strict;
use warnings;

my ($n, @files) = @ARGV;
my $min = @files > 4 ? pop @files : 1.0;
die "usage: $0 N A_N A_6N B_N B_6N [MIN]\n" unless @files == 4 && $n > 0;

# "file:function [object]" -> "function [object]".  Callgrind sometimes
# lists a function twice, once without its object (code inlined from
# another file); such entries are merged into the one with the object.
sub key {
    my ($fn) = @_;
    my $obj = $fn =~ s{\s*\[(?:.*/)?([^/\]]+)\]$}{} ? $1 : '';
    $fn =~ s/^.*://;
    return ($fn, $obj);
}

sub load {
    my ($file) = @_;
    my (%cost, %objless);
    open my $fh, '<', $file or die "$0: $file: $!\n";
    while (<$fh>) {
        # "  1,234 ( 0.01%)  file:function [object]" (some versions omit
        # the percentage)
        next unless /^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?(\S.*?)\s*$/;
        my ($ir, $fn) = ($1, $2);
        next if $fn eq 'PROGRAM TOTALS' || $fn =~ /^[*<>]/;
        $ir =~ tr/,//d;
        my ($name, $obj) = key($fn);
        if ($obj eq '') {
            $objless{$name} += $ir;
        }
        else {
            $cost{"$name [$obj]"} += $ir;
        }
    }
    for my $name (keys %objless) {
        my ($k) = grep { /^\Q$name\E \[/ } keys %cost;
        $cost{$k // $name} += $objless{$name};
    }
    return \%cost;
}

my @c = map { load($_) } @files;
my %fn = map { %$_ } @c;
my @rows;
for my $f (keys %fn) {
    my @v = map { $_->{$f} // 0 } @c;
    my $a = ($v[1] - $v[0]) / (5 * $n);
    my $b = ($v[3] - $v[2]) / (5 * $n);
    my $d = $b - $a;
    next if abs($d) < $min && $f !~ /^expect_/;
    push @rows, [$f, $a, $b, $d];
}
printf "%10s %10s %10s  %s\n", 'stock', 'module', 'added', 'function (instructions per request)';
for my $r (sort { $b->[3] <=> $a->[3] || $a->[0] cmp $b->[0] } @rows) {
    printf "%10.1f %10.1f %+10.1f  %s\n", @$r[1, 2, 3, 0];
}
