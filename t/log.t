# log.t — every 417 logs one line at level info with the escaped, cut field
# value, the unmet members and the directive that decided; accepted requests
# log nothing at info; decisions log at debug. Host cfg_log in
# t/conf/extra.last.conf.in (LogLevel warn expect:info, HttpProtocolOptions
# Unsafe; /debug has expect:debug). Only the lines written to t/logs/error_log
# while a request ran are looked at, and each field carries a unique marker.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Response ();
use IO::Select ();
use JSON::PP ();

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectCfg;

my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $BODY = "log test body\n";
my $serial = 0;

sub marker { return sprintf 'x-logmark-%d-%d', $$, ++$serial }

# send a request; return its response and the error_log lines it caused
sub logged {
    my %req = @_;
    my $from = -s $error_log || 0;
    my $r = send_request(vhost => 'cfg_log', %req);
    open my $fh, '<', $error_log or die "$error_log: $!";
    binmode $fh;
    seek $fh, $from, 0;
    my @lines = <$fh>;
    close $fh;
    return ($r, \@lines);
}

sub info_lines { return [ grep { /\[expect:info\]/ } @{ $_[0] } ] }

plan tests => 38;

{
    my $m = marker();
    my ($r, $lines) = logged(path => '/allow/static', expect => ["x-ok, $m"]);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, 'unknown member: 417';
    is scalar @$info, 1, 'unknown member: one info line';
    my $line = $info->[0] || '';
    like $line, qr/\Q$m\E/, 'unknown member: the line carries the field';
    like $line, qr/\b417\b/, 'unknown member: the line says 417';
    like $line, qr/"x-ok, \Q$m\E"/, 'unknown member: the whole field value';
    like $line, qr/unmet.*\Q$m\E/, 'unknown member: the unmet member';
    unlike $line, qr/unmet.*x-ok/, 'unknown member: the allowed member is not unmet';
    like $line, qr/ExpectUnknown Reject/, 'unknown member: the deciding directive';
}

{
    my $m = marker();
    my ($r, $lines) = logged(method => 'POST', path => '/reject/static',
                             expect => ["100-continue, $m"], body => $BODY);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, '100-continue under Reject: 417';
    is scalar @$info, 1, '100-continue under Reject: one info line';
    my $line = $info->[0] || '';
    like $line, qr/"100-continue, \Q$m\E"/, '100-continue under Reject: the field value';
    like $line, qr/unmet.*100-continue/, '100-continue under Reject: the unmet member';
    like $line, qr/ExpectContinue Reject/, '100-continue under Reject: the deciding directive';
}

{
    my ($m1, $m2) = (marker(), marker());
    my ($r, $lines) = logged(path => '/allow/static', expect => [$m1, $m2]);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, 'two unknown members: 417';
    is scalar @$info, 1, 'two unknown members: one info line';
    my $line = $info->[0] || '';
    like $line, qr/"\Q$m1, $m2\E"/, 'two lines: joined field value';
    like $line, qr/unmet.*\Q$m1\E.*\Q$m2\E/, 'two unknown members: both unmet, in order';
}

{
    my $m = marker();
    # malformed (the @ at the end), so the unmet member is cut at 64 bytes
    # and only the field value could show the first 257 bytes
    my $value = "$m-" . ('L' x 300) . '@';
    my ($r, $lines) = logged(path => '/allow/static', expect => [$value]);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, 'long field: 417';
    is scalar @$info, 1, 'long field: one info line';
    my $line = $info->[0] || '';
    like $line, qr/"\Q@{[ substr($value, 0, 256) ]}...\E"/,
        'long field: the value cut at 256 bytes, then "..."';
    unlike $line, qr/\Q@{[ substr($value, 0, 257) ]}\E/,
        'long field: nothing of the value after 256 bytes';
}

{
    my $m = marker();
    my $value = "$m\x01\x1b\"q\\\xff\xc3\xa9";
    my ($r, $lines) = logged(path => '/allow/static', expect => [$value]);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, 'hostile field: 417';
    is scalar @$info, 1, 'hostile field: one info line';
    my $line = $info->[0] || '';
    like $line, qr/\Q$m\E/, 'hostile field: the line carries the field';
    like $line, qr/\A[\x20-\x7e]*\n\z/, 'hostile field: one line of printable ASCII';
    unlike $line, qr/[^\\]"q/, 'hostile field: the quote is escaped';
}

{
    my $m = marker();
    my $value = "$m " . ('L' x 300);    # malformed: two tokens
    my ($r, $lines) = logged(path => '/allow/static', expect => [$value]);
    my $info = info_lines($lines);
    is $r->{res}->code, 417, 'long malformed member: 417';
    is scalar @$info, 1, 'long malformed member: one info line';
    my $line = $info->[0] || '';
    like $line, qr/unmet.*\Q$m\E/, 'long malformed member: named as unmet';
    unlike $line, qr/L{300}/, 'long malformed member: not logged whole';
}

{
    my ($r, $lines) = logged(path => '/allow/static', expect => ['x-ok']);
    is $r->{res}->code, 200, 'accepted: 200';
    is scalar @{ info_lines($lines) }, 0, 'accepted: no info line';
}

{
    my ($r, $lines) = logged(method => 'POST', path => '/reject/static', body => $BODY);
    is $r->{res}->code, 200, 'no Expect under Reject: 200';
    is scalar @{ info_lines($lines) }, 0, 'no Expect under Reject: no info line';
}

{
    my ($r, $lines) = logged(path => '/debug/static', expect => ['x-ok']);
    is $r->{res}->code, 200, 'decision at debug: 200';
    ok scalar(grep { /\[expect:debug\]/ } @$lines), 'decision at debug: a debug line';
}

{
    my $m = marker();
    my ($r, $lines) = logged(path => '/debug/static', expect => [$m]);
    is $r->{res}->code, 417, '417 under expect:debug: 417';
    is scalar @{ info_lines($lines) }, 1, '417 under expect:debug: one info line';
}
