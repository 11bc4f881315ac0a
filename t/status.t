# Expect counters on mod_status's page, shared by every child process.
#
# Starts its own httpd (event MPM, three children of two threads each, two
# name-based virtual hosts), sends a known mix of requests over parallel
# keep-alive connections, checks that more than one child served them and
# that /server-status?auto and the HTML table count exactly that mix, per
# virtual host and in total; then restarts gracefully and checks the counts
# survive.
use strict;
use warnings FATAL => 'all';

use Test::More;
use File::Temp qw(tempdir);
use File::Spec;
use FindBin;
use IO::Socket::INET;
use POSIX qw(WNOHANG);

my $top = File::Spec->rel2abs("$FindBin::Bin/..");
my $so = "$top/.libs/mod_expect.so";
my $httpd = $ENV{APACHE_TEST_HTTPD} || '/usr/sbin/apache2';
my $moddir = '/usr/lib/apache2/modules';

plan tests => 22;

ok(-f $so, "module built at $so") or BAIL_OUT("build the module first");

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
mkdir "$dir/htdocs/$_" for qw(allow ignore immediate);
mkdir "$dir/logs";
chmod 0777, "$dir/logs";
for my $d ('', qw(/allow /ignore /immediate)) {
    open my $fh, '>', "$dir/htdocs$d/index.html" or die $!;
    print $fh "ok\n";
    close $fh;
    chmod 0755, "$dir/htdocs$d";
    chmod 0644, "$dir/htdocs$d/index.html";
}

my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    $s->sockport;
};
my ($user, $group) = $> == 0 ? ('nobody', (getgrnam('nogroup') ? 'nogroup'
                                                               : 'nobody'))
                             : ();
my $conf = "$dir/httpd.conf";
{
    open my $fh, '>', $conf or die $!;
    print $fh <<"EOF";
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/logs/httpd.pid"
ErrorLog "$dir/logs/error_log"
LogLevel warn
<IfModule !mpm_event_module>
LoadModule mpm_event_module $moddir/mod_mpm_event.so
</IfModule>
<IfModule !authz_core_module>
LoadModule authz_core_module $moddir/mod_authz_core.so
</IfModule>
<IfModule !status_module>
LoadModule status_module $moddir/mod_status.so
</IfModule>
LoadModule expect_module $so
@{[ $user ? "User $user\nGroup $group" : '' ]}
StartServers 3
ServerLimit 3
ThreadsPerChild 2
ThreadLimit 2
MinSpareThreads 6
MaxSpareThreads 6
MaxRequestWorkers 6
KeepAlive On
MaxKeepAliveRequests 0
LogFormat "%P %v %>s %{EXPECT_OUTCOME}e" pid
CustomLog "$dir/logs/access_log" pid
DocumentRoot "$dir/htdocs"
<VirtualHost 127.0.0.1:$port>
    ServerName alpha.test
    DocumentRoot "$dir/htdocs"
    <Location "/server-status">
        SetHandler server-status
    </Location>
    <Location "/allow">
        ExpectAllow x-ok
    </Location>
    <Location "/ignore">
        ExpectUnknown Ignore
    </Location>
    <Location "/immediate">
        ExpectContinue Immediate
    </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$port>
    ServerName beta.test
    DocumentRoot "$dir/htdocs"
</VirtualHost>
EOF
}
chmod 0644, $conf;

sub httpd_ctl {
    system($httpd, '-f', $conf, '-k', @_) == 0;
}

ok(httpd_ctl('start'), "httpd started on 127.0.0.1:$port");
my $pidfile = "$dir/logs/httpd.pid";
for (1 .. 50) { last if -s $pidfile; select undef, undef, undef, 0.1 }
my $parent = do { open my $fh, '<', $pidfile; my $p = <$fh>; chomp $p if $p; $p };

END {
    # Also when the test died before it read the pid file.
    if (!$parent && $pidfile && open my $fh, '<', $pidfile) {
        $parent = <$fh>;
        chomp $parent if defined $parent;
    }
    if ($parent && kill 0, $parent) {
        system($httpd, '-f', $conf, '-k', 'stop');
        for (1 .. 50) { last unless kill 0, $parent; select undef, undef, undef, 0.1 }
    }
}

sub connect_to {
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Timeout => 10);
        return $s if $s;
        select undef, undef, undef, 0.1;
    }
    die "cannot connect to 127.0.0.1:$port";
}

# One response from a keep-alive socket: status and body.
sub read_response {
    my $sock = shift;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($sock, my $buf, 1) or return;
        $head .= $buf;
    }
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
    my $body = '';
    while (defined $len && length($body) < $len) {
        sysread($sock, my $buf, $len - length $body) or last;
        $body .= $buf;
    }
    return ($status, $body, $head);
}

# The mix, per connection (each request is sent on its own keep-alive
# connection's turn; requests that keep the connection alive only).
my @mix = (
    # [ host, request, expected status, outcome counted ]
    [ 'alpha.test', "GET /index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-foo\r\n\r\n",
      417, 'Rejected' ],
    [ 'alpha.test', "GET /allow/index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-ok\r\n\r\n",
      200, 'Accepted' ],
    [ 'alpha.test', "GET /ignore/index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-odd\r\n\r\n",
      200, 'Ignored' ],
    [ 'alpha.test', "POST /index.html HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 3\r\n"
                    . "Expect: 100-continue\r\n\r\nabc", 200, 'Continue' ],
    [ 'alpha.test', "POST /immediate/index.html HTTP/1.1\r\nHost: alpha.test\r\n"
                    . "Content-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
      200, 'Immediate' ],
    [ 'beta.test', "GET /index.html HTTP/1.1\r\nHost: beta.test\r\nExpect: x-bar\r\n\r\n",
      417, 'Rejected' ],
    [ 'beta.test', "GET /index.html HTTP/1.1\r\nHost: beta.test\r\n\r\n", 200, undef ],
);

my $rounds = 12;
my (%want, $statuses_ok);
$statuses_ok = 1;
my @socks = map { connect_to() } 1 .. 6;
for my $round (1 .. $rounds) {
    for my $i (0 .. $#mix) {
        my ($host, $req, $status, $outcome) = @{ $mix[$i] };
        my $sock = $socks[($round + $i) % @socks];
        syswrite($sock, $req);
        my ($got) = read_response($sock);
        # The immediate 100 Continue comes first: read past it.
        ($got) = read_response($sock) if defined $got && $got == 100;
        unless (defined $got && $got == $status) { $statuses_ok = 0; diag "round $round request $i: got " . ($got // "nothing") . ", want $status" }
        next unless $outcome;
        $want{$host}{Requests}++;
        $want{$host}{$outcome}++;
    }
}
close $_ for @socks;
ok($statuses_ok, "every request of the mix got its expected status");

my %pids;
{
    open my $fh, '<', "$dir/logs/access_log" or die $!;
    while (<$fh>) { $pids{(split)[0]}++ }
}
cmp_ok(scalar(keys %pids), '>', 1,
       'the mix was served by more than one child process ('
       . join(', ', sort keys %pids) . ')');

sub auto_counts {
    my $sock = connect_to();
    syswrite($sock, "GET /server-status?auto HTTP/1.1\r\nHost: alpha.test\r\n"
                    . "Connection: close\r\n\r\n");
    local $/;
    my $all = <$sock>;
    my ($body) = $all =~ /\r\n\r\n(.*)\z/s;
    $body = dechunk($body) if $all =~ /^Transfer-Encoding:\s*chunked/mi;
    my %c;
    while ($body =~ /^Expect(\w+)(?:\[([^\]]*)\])?: (\d+)$/mg) {
        $c{ defined $2 ? $2 : 'total' }{$1} = $3;
    }
    return (\%c, $body);
}

sub dechunk {
    my $in = shift;
    my $out = '';
    while ($in =~ s/^([0-9a-fA-F]+)\r\n//) {
        my $n = hex $1;
        last unless $n;
        $out .= substr($in, 0, $n, '');
        $in =~ s/^\r\n//;
    }
    return $out;
}

my ($c) = auto_counts();
my @names = qw(Requests Rejected Immediate Continue Accepted Ignored);
for my $host (qw(alpha.test beta.test)) {
    my ($key) = grep { /^\Q$host\E:/ } keys %$c;
    ok(defined $key, "?auto has counters for $host");
    is(join(',', map { $c->{$key // ''}{$_} // 'none' } @names),
       join(',', map { $want{$host}{$_} // 0 } @names),
       "$host: " . join(', ', map { "$_=" . ($want{$host}{$_} // 0) } @names));
}
my %total;
for my $host (keys %want) { $total{$_} += $want{$host}{$_} for keys %{ $want{$host} } }
is(join(',', map { $c->{total}{$_} // 'none' } @names),
   join(',', map { $total{$_} // 0 } @names), 'totals add up over the virtual hosts');

# The HTML page shows the same numbers in a table.
{
    my $sock = connect_to();
    syswrite($sock, "GET /server-status HTTP/1.1\r\nHost: alpha.test\r\n"
                    . "Connection: close\r\n\r\n");
    local $/;
    my $page = <$sock>;
    like($page, qr{<h2>Expect \(mod_expect\)</h2>}, 'HTML page has the Expect section');
    my ($row) = $page =~ m{<tr><td>alpha\.test:\d+</td>(.*?)</tr>};
    ok(defined $row, 'HTML table has a row for alpha.test');
    my @cells = ($row // '') =~ m{<td>(\d+)</td>}g;
    is(join(',', @cells), join(',', map { $want{'alpha.test'}{$_} // 0 } @names),
       'HTML row matches the counts');
    like($page, qr{<td><b>Total</b></td>}, 'HTML table has a total row');
}

# A graceful restart keeps the counts: the segment belongs to the parent.
ok(httpd_ctl('graceful'), 'graceful restart');
my $same;
for (1 .. 50) {
    select undef, undef, undef, 0.2;
    my ($after) = eval { auto_counts() };
    next unless $after && defined $after->{total}{Requests};
    $same = $after;
    last;
}
is($same && $same->{total}{Requests}, $total{Requests},
   'after a graceful restart the request count is kept');
is($same && $same->{total}{Rejected}, $total{Rejected},
   'after a graceful restart the rejected count is kept');

# And counting goes on in the new generation of children.
{
    my $sock = connect_to();
    syswrite($sock, "GET /index.html HTTP/1.1\r\nHost: beta.test\r\nExpect: x-new\r\n"
                    . "Connection: close\r\n\r\n");
    my ($st) = read_response($sock);
    is($st, 417, 'a rejected request after the restart');
    my ($again) = auto_counts();
    is($again->{total}{Requests}, $total{Requests} + 1,
       'counted by the new children: requests');
    is($again->{total}{Rejected}, $total{Rejected} + 1,
       'counted by the new children: rejected');
}

# Nothing counted for requests without Expect: beta's plain GETs above.
my ($final) = auto_counts();
my ($beta) = grep { /^beta\.test:/ } keys %$final;
is($final->{$beta}{Requests}, $want{'beta.test'}{Requests} + 1,
   'requests without Expect are not counted');

# No child crashed.
{
    open my $fh, '<', "$dir/logs/error_log" or die $!;
    my @bad = grep { /exit signal|AddressSanitizer|runtime error/ } <$fh>;
    is(scalar @bad, 0, 'no child crashed') or diag(@bad);
}
ok(kill(0, $parent), 'parent still running');
