# Reverse proxy: mod_expect in front of a mod_proxy_http backend (vhosts
# px_* in t/conf/h2proxy.conf.in, ProxyPass /px/ to t/backend/backend.pl).
#
# The backend is started here, on 127.0.0.1 and the port Apache::Test
# reserved for it, and stopped here by PID (it also exits by itself). It
# never sends 100 Continue, and it records the header fields and the body
# (size, MD5) of every request that reaches it, tagged by X-Test-Id.
# Assertions are on that record and on the client's trace, never on time.
# Each row says what stock httpd does: it answers every Expect but
# 100-continue with its HTML 417 before the proxy runs, so no extension
# ever reaches a backend.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 ();
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient ();
use ExpectTable;
use ExpectTools qw(url curl nghttp have_tool write_data
                   backend_start backend_stop backend_records);
use ExpectRelease qw(h2_capture_missing proxy_forwards_expect directive_missing);

# HTTP/2 requests whose Expect is not exactly "100-continue": the release
# may leave the module no way to see them (they never run, so they never
# reach the backend).
my $h2_capture = h2_capture_missing();

my $dir = tempdir(CLEANUP => 1);
my $record = "$dir/record.jsonl";
my $be;
END { backend_stop($be) if $be }

my $n = 0;
my (%reaches, @rejected);   # X-Test-Id => whether the request reaches the backend

# What the backend recorded of the request with this X-Test-Id.
sub seen {
    my $id = shift;
    my @r = grep { ($_->{test_id} || '') eq $id } backend_records($record);
    return $r[0];
}

# A request through the proxy with curl, under a new X-Test-Id; $reaches
# says whether it should get to the backend.
sub proxied {
    my ($vhost, $reaches, @args) = @_;
    my $id = sprintf 'px-%02d', ++$n;
    $reaches{$id} = $reaches;
    push @rejected, $id unless $reaches;
    return sub {
        my $r = curl('-H', "X-Test-Id: $id", @args, url($vhost, "/px/$id"));
        $r->{seen} = seen($id);
        return $r;
    };
}

# backend => { reached => 1, key => value, ... }: what the backend recorded
my %backend_label = (
    reached  => sub { 'the request reached the backend' },
    expect   => sub { 'Expect at the backend is ' . ($_[0] // 'absent') },
    bytes    => sub { "the backend received all $_[0] bytes" },
    md5      => sub { '... and the same bytes (MD5)' },
    complete => sub { '... and the whole announced body' },
    protocol => sub { "the backend got $_[0]" },
);
define backend => sub {
    my $want = shift;
    return map { my $k = $_;
                 $k eq 'reached'
                 ? +{ label => $backend_label{$k}->(), want => 1, cmp => 'ok',
                      got => sub { $_[0]{seen} } }
                 : +{ label => $backend_label{$k}->($want->{$k}), want => $want->{$k},
                      ($k eq 'complete' ? (cmp => 'ok') : ()),
                      got => sub { ($_[0]{seen} || {})->{$k} } } }
           grep { exists $want->{$_} } qw(reached expect bytes md5 complete protocol);
};
define tools => sub {
    return map { my $tool = $_;
                 +{ label => "$tool is installed", want => 1, cmp => 'ok',
                    got => sub { have_tool($tool) } } } @{ $_[0] };
};
define listening => sub {
    return { label => 'the backend is listening', want => 1, cmp => 'ok',
             got => sub { $_[0]{be} }, diag => sub { $_[0]{error} } };
};
define never_reached => sub {
    return map { my $id = $_;
                 +{ label => "rejected request $id never reached the backend", want => 1,
                    cmp => 'ok', got => sub { !$_[0]{count}{$id} } } } @{ $_[0] };
};
define exactly_accepted => sub {
    return ({ label => 'the backend saw exactly the accepted requests',
              want => [ sort grep { $reaches{$_} } keys %reaches ],
              got => sub { [ sort grep { length } keys %{ $_[0]{count} } ] } },
            { label => 'each of them once', want => 1, cmp => 'ok',
              got => sub { !grep { $_ > 1 } values %{ $_[0]{count} } } });
};

my @cases = (
    { name => 'setup',
      run  => sub { $be = eval { backend_start($record, 300) };
                    +{ be => $be, error => $@ } },
      want => { tools => [qw(curl nghttp)], listening => 1 } },
);

##
## 1. Extension expectations: accepted ones reach the backend in Expect,
##    ignored and rejected ones do not
##
for my $case (
    # [ what, vhost, Expect, status, outcome, Expect at the backend ]
    [ 'no Expect',                          'px_allow',  undef,
      200, undef,      undef ],
    [ 'an allowed extension',               'px_allow',  'x-trace',
      200, 'accepted', 'x-trace' ],
    [ 'two allowed, with value and parameters', 'px_allow',
      'X-Audit=7;scope="a b", x-trace',
      200, 'accepted', 'X-Audit=7;scope="a b", x-trace' ],
    [ 'a duplicate counts once',            'px_allow',  'x-trace, X-TRACE, x-trace',
      200, 'accepted', 'x-trace' ],
    [ 'an unknown expectation, rejected',   'px_allow',  'x-unknown',
      417, 'rejected', undef ],
    [ 'an unknown beside an allowed one, rejected', 'px_allow', 'x-trace, x-unknown',
      417, 'rejected', undef ],
    [ 'an unknown beside an allowed one, ignored',  'px_ignore', 'x-unknown, x-trace',
      200, 'accepted', 'x-trace' ],
    [ 'only unknown members, ignored',      'px_ignore', 'x-unknown, x-other=1',
      200, 'ignored',  undef ],
) {
    my ($what, $vhost, $expect, $status, $outcome, $backend) = @$case;
    push @cases,
    { name => $what,
      stock => defined $expect ? 'HTML 417 before mod_proxy: nothing reaches the backend'
                               : 'the same',
      run  => proxied($vhost, $status == 200, defined $expect ? ('-H', "Expect: $expect") : ()),
      want => { status => $status, outcome => $outcome,
                $status == 200
                ? (backend => { reached => 1, expect => $backend })
                : (ctype => 'application/json', json_fields => { unmet => ['x-unknown'] }) } };
}

##
## 2. Uploads with Expect: 100-continue to a backend that never sends 100
##
my $size = 1_572_864;               # 1.5 MiB
my $data = write_data($size);
my $md5 = do {
    open my $fh, '<:raw', $data or die "$data: $!";
    Digest::MD5->new->addfile($fh)->hexdigest;
};

# curl waits up to --expect100-timeout for the 100 before it sends the
# body; with a long wait, a body that arrives at all was released by a 100.
my @upload = ('--expect100-timeout', 50, '--data-binary', "\@$data");

for my $case (
    # [ what, vhost, Expect, outcome, Expect at the backend ]
    [ 'Immediate, 1.5 MiB upload', 'px_immediate', '100-continue', 'immediate', undef ],
    [ 'Immediate, upload with an allowed extension', 'px_immediate',
      '100-continue, x-trace', 'immediate', 'x-trace' ],
    # Before 2.4.54 mod_proxy_http forwards the accepted 100-continue itself.
    [ 'Defer with Proxy100Continue Off, 1.5 MiB upload', 'px_defer_off', '100-continue',
      'continue', proxy_forwards_expect() ? '100-continue' : undef,
      directive_missing('Proxy100Continue') ],
) {
    my ($what, $vhost, $expect, $outcome, $backend, $skip) = @$case;
    push @cases,
    { name => $what, skip => $skip,
      stock => $expect eq '100-continue'
               ? "no ExpectContinue there: the 100 is left to mod_proxy_http's own exchange"
               : 'HTML 417 before mod_proxy',
      run  => proxied($vhost, !$skip, '-H', "Expect: $expect", @upload),
      # no 100-continue exchange with the backend: Expect there is only
      # what was allowed
      want => { status => 200, statuses => [100, 200], outcome => $outcome,
                trace_like => ['the trace shows 100 Continue, then the body sent, then 200'
                                   => qr/^< HTTP\/1\.1 100 Continue.*^\* We are completely uploaded and fine.*^< HTTP\/1\.1 200/ms],
                backend => { reached => 1, bytes => $size, md5 => $md5, complete => 1,
                             expect => $backend } } };
}

##
## 3. HTTP/2 client, HTTP/1.1 backend
##
push @cases,
    { name => 'h2c client, allowed extension', stock => 'HTML 417 before mod_proxy',
      skip => $h2_capture,
      run  => proxied('px_allow', !$h2_capture, '--http2-prior-knowledge',
                      '-H', 'Expect: x-trace'),
      want => { protocol => 'HTTP/2', status => 200, outcome => 'accepted',
                backend => { protocol => 'HTTP/1.1', expect => 'x-trace' } } },
    { name => 'h2c client, unknown expectation', stock => 'HTML 417 before mod_proxy',
      run  => proxied('px_allow', 0, '--http2-prior-knowledge', '-H', 'Expect: x-unknown'),
      want => { status => 417 } };
{
    # h2c upload through Immediate: :status 100 before the client's DATA.
    my $id = sprintf 'px-%02d', ++$n;
    $reaches{$id} = !$h2_capture;
    push @cases,
    { name => 'h2c upload through Immediate', stock => 'HTML 417 before mod_proxy',
      skip => $h2_capture,
      run  => sub {
          my $r = nghttp('--expect-continue', '-d', $data, '-H', "X-Test-Id: $id",
                         '-H', 'Expect: x-trace', url('px_immediate', "/px/$id"));
          $r->{seen} = seen($id);
          return $r;
      },
      # only the extension reaches the backend
      want => { status => 200,
                events => [':status 100 before the client sends DATA'
                               => [qr/^status 100$/, qr/^send DATA$/]],
                backend => { bytes => $size, md5 => $md5, expect => 'x-trace' } } };
}

##
## 4. mod_proxy's own connections to the backend carry no header-line
##    filter: pre_connection runs for them too, and EXPECT_IN (which renames
##    Expect lines of request header blocks) has no business where the
##    header blocks are responses.
##
## What a client sees: response header lines that begin like the ones
## EXPECT_IN renames come through unchanged. (A filter there would not be
## armed for a response, so the lines alone cannot show its absence.) What
## the connections carry: the suite's probe (t/probe/mod_conn_filters.c,
## LogLevel conn_filters:trace1 in px_allow) logs the input filters of px_allow's
## connections; the backend connection's list must not name EXPECT_IN,
## while the client connection's does (the filter is only used from httpd
## 2.4.49, whose Expect check runs before post_read_request).
##
{
    my $id = sprintf 'px-%02d', ++$n;
    $reaches{$id} = 1;
    my @lines = ('Expect: x-from-backend', 'Expec~: x-renamed-name',
                 'expect: 100-continue, x-lower');
    my $error_log = catfile(Apache::Test::vars('t_logs'), 'error_log');
    # (httpd keeps filter names in lower case)
    my $client_filters = have_min_apache_version('2.4.49') ? qr/\bexpect_in\b/i
                                                           : qr/\A(?!.*\bexpect_in\b)/i;
    define reply_lines => sub {
        return map { my $line = $_;
                     +{ label => "the backend's header line '$line' reaches the client unchanged",
                        want => qr/\r\n\Q$line\E\r\n/, got => sub { $_[0]{head} } } } @{ $_[0] };
    };
    define filters => sub {
        my $want = shift;
        return ({ label => 'the probe logged the backend connection', want => 1, cmp => 'ok',
                  got => sub { scalar @{ $_[0]{outgoing} } } },
                { label => 'no backend connection carries EXPECT_IN', want => '',
                  got => sub { join ' | ', grep { /\bexpect_in\b/i } @{ $_[0]{outgoing} } } },
                { label => 'the client connection\'s filters',
                  want => $want->{client}, got => sub { $_[0]{client} // '' } });
    };
    push @cases,
    { name => 'response header lines like Expect through the proxy',
      stock => 'the same: nothing looks at response header lines',
      run  => sub {
          my $from = -s $error_log;
          my $c = ExpectClient->new('px_allow');
          my $port = $c->{sock}->sockport;
          $c->send(join "\r\n", "GET /px/$id HTTP/1.1", 'Host: localhost', "X-Test-Id: $id",
                                (map { "X-Reply-Header-$_: $lines[$_]" } 0 .. $#lines),
                                '', '');
          my ($res) = $c->final;
          $c->close;
          open my $fh, '<', $error_log or die "$error_log: $!\n";
          seek $fh, $from, 0;
          my (@outgoing, $client);
          while (<$fh>) {
              push @outgoing, $1 if /conn_filters: outgoing connection to 127\.0\.0\.1:$be->{port}: (.*)$/;
              $client = $1 if /conn_filters: client connection from 127\.0\.0\.1:$port: (.*)$/;
          }
          return { res => $res || HTTP::Response->parse(''),
                   head => $res ? $res->{expect_raw_head} : '',
                   outgoing => \@outgoing, client => $client };
      },
      want => { status => 200, reply_lines => \@lines,
                filters => { client => $client_filters } } };
}

##
## 5. Rejected requests never reached the backend; everything else did,
##    exactly once
##
push @cases,
    { name => 'the backend',
      run  => sub {
          my %count;
          $count{ $_->{test_id} // '' }++ for backend_records($record);
          backend_stop($be);
          return { count => \%count };
      },
      want => { never_reached => [@rejected], exactly_accepted => 1 } };

# (Apache::Test's plan honours one condition: need() makes it one.)
plan tests => count_checks(@cases),
    need_module(qw(expect proxy_http http2 conn_filters));

run_cases(@cases);
