# log.t — every 417 logs one line at level info with the escaped, cut field
# value, the unmet members and the directive that decided; accepted requests
# log nothing at info; decisions log at debug. Host cfg_log in
# t/conf/extra.last.conf.in (LogLevel warn expect:info, HttpProtocolOptions
# Unsafe; /debug has expect:debug). Only the lines written to t/logs/error_log
# while a request ran are looked at, and each field carries a unique marker.
# (Stock httpd logs an unknown expectation at info as "client sent an
# unrecognized expectation value", without the unmet members or a directive.)

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient ();
use ExpectTable;

my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $BODY = "log test body\n";
my $serial = 0;

defaults(vhost => 'cfg_log', body => $BODY);

sub marker { return sprintf 'x-logmark-%d-%d', $$, ++$serial }

# Send the case's request; the record also holds the error_log lines it
# caused (lines) and those of them at level info (info).
sub logged {
    my $case = shift;
    my $from = -s $error_log || 0;
    my $r = ExpectClient::request(vhost => 'cfg_log', %{ $case->{req} });
    open my $fh, '<', $error_log or die "$error_log: $!";
    binmode $fh;
    seek $fh, $from, 0;
    my @lines = <$fh>;
    close $fh;
    $r->{lines} = \@lines;
    $r->{info} = [ grep { /\[expect:info\]/ } @lines ];
    return $r;
}

# info_lines => N: how many info lines the request caused
define info_lines => sub {
    my $n = shift;
    return { label => $n == 0 ? 'no info line' : $n == 1 ? 'one info line' : "$n info lines",
             want => $n, got => sub { scalar @{ $_[0]{info} } } };
};
# line_like / line_unlike => [what it shows => qr/.../, ...]: the info line
define line_like => sub {
    my @pairs = @{ $_[0] };
    return map { my ($label, $re) = @pairs[2 * $_, 2 * $_ + 1];
                 { label => $label, want => $re, got => sub { $_[0]{info}[0] || '' } } }
           0 .. $#pairs / 2;
};
define line_unlike => sub {
    my @pairs = @{ $_[0] };
    return map { my ($label, $re) = @pairs[2 * $_, 2 * $_ + 1];
                 { label => $label, want => $re, cmp => 'unlike',
                   got => sub { $_[0]{info}[0] || '' } } }
           0 .. $#pairs / 2;
};
define debug_line => sub {
    return { label => 'a debug line', want => 1, cmp => 'ok',
             got => sub { scalar grep { /\[expect:debug\]/ } @{ $_[0]{lines} } } };
};

my @cases;
{
    my $m = marker();
    push @cases,
    { name => 'unknown member',
      req  => GET('/allow/static', "x-ok, $m"),
      want => { status => 417, info_lines => 1,
                line_like => ['the line carries the field' => qr/\Q$m\E/,
                              'the line says 417'          => qr/\b417\b/,
                              'the whole field value'      => qr/"x-ok, \Q$m\E"/,
                              'the unmet member'           => qr/unmet.*\Q$m\E/,
                              'the deciding directive'     => qr/ExpectUnknown Reject/],
                line_unlike => ['the allowed member is not unmet' => qr/unmet.*x-ok/] } };
}
{
    my $m = marker();
    push @cases,
    { name => '100-continue under Reject',
      req  => POST('/reject/static', "100-continue, $m"),
      want => { status => 417, info_lines => 1,
                line_like => ['the field value'        => qr/"100-continue, \Q$m\E"/,
                              'the unmet member'       => qr/unmet.*100-continue/,
                              'the deciding directive' => qr/ExpectContinue Reject/] } };
}
{
    my ($m1, $m2) = (marker(), marker());
    push @cases,
    { name => 'two unknown members on two lines',
      req  => GET('/allow/static', $m1, $m2),
      want => { status => 417, info_lines => 1,
                line_like => ['joined field value'      => qr/"\Q$m1, $m2\E"/,
                              'both unmet, in order'    => qr/unmet.*\Q$m1\E.*\Q$m2\E/] } };
}
{
    # malformed (the @ at the end), so the unmet member is cut at 64 bytes
    # and only the field value could show the first 257 bytes
    my $value = marker() . '-' . ('L' x 300) . '@';
    push @cases,
    { name => 'long field',
      req  => GET('/allow/static', $value),
      want => { status => 417, info_lines => 1,
                line_like => ['the value cut at 256 bytes, then "..."'
                                  => qr/"\Q@{[ substr($value, 0, 256) ]}...\E"/],
                line_unlike => ['nothing of the value after 256 bytes'
                                  => qr/\Q@{[ substr($value, 0, 257) ]}\E/] } };
}
{
    my $m = marker();
    push @cases,
    { name => 'hostile field',
      req  => GET('/allow/static', "$m\x01\x1b\"q\\\xff\xc3\xa9"),
      want => { status => 417, info_lines => 1,
                line_like => ['the line carries the field' => qr/\Q$m\E/,
                              'one line of printable ASCII' => qr/\A[\x20-\x7e]*\n\z/],
                line_unlike => ['the quote is escaped' => qr/[^\\]"q/] } };
}
{
    my $m = marker();
    push @cases,
    { name => 'long malformed member (two tokens)',
      req  => GET('/allow/static', "$m " . ('L' x 300)),
      want => { status => 417, info_lines => 1,
                line_like => ['named as unmet' => qr/unmet.*\Q$m\E/],
                line_unlike => ['not logged whole' => qr/L{300}/] } };
}
push @cases,
    { name => 'accepted',
      req  => GET('/allow/static', 'x-ok'),
      want => { status => 200, info_lines => 0 } },
    { name => 'no Expect under Reject',
      req  => POST('/reject/static'),
      want => { status => 200, info_lines => 0 } },
    { name => 'decision at debug',
      req  => GET('/debug/static', 'x-ok'),
      want => { status => 200, debug_line => 1 } },
    { name => '417 under expect:debug',
      req  => GET('/debug/static', marker()),
      want => { status => 417, info_lines => 1 } };
$_->{run} = \&logged for @cases;

plan tests => count_checks(@cases);

run_cases(@cases);
