# Expect counters on mod_status's page, shared by every child process.
#
# Starts its own httpd (the prefork MPM, two name-based virtual hosts) and
# sends a known mix of requests over two keep-alive connections, A and B,
# taking turns. Under prefork a child process serves one connection at a
# time, from its first request until it closes: once A has had an answer,
# its child is held by A, so B is served by another child. Two children
# serve the mix by construction, and the access log (%P) shows which child
# served each request (every request carries a mark of its own).
# /server-status?auto and the HTML table must count exactly that mix, per
# virtual host and in total; then a graceful restart must keep the counts.
#
# The phases run in order, one case of the table each.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET ();

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient ();
use ExpectServer ();
use ExpectTable;

$SIG{PIPE} = 'IGNORE';

my $so = ExpectServer::module_so();
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

# A port the system hands out for 127.0.0.1.
my $port = do {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    $s->sockport;
};
my ($user, $group) = $> == 0 ? ('nobody', (getgrnam('nogroup') ? 'nogroup'
                                                               : 'nobody'))
                             : ();
my $have_prefork = defined ExpectServer::mpm_line('prefork');
my $conf = !$have_prefork ? undef : ExpectServer::config($dir,
    mpm => ['prefork'], modules => ['status'], lines => [split /\n/, <<"EOF"]);
ServerName 127.0.0.1
Listen 127.0.0.1:$port
LogLevel warn
@{[ $user ? "User $user\nGroup $group" : '' ]}
# Two children from the start; a held connection keeps its child, and the
# parent starts another when fewer than two are idle.
StartServers 2
MinSpareServers 2
MaxSpareServers 4
ServerLimit 4
MaxRequestWorkers 4
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
LogFormat "%P %{X-Mark}i %v %>s %{EXPECT_OUTCOME}e" pid
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

my $pidfile = "$dir/httpd.pid";
my $parent;

sub read_pid {
    open my $fh, '<', $pidfile or return;
    my $p = <$fh>;
    chomp $p if defined $p;
    return $p;
}

END {
    # Also when the test died before it read the pid file.
    $parent ||= read_pid();
    if ($parent && kill 0, $parent) {
        ExpectServer::ctl($conf, 'stop');
        for (1 .. 50) { last unless kill 0, $parent; select undef, undef, undef, 0.1 }
    }
}

sub connect_to {
    for (1 .. 50) {
        my $c = eval { ExpectClient->new('127.0.0.1', $port) };
        return $c if $c;
        select undef, undef, undef, 0.1;
    }
    die "cannot connect to 127.0.0.1:$port\n";
}

# One request on its own connection: the final response.
sub request {
    my $req = shift;
    my $c = connect_to();
    $c->send($req);
    my ($res) = $c->final;
    $c->close;
    return $res;
}

# The mix, taken in turns by connections A and B.
my @mix = (
    # [ host, request, expected status, outcome counted ]
    [ 'alpha.test', "GET /index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-foo\r\n",
      417, 'Rejected' ],
    [ 'alpha.test', "GET /allow/index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-ok\r\n",
      200, 'Accepted' ],
    [ 'alpha.test', "GET /ignore/index.html HTTP/1.1\r\nHost: alpha.test\r\nExpect: x-odd\r\n",
      200, 'Ignored' ],
    [ 'alpha.test', "POST /index.html HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 3\r\n"
                    . "Expect: 100-continue\r\n", 200, 'Continue', 'abc' ],
    [ 'alpha.test', "POST /immediate/index.html HTTP/1.1\r\nHost: alpha.test\r\n"
                    . "Content-Length: 3\r\nExpect: 100-continue\r\n", 200, 'Immediate', 'abc' ],
    [ 'beta.test', "GET /index.html HTTP/1.1\r\nHost: beta.test\r\nExpect: x-bar\r\n",
      417, 'Rejected' ],
    [ 'beta.test', "GET /index.html HTTP/1.1\r\nHost: beta.test\r\n", 200, undef ],
);
my $rounds = 12;
my @names = qw(Requests Rejected Immediate Continue Accepted Ignored);
my %want;    # host => counter => count
my %total;

# ---------------------------------------------------------------- phases

sub start {
    my $started = ExpectServer::ctl($conf, 'start');
    for (1 .. 50) { last if -s $pidfile; select undef, undef, undef, 0.1 }
    $parent = read_pid();
    return { built => -f $so, started => $started && $parent };
}

sub send_mix {
    my %conn = (A => connect_to());
    my (@bad, %mark_of);
    my $n = 0;
    for my $round (1 .. $rounds) {
        for my $i (0 .. $#mix) {
            my ($host, $req, $status, $outcome, $body) = @{ $mix[$i] };
            my $on = ($round + $i) % 2 ? 'A' : 'B';
            # B is opened once A has had its first answer: A's child is
            # then held by A.
            $conn{B} ||= connect_to() if $on eq 'B';
            my $mark = sprintf '%s-%03d', $on, ++$n;
            $conn{$on}->send("${req}X-Mark: $mark\r\n\r\n" . ($body // ''));
            # an immediate 100 Continue comes first: final() reads past it
            my ($res) = $conn{$on}->final;
            my $got = $res ? $res->code : undef;
            push @bad, "round $round request $i ($mark): got " . ($got // 'nothing')
                       . ", want $status"
                unless defined $got && $got == $status;
            $mark_of{$mark} = $on;
            next unless $outcome;
            $want{$host}{Requests}++;
            $want{$host}{$outcome}++;
        }
    }
    $_->close for values %conn;
    for my $host (keys %want) {
        $total{$_} += $want{$host}{$_} for keys %{ $want{$host} };
    }

    # Which child served each request, from the access log. A line is
    # written once its response has gone out: read until every mark is
    # there (or 10 seconds have passed).
    my (%pids, %logged);    # connection => { pid => requests }
    for (1 .. 100) {
        %pids = ();
        %logged = ();
        open my $fh, '<', "$dir/logs/access_log" or die $!;
        while (<$fh>) {
            my ($pid, $mark) = split;
            next unless $mark_of{$mark};
            $pids{ $mark_of{$mark} }{$pid}++;
            $logged{$mark} = 1;
        }
        close $fh;
        last if keys %logged == keys %mark_of;
        select undef, undef, undef, 0.1;
    }
    return { bad => \@bad, pids => \%pids,
             unlogged => [ grep { !$logged{$_} } sort keys %mark_of ] };
}

sub auto_counts {
    my $res = request("GET /server-status?auto HTTP/1.1\r\nHost: alpha.test\r\n"
                      . "Connection: close\r\n\r\n");
    my $body = $res ? $res->content : '';
    my %c;
    while ($body =~ /^Expect(\w+)(?:\[([^\]]*)\])?: (\d+)$/mg) {
        $c{ defined $2 ? $2 : 'total' }{$1} = $3;
    }
    return \%c;
}

sub graceful {
    my $ok = ExpectServer::ctl($conf, 'graceful');
    my $same;
    for (1 .. 50) {
        select undef, undef, undef, 0.2;
        my $after = eval { auto_counts() };
        next unless $after && defined $after->{total}{Requests};
        $same = $after;
        last;
    }
    return { graceful => $ok, counts => $same || {} };
}

# And counting goes on in the new generation of children.
sub after_restart {
    my $res = request("GET /index.html HTTP/1.1\r\nHost: beta.test\r\nExpect: x-new\r\n"
                      . "Connection: close\r\n\r\n");
    return { status => $res && $res->code, counts => auto_counts() };
}

sub html_page {
    my $res = request("GET /server-status HTTP/1.1\r\nHost: alpha.test\r\n"
                      . "Connection: close\r\n\r\n");
    return { page => $res ? $res->content : '' };
}

sub server_health {
    open my $fh, '<', "$dir/error_log" or die $!;
    return { crashes => [ grep { /exit signal|AddressSanitizer|runtime error/ } <$fh> ],
             running => kill(0, $parent) };
}

# ---------------------------------------------------------------- checks

sub counts_of {
    my ($c, $host, $add) = @_;
    my ($key) = grep { /^\Q$host\E:/ } keys %$c;
    return join ',', map { $c->{$key // ''}{$_} // 'none' } @names;
}
sub wanted { my $w = shift; join ',', map { $w->{$_} // 0 } @names }

define built => sub {
    return { label => "module built at $so", want => 1, cmp => 'ok', got => sub { $_[0]{built} } };
};
define started => sub {
    return { label => "httpd started on 127.0.0.1:$port", want => 1, cmp => 'ok',
             got => sub { $_[0]{started} } };
};
define statuses => sub {
    return { label => 'every request of the mix got its expected status', want => 1,
             cmp => 'ok', got => sub { !@{ $_[0]{bad} } },
             diag => sub { join "\n", @{ $_[0]{bad} } } };
};
define two_children => sub {
    return { label => 'two child processes served the mix, each all requests of its connection',
             want => 1, cmp => 'ok',
             got => sub {
                 my $p = $_[0]{pids};
                 my @a = keys %{ $p->{A} || {} };
                 my @b = keys %{ $p->{B} || {} };
                 return @a == 1 && @b == 1 && $a[0] != $b[0] && !@{ $_[0]{unlogged} };
             },
             diag => sub {
                 my $p = $_[0]{pids};
                 join "\n", (map { my $c = $_;
                                   "connection $c: " . join(', ', map { "pid $_: $p->{$c}{$_} requests" }
                                                               sort keys %{ $p->{$c} || {} }) }
                             qw(A B)),
                            "not in the access log: @{ $_[0]{unlogged} }";
             } };
};
define host_counts => sub {
    return map { my $host = $_;
                 ({ label => "?auto has counters for $host", want => 1, cmp => 'ok',
                    got => sub { scalar grep { /^\Q$host\E:/ } keys %{ $_[0]{counts} } } },
                  { label => "$host: " . join(', ', @names) . ' as sent', want_of => sub { wanted($want{$host}) },
                    got => sub { counts_of($_[0]{counts}, $host) } }) } @{ $_[0] };
};
define totals => sub {
    return { label => 'totals add up over the virtual hosts', want_of => sub { wanted(\%total) },
             got => sub { join ',', map { $_[0]{counts}{total}{$_} // 'none' } @names } };
};
define html => sub {
    return ({ label => 'HTML page has the Expect section', want => qr{<h2>Expect \(mod_expect\)</h2>},
              got => sub { $_[0]{page} } },
            { label => 'HTML table has a row for alpha.test', want => 1, cmp => 'ok',
              got => sub { defined(($_[0]{page} =~ m{<tr><td>alpha\.test:\d+</td>(.*?)</tr>})[0]) } },
            { label => 'HTML row matches the counts', want_of => sub { wanted($want{'alpha.test'}) },
              got => sub { my ($row) = $_[0]{page} =~ m{<tr><td>alpha\.test:\d+</td>(.*?)</tr>};
                           join ',', ($row // '') =~ m{<td>(\d+)</td>}g } },
            { label => 'HTML table has a total row', want => qr{<td><b>Total</b></td>},
              got => sub { $_[0]{page} } });
};
define graceful => sub {
    return { label => 'graceful restart', want => 1, cmp => 'ok', got => sub { $_[0]{graceful} } };
};
# kept => [counter, ...]: the total of each is what it was before
define kept => sub {
    return map { my $name = $_;
                 { label => 'the ' . lc($name) . ' count is kept', want_of => sub { $total{$name} },
                   got => sub { $_[0]{counts}{total}{$name} } } } @{ $_[0] };
};
define new_417 => sub {
    return { label => 'a rejected request after the restart', want => 417,
             got => sub { $_[0]{status} } };
};
# one_more => [counter, ...]: the total is one more than before the restart
define one_more => sub {
    return map { my $name = $_;
                 { label => 'counted by the new children: ' . lc $name,
                   want_of => sub { $total{$name} + 1 },
                   got => sub { $_[0]{counts}{total}{$name} } } } @{ $_[0] };
};
define plain_not_counted => sub {
    return { label => 'requests without Expect are not counted',
             want_of => sub { $want{'beta.test'}{Requests} + 1 },
             got => sub { my $c = $_[0]{counts};
                          my ($beta) = grep { /^beta\.test:/ } keys %$c;
                          $c->{$beta // ''}{Requests} } };
};
define no_crash => sub {
    return { label => 'no child crashed', want => 1, cmp => 'ok',
             got => sub { !@{ $_[0]{crashes} } }, diag => sub { join '', @{ $_[0]{crashes} } } };
};
define parent_running => sub {
    return { label => 'parent still running', want => 1, cmp => 'ok',
             got => sub { $_[0]{running} } };
};

# ---------------------------------------------------------------- the table

my @cases = (
    { name => 'start', run => \&start, want => { built => 1, started => 1 } },
    { name => 'the mix on two connections', run => \&send_mix,
      want => { statuses => 1, two_children => 1 } },
    { name => '/server-status?auto', run => sub { +{ counts => auto_counts() } },
      want => { host_counts => [qw(alpha.test beta.test)], totals => 1 } },
    { name => '/server-status', run => \&html_page, want => { html => 1 } },
    # The segment belongs to the parent.
    { name => 'graceful restart', run => \&graceful,
      want => { graceful => 1, kept => [qw(Requests Rejected)] } },
    { name => 'after the restart', run => \&after_restart,
      want => { new_417 => 1, one_more => [qw(Requests Rejected)] } },
    # Nothing counted for requests without Expect: beta's plain GETs.
    { name => 'beta.test', run => sub { +{ counts => auto_counts() } },
      want => { plain_not_counted => 1 } },
    { name => 'the server', run => \&server_health,
      want => { no_crash => 1, parent_running => 1 } },
);

plan tests => count_checks(@cases),
    need({ 'the prefork MPM (mod_mpm_prefork) is missing' => $have_prefork });

run_cases(@cases);
