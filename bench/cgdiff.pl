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
# 1.0) in absolute value are left out, except the module's own functions,
# which are always listed.  The module's functions are those of the object
# mod_expect.so, whatever source file they come from (mod_expect.c,
# expect_capture.c, expect_counters.c, expect_parse.c) and whether or not
# they have a name (an unnamed address in mod_expect.so is a PLT stub or a
# function without a symbol); those that never run per request are named
# on one line.  A named function is one row even when callgrind puts it in
# two objects (libc's stat and mmap show up under ld.so in some runs).  A
# second table adds the rows up per object (the module, httpd, each
# library): unnamed addresses of an object that shift between A and B,
# because the load addresses differ, net out there.
use strict;
use warnings;

my $module = qr/(?:^|\+)mod_expect\.so(?:\+|$)/;

my ($n, @files) = @ARGV;
my $min = @files > 4 ? pop @files : 1.0;
die "usage: $0 N A_N A_6N B_N B_6N [MIN]\n" unless @files == 4 && $n > 0;

# "file:function'2 [object]" -> ("function", "object").  Callgrind sometimes
# lists a function twice, once without its object (code inlined from
# another file); such entries are merged into the one with the object.
sub key {
    my ($fn) = @_;
    my $obj = $fn =~ s{\s*\[(?:.*/)?([^/\]]+)\]$}{} ? $1 : '';
    $fn =~ s/^.*://;
    $fn =~ s/'\d+$//;             # recursion levels count as one function
    return ($fn, $obj);
}

my %objects;   # function -> { object => 1 }

# Costs by function.  A named function is one row whatever object callgrind
# puts it in (it puts the same libc call, stat or mmap, now in libc and now
# in ld.so); an unnamed address is only meaningful within its object.
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
            next;
        }
        $name = "$name [$obj]" if $name =~ /^0x[0-9a-f]+$/;
        $cost{$name} += $ir;
        $objects{$name}{$obj} = 1;
    }
    for my $name (keys %objless) {
        $cost{$name} += $objless{$name};
        $objects{$name}{'(no object)'} = 1 unless $objects{$name};
    }
    return \%cost;
}

sub object { my ($f) = @_; return join('+', sort keys %{ $objects{$f} }); }

my @c = map { load($_) } @files;
my %fn = map { %$_ } @c;
my (@rows, @idle, %obj);
for my $f (keys %fn) {
    my @v = map { $_->{$f} // 0 } @c;
    my $a = ($v[1] - $v[0]) / (5 * $n);
    my $b = ($v[3] - $v[2]) / (5 * $n);
    my $d = $b - $a;
    my $o = object($f);
    $obj{$o}[0] += $a;
    $obj{$o}[1] += $b;
    my $mine = $o =~ $module;
    if ($mine && abs($a) < 0.05 && abs($b) < 0.05) {
        push @idle, $f =~ s/ \[.*\]$//r;
        next;
    }
    next if abs($d) < $min && !$mine;
    push @rows, [$f =~ / \[/ ? $f : "$f [$o]", $a, $b, $d];
}
printf "%10s %10s %10s  %s\n", 'stock', 'module', 'added', 'function (instructions per request)';
for my $r (sort { $b->[3] <=> $a->[3] || $a->[0] cmp $b->[0] } @rows) {
    printf "%10.1f %10.1f %+10.1f  %s\n", @$r[1, 2, 3, 0];
}
printf "%32s  mod_expect.so, not run per request: %s\n", '', join(', ', sort @idle)
    if @idle;

print "\n";
printf "%10s %10s %10s  %s\n", 'stock', 'module', 'added', 'per object (sum of all its functions)';
my ($ta, $tb) = (0, 0);
for my $o (sort { ($obj{$b}[1] - $obj{$b}[0]) <=> ($obj{$a}[1] - $obj{$a}[0]) || $a cmp $b }
           keys %obj) {
    my ($a, $b) = @{ $obj{$o} };
    $ta += $a;
    $tb += $b;
    next if abs($b - $a) < $min && $o !~ $module;
    printf "%10.1f %10.1f %+10.1f  %s\n", $a, $b, $b - $a, $o;
}
printf "%10.1f %10.1f %+10.1f  %s\n", $ta, $tb, $tb - $ta, 'all objects';
