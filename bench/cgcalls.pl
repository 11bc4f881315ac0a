#!/usr/bin/perl
# bench/cgcalls.pl: allocations, copies and mod_expect's calls, per request.
#
#   bench/cgcalls.pl N A_N.tree A_6N.tree B_N.tree B_6N.tree
#
# The files are `callgrind_annotate --tree=both` output of the runs that
# served N and 6N requests, stock (A) and with the module (B).  Figures are
# per request: (6N - N) / 5N.
#
# 1. Every function that allocates memory or copies bytes (apr_palloc,
#    apr_pstrdup, memcpy, ...): how often it is called per request in A and
#    in B.  A module that neither allocates nor copies on this path leaves
#    these counts as they are.
# 2. mod_expect's functions (those of the object mod_expect.so, from any
#    of its source files): own instructions, and each callee with calls
#    and inclusive instructions.  Callgrind attributes calls through tail
#    jumps (httpd's filter chain, apr_bucket_read) to the function that
#    made the jump, so the callee list is indicative; part 1 is exact.
use strict;
use warnings;

my ($n, @files) = @ARGV;
die "usage: $0 N A_N A_6N B_N B_6N\n" unless @files == 4 && $n > 0;

my $watch = qr/^(?:apr_palloc|apr_pcalloc|apr_pstr\w*dup|apr_pstrcat|apr_psprintf
                |apr_pvsprintf|apr_pmemdup|apr_array_make|apr_array_push
                |apr_array_copy\w*|apr_table_make|apr_table_copy|apr_table_set
                |apr_table_add|apr_table_merge|apr_brigade_create|apr_bucket_alloc
                |apr_bucket_\w+_create|apr_hash_make|malloc|calloc|realloc
                |(?:__)?(?:memcpy|memmove|mempcpy|strcpy|strncpy|stpcpy)\w*
                |apr_cpystrn|apr_brigade_flatten|apr_brigade_pflatten)$/x;

my $module = qr/\[(?:[^\]]*\/)?mod_expect\.so\]$/;

sub name {
    my ($fn) = @_;
    # An unnamed address means something only within its object.
    my ($obj) = $fn =~ m{\[(?:[^\]]*/)?([^/\]]+)\]$};
    $fn =~ s/\s*\[[^\]]*\]$//;
    $fn =~ s/\s*\(\d[\d,]*x\)$//;
    $fn =~ s/^.*://;
    $fn =~ s/'\d+$//;             # recursion levels count as one function
    $fn .= " [$obj]" if $fn =~ /^0x[0-9a-f]+$/ && defined $obj;
    return $fn;
}

sub num { my ($v) = @_; $v =~ tr/,//d; return $v; }

sub load {
    my ($file) = @_;
    my (%self, %callees, %called, %mine, @callers);
    my $cur;
    open my $fh, '<', $file or die "$0: $file: $!\n";
    while (<$fh>) {
        next unless /^\s*([\d,]+)\s+(?:\([\s\d.]+%\)\s+)?([<*>])\s+(.*?)\s*$/;
        my ($ir, $kind, $fn) = (num($1), $2, $3);
        my ($count) = $fn =~ /\(([\d,]+)x\)/;
        $count = defined $count ? num($count) : 0;
        if ($kind eq '<') {
            push @callers, $count;
        }
        elsif ($kind eq '*') {
            $cur = name($fn);
            $called{$cur} += $_ for @callers;
            @callers = ();
            $mine{$cur} = 1 if $fn =~ $module;
            $self{$cur} += $ir;
        }
        elsif ($cur) {
            my $callee = name($fn);
            $callees{$cur}{$callee}[0] += $count;
            $callees{$cur}{$callee}[1] += $ir;
        }
    }
    # A function of the module may also be listed without its object (code
    # callgrind could not place): it counts as the module's all the same.
    for my $fn (keys %self) {
        next if $mine{$fn};
        delete $self{$fn};
        delete $callees{$fn};
    }
    return { self => \%self, callees => \%callees, called => \%called };
}

my @d = map { load($_) } @files;
sub per { my ($x, $y) = @_; return (($y // 0) - ($x // 0)) / (5 * $n); }

print "allocating and copying functions, calls per request (all callers):\n";
printf "    %-34s %8s %8s %8s\n", 'function', 'stock', 'module', 'added';
my %w = map { $_ => 1 } grep { $_ =~ $watch }
        map { keys %{ $_->{called} } } @d;
my $added = 0;
for my $f (sort keys %w) {
    my $a = per($d[0]{called}{$f}, $d[1]{called}{$f});
    my $b = per($d[2]{called}{$f}, $d[3]{called}{$f});
    next if abs($a) < 0.005 && abs($b) < 0.005;
    printf "    %-34s %8.2f %8.2f %+8.2f\n", $f, $a, $b, $b - $a;
    # A call made on every request shows as a whole number; fractions are
    # per-connection or per-process work spread over the requests.
    $added = 1 if $b - $a >= 0.5;
}
print $added ? "=> the module adds allocation or copy calls on this path\n"
             : "=> no allocation and no copy added by the module on this path\n";

print "\nmod_expect's functions (B): own Ir per request, callees (indicative)\n";
my ($b1, $b6) = @d[2, 3];
my %fns = map { $_ => 1 } keys %{ $b1->{self} }, keys %{ $b6->{self} };
for my $fn (sort keys %fns) {
    my $self = per($b1->{self}{$fn}, $b6->{self}{$fn});
    next if abs($self) < 0.05;
    printf "    %-34s %8.1f Ir (self)\n", $fn, $self;
    my %c = map { $_ => 1 } keys %{ $b1->{callees}{$fn} || {} },
                            keys %{ $b6->{callees}{$fn} || {} };
    for my $callee (sort keys %c) {
        my $calls = per($b1->{callees}{$fn}{$callee}[0], $b6->{callees}{$fn}{$callee}[0]);
        next if abs($calls) < 0.005;
        printf "        -> %-30s %6.2f calls %8.1f Ir (inclusive)\n", $callee,
            $calls, per($b1->{callees}{$fn}{$callee}[1], $b6->{callees}{$fn}{$callee}[1]);
    }
}
