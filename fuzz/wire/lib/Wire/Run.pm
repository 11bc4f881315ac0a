# Wire::Run: a fuzzing run (streams from a seed, in parallel workers), the
# replay of case files, the shrinking of a finding to a minimal reproducer,
# and the report.
package Wire::Run;

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Handle;
use IO::Select;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Wire::Case;
use Wire::Gen;
use Wire::Rules qw(%RULES);
use Wire::Servers;

my $top = do { my $d = __FILE__; $d =~ s{/lib/Wire/Run\.pm$}{}; $d };
sub seeds_dir { "$top/seeds" }
sub repro_dir { "$top/repro" }

# The case reduced while it still shows a finding.  At most $budget runs.
sub shrink {
    my ($runner, $case, $budget) = @_;
    $budget //= 120;
    my $fails = sub {
        my ($c) = @_;
        return 0 if $budget-- <= 0;
        my $v = $runner->run($c);
        return @{ $v->{findings} } ? $v : 0;
    };
    my $copy = sub { my %c = %{ $_[0] }; $c{requests} = [ @{ $c{requests} } ];
                     $c{splits} = [ @{ $c{splits} // [] } ];
                     $c{h2} = { %{ $c{h2} }, headers => [ @{ $c{h2}{headers} } ],
                                paths => [ @{ $c{h2}{paths} } ] } if $c{h2};
                     \%c };
    my $best = $case;
    my $progress = 1;
    while ($progress && $budget > 0) {
        $progress = 0;
        if ($best->{transport} eq 'h2') {
            for my $k (qw(paths headers)) {
                for (my $i = $#{ $best->{h2}{$k} }; $i >= 0 && @{ $best->{h2}{$k} } > ($k eq 'paths'); $i--) {
                    my $c = $copy->($best);
                    splice @{ $c->{h2}{$k} }, $i, 1;
                    if ($fails->($c)) { $best = $c; $progress = 1 }
                }
            }
            for my $k (qw(trailers body no_cl)) {
                next unless defined $best->{h2}{$k};
                my $c = $copy->($best);
                delete $c->{h2}{$k};
                if ($fails->($c)) { $best = $c; $progress = 1 }
            }
            next;
        }
        # Fewer requests, fewer writes.
        for (my $i = $#{ $best->{requests} }; $i >= 0 && @{ $best->{requests} } > 1; $i--) {
            my $c = $copy->($best);
            splice @{ $c->{requests} }, $i, 1;
            if ($fails->($c)) { $best = $c; $progress = 1 }
        }
        if (@{ $best->{splits} }) {
            my $c = $copy->($best);
            $c->{splits} = [];
            if ($fails->($c)) { $best = $c; $progress = 1 }
            else {
                for (my $i = $#{ $best->{splits} }; $i >= 0; $i--) {
                    my $c = $copy->($best);
                    splice @{ $c->{splits} }, $i, 1;
                    if ($fails->($c)) { $best = $c; $progress = 1 }
                }
            }
        }
        # Fewer header lines, shorter lines and bodies.
        for my $r (0 .. $#{ $best->{requests} }) {
            my @lines = split /(?<=\n)/, $best->{requests}[$r];
            for (my $i = $#lines; $i >= 1; $i--) {
                next if $lines[$i] =~ /^\r?\n$/;
                my @l = @lines;
                splice @l, $i, 1;
                my $c = $copy->($best);
                $c->{requests}[$r] = join '', @l;
                if ($fails->($c)) { $best = $c; @lines = @l; $progress = 1 }
            }
            for (my $i = $#lines; $i >= 0; $i--) {
                next unless length $lines[$i] > 40;
                my @l = @lines;
                my $keep = int(length($l[$i]) / 2);
                $l[$i] = substr($l[$i], 0, $keep) . ($l[$i] =~ /(\r?\n)$/ ? $1 : '');
                my $c = $copy->($best);
                $c->{requests}[$r] = join '', @l;
                if ($fails->($c)) { $best = $c; @lines = @l; $progress = 1 }
            }
        }
    }
    return $best;
}

# A generated HTTP/1.x stream goes out twice: whole, in one write, and cut
# into the writes its case names; either showing a difference is a finding.
sub run_whole_and_split {
    my ($runner, $case) = @_;
    my $v = $runner->run($case);
    if (!@{ $v->{findings} } && $case->{transport} eq 'h1' && @{ $case->{splits} // [] }) {
        my %whole = (%$case, splits => []);
        my $w = $runner->run(\%whole);
        # the same stream, sent a second way
        $runner->{stats}{streams}--;
        $runner->{stats}{ Wire::Case::config_key($case) }--;
        $runner->{stats}{'sent whole and split'}++;
        $w->{rules}{$_} += $v->{rules}{$_} for keys %{ $v->{rules} };
        %$case = %whole if @{ $w->{findings} };
        return $w;
    }
    return $v;
}

sub describe {
    my ($case, $v) = @_;
    return join("\n", "finding: " . join("\n", @{ $v->{findings} }),
                "configuration $case->{config}, transport $case->{transport}"
                . (defined $case->{seed} ? ", stream $case->{n} of seed $case->{seed}" : ''));
}

# fuzz(%o): streams, seconds, seed, jobs, findings, servers -> totals
sub fuzz {
    my (%o) = @_;
    my $servers = $o{servers};
    my $gen = Wire::Gen->new(seeds => seeds_dir());
    my $jobs = $o{jobs} || 1;
    my $streams = $o{streams} // 0;
    my $deadline = $o{seconds} ? time + $o{seconds} : 0;
    my $say = $o{say} // sub { print @_, "\n" };
    make_path($o{findings}) if $o{findings};
    my (%kids, %total);
    my $t0 = time;
    for my $w (0 .. $jobs - 1) {
        pipe(my $rd, my $wr) or die "wire: pipe: $!\n";
        my $pid = fork // die "wire: fork: $!\n";
        if (!$pid) {
            close $rd;
            $SIG{INT} = $SIG{TERM} = sub { POSIX::_exit(1) };
            my %stats;
            my $runner = Wire::Case->new(servers => $servers, stats => \%stats);
            my $found = 0;
            my %shrunk;
            for (my $n = $w; !$streams || $n < $streams; $n += $jobs) {
                last if $deadline && time > $deadline;
                my $case = $gen->gen($o{seed}, $n);
                my $v = run_whole_and_split($runner, $case);
                $stats{"rule $_"} += $v->{rules}{$_} for keys %{ $v->{rules} };
                if (@{ $v->{findings} }) {
                    $stats{findings}++;
                    my $first = $v->{findings}[0];
                    (my $class = $first) =~ s/\n.*//s;
                    $class =~ s/\d+/N/g;
                    $stats{"finding $class"}++;
                    # A reproducer for the first two of each class a
                    # worker meets (at most 20): shrinking costs runs.
                    if ($o{findings} && $found < 20 && $shrunk{$class}++ < 2) {
                        # Shrinking runs count apart from the run's figures.
                        my $quiet = Wire::Case->new(servers => $servers, stats => {});
                        my $small = shrink($quiet, $case, 150);
                        my $sv = $quiet->run($small);
                        $sv = $v unless @{ $sv->{findings} };
                        my $file = sprintf("%s/seed%s-stream%d.case", $o{findings}, $o{seed}, $n);
                        open my $fh, '>', $file or die "wire: $file: $!\n";
                        print $fh Wire::Gen::write_case($small, describe($case, $sv));
                        close $fh;
                        print $wr "F $file\n";
                        $found++;
                    }
                }
                if ($n % ($jobs * 200) == $w) {
                    print $wr "P $n\n";
                    $wr->flush;
                }
            }
            print $wr join(' ', 'S', map { "$_=" . $stats{$_} } grep { !/\s/ } keys %stats), "\n";
            print $wr "K $_\t$stats{$_}\n" for grep { /\s/ } keys %stats;
            close $wr;
            POSIX::_exit(0);
        }
        close $wr;
        $kids{$pid} = $rd;
    }
    # Collect.  Each worker reports progress, findings and its totals.
    # If this process is stopped (Ctrl-C, TERM), the workers are too.
    my $sel = IO::Select->new(values %kids);
    my %buf;
    my $last = 0;
    my @files;
    my $ok = eval {
        while ($sel->count) {
            for my $fh ($sel->can_read(1)) {
                my $n = sysread($fh, my $chunk, 65536);
                if (!$n) { $sel->remove($fh); next }
                $buf{$fh} .= $chunk;
                while ($buf{$fh} =~ s/^([^\n]*)\n//) {
                    my $l = $1;
                    if ($l =~ /^P (\d+)/) {
                        if (time - $last > 30) {
                            $say->(sprintf("wire: stream %d, %.0fs", $1, time - $t0));
                            $last = time;
                        }
                    }
                    elsif ($l =~ /^F (.*)/) { push @files, $1; $say->("wire: FINDING written to $1") }
                    elsif ($l =~ /^S (.*)/) {
                        for (split ' ', $1) { my ($k, $v) = split /=/; $total{$k} += $v }
                    }
                    elsif ($l =~ /^K (.*)\t(\d+)$/) { $total{$1} += $2 }
                }
            }
            if (!$servers->alive) {
                $say->("wire: a server died");
                kill 'TERM', keys %kids;
            }
        }
        1;
    };
    if (!$ok) {
        my $err = $@;
        kill 'TERM', keys %kids;
        waitpid($_, 0) for keys %kids;
        die $err;
    }
    for my $pid (keys %kids) {
        waitpid($pid, 0);
        $total{workers_failed}++ if $?;
    }
    $total{seconds} = time - $t0;
    $total{finding_files} = \@files;
    return \%total;
}

sub report {
    my ($t, $say, %o) = @_;
    $say->(sprintf("wire: %d streams, %d connections, %.0f s%s",
                   $t->{streams} // 0, $t->{connections} // 0, $t->{seconds} // 0,
                   defined $o{seed} ? ", seed $o{seed}" : ''));
    $say->("wire: configurations:");
    $say->(sprintf("  %-40s %d", $_ =~ s/^config //r, $t->{$_}))
        for sort grep { /^config / } keys %$t;
    $say->("wire: differences explained by the rules (fuzz/wire/lib/Wire/Rules.pm):");
    $say->(sprintf("  %-30s %8d  %s", $_ =~ s/^rule //r, $t->{$_}, $RULES{ $_ =~ s/^rule //r } // ''))
        for sort grep { /^rule / } keys %$t;
    $say->("wire: $_: $t->{$_}") for sort grep { /^(unverified|not run)/ } keys %$t;
    my @f = sort grep { /^finding / } keys %$t;
    if (@f) {
        $say->("wire: UNEXPLAINED DIFFERENCES ($t->{findings} streams):");
        $say->(sprintf("  %6d  %s", $t->{$_}, $_ =~ s/^finding //r)) for @f;
    }
    else {
        $say->("wire: no unexplained difference");
    }
    my @crash = $o{servers} ? $o{servers}->crashes : ();
    if (@crash) {
        $say->("wire: server crashes:");
        $say->("  $_") for @crash;
    }
    # A worker that died sent no totals: its streams are missing above.
    $say->("wire: $t->{workers_failed} worker(s) died; their streams are not counted")
        if $t->{workers_failed};
    return !@f && !@crash && !$t->{workers_failed};
}

1;
