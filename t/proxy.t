# Reverse proxy: mod_expect in front of a mod_proxy_http backend (vhosts
# px_* in t/conf/h2proxy.conf.in, ProxyPass /px/ to t/backend/backend.pl).
#
# The backend is started here, on 127.0.0.1 and the port Apache::Test
# reserved for it, and stopped here by PID (it also exits by itself). It
# never sends 100 Continue, and it records the header fields and the body
# (size, MD5) of every request that reaches it, tagged by X-Test-Id.
# Assertions are on that record and on the client's trace, never on time.
use strict;
use warnings FATAL => 'all';

use FindBin ();
use lib "$FindBin::Bin/backend";

use Apache::Test qw(-withtestmore);
use Digest::MD5 ();
use File::Temp qw(tempdir);
use JSON::PP ();
use H2Proxy qw(url curl nghttp have_tool write_data index_of
               backend_start backend_stop backend_records);

plan tests => 78;

my $json = JSON::PP->new;
my $dir = tempdir(CLEANUP => 1);
my $record = "$dir/record.jsonl";

ok(have_tool('curl'), 'curl is installed');
ok(have_tool('nghttp'), 'nghttp (nghttp2-client) is installed');

my $be = eval { backend_start($record, 300) };
ok($be, 'the backend is listening') or diag($@);
END { backend_stop($be) if $be }

my $n = 0;
my %sent;   # X-Test-Id => 1 when the request should reach the backend

# One request with curl; every request carries a unique X-Test-Id.
sub request {
    my ($vhost, $reaches, @args) = @_;
    my $id = sprintf 'px-%02d', ++$n;
    $sent{$id} = $reaches;
    my $r = curl('-H', "X-Test-Id: $id", @args, url($vhost, "/px/$id"));
    $r->{id} = $id;
    return $r;
}

sub seen {
    my $id = shift;
    my @r = grep { ($_->{test_id} || '') eq $id } backend_records($record);
    return $r[0];
}

sub decode {
    my $v = eval { $json->decode($_[0]) };
    return ref $v eq 'HASH' ? $v : {};
}

##
## 1. Extension expectations: accepted ones reach the backend in Expect,
##    ignored and rejected ones do not
##
my @cases = (
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
);
my @rejected;
for my $case (@cases) {
    my ($what, $vhost, $expect, $status, $outcome, $backend) = @$case;
    my $r = request($vhost, $status == 200,
                    defined $expect ? ('-H', "Expect: $expect") : ());
    is($r->{status}, $status, "$what: $status");
    is($r->{header}{'x-outcome'}, $outcome,
       "$what: EXPECT_OUTCOME " . ($outcome // 'unset'));
    if ($status == 200) {
        my $seen = seen($r->{id});
        ok($seen, "$what: the request reached the backend");
        is($seen && $seen->{expect}, $backend,
           "$what: Expect at the backend is " . ($backend // 'absent'));
    }
    else {
        push @rejected, $r->{id};
        is($r->{header}{'content-type'}, 'application/json',
           "$what: the 417 is JSON");
        my $j = decode($r->{body});
        is_deeply($j->{unmet}, ['x-unknown'], "$what: \"unmet\" is x-unknown");
    }
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

sub upload_checks {
    my ($what, $r, $outcome, $backend_expect) = @_;
    is($r->{status}, 200, "$what: final status 200")
        or diag($r->{trace});
    is_deeply($r->{statuses}, [100, 200], "$what: the client got 100, then 200");
    like($r->{trace},
         qr/^< HTTP\/1\.1 100 Continue.*^\* We are completely uploaded and fine.*^< HTTP\/1\.1 200/ms,
         "$what: trace shows 100 Continue, then the body sent, then 200");
    is($r->{header}{'x-outcome'}, $outcome, "$what: EXPECT_OUTCOME $outcome");
    my $seen = seen($r->{id});
    ok($seen, "$what: the request reached the backend");
    $seen ||= {};
    is($seen->{bytes}, $size, "$what: the backend received all $size bytes");
    is($seen->{md5}, $md5, "$what: ... and the same bytes (MD5)");
    ok($seen->{complete}, "$what: ... and the whole announced body");
    is($seen->{expect}, $backend_expect,
       "$what: Expect at the backend is " . ($backend_expect // 'absent')
       . ' (no 100-continue exchange with the backend)');
}

{
    my $r = request('px_immediate', 1, '-H', 'Expect: 100-continue', @upload);
    upload_checks('Immediate, 1.5 MiB upload', $r, 'immediate', undef);
}
{
    my $r = request('px_immediate', 1, '-H', 'Expect: 100-continue, x-trace',
                    @upload);
    upload_checks('Immediate, upload with an allowed extension', $r,
                  'immediate', 'x-trace');
}
{
    my $r = request('px_defer_off', 1, '-H', 'Expect: 100-continue', @upload);
    upload_checks('Defer with Proxy100Continue Off, 1.5 MiB upload', $r,
                  'continue', undef);
}

##
## 3. HTTP/2 client, HTTP/1.1 backend
##
{
    my $r = request('px_allow', 1, '--http2-prior-knowledge',
                    '-H', 'Expect: x-trace');
    is($r->{protocol}, 'HTTP/2', 'h2c client through the proxy: HTTP/2 response');
    is($r->{status}, 200, 'h2c client, allowed extension: 200');
    is($r->{header}{'x-outcome'}, 'accepted', 'h2c client: EXPECT_OUTCOME accepted');
    my $seen = seen($r->{id}) || {};
    is($seen->{protocol}, 'HTTP/1.1', 'h2c client: the backend got HTTP/1.1');
    is($seen->{expect}, 'x-trace', 'h2c client: Expect x-trace at the backend');
}
{
    my $r = request('px_allow', 0, '--http2-prior-knowledge',
                    '-H', 'Expect: x-unknown');
    is($r->{status}, 417, 'h2c client, unknown expectation: 417');
    push @rejected, $r->{id};
}
{
    # h2c upload through Immediate: :status 100 before the client's DATA.
    my $id = sprintf 'px-%02d', ++$n;
    $sent{$id} = 1;
    my $nr = nghttp('--expect-continue', '-d', $data, '-H', "X-Test-Id: $id",
                    '-H', 'Expect: x-trace', url('px_immediate', "/px/$id"));
    my $ev = $nr->{events};
    my $i100  = index_of($ev, qr/^status 100$/);
    my $idata = index_of($ev, qr/^send DATA$/);
    is($nr->{status}, 200, 'h2c upload through Immediate: 200')
        or diag(join ', ', @$ev);
    ok($i100 >= 0 && $idata > $i100,
       'h2c upload through Immediate: :status 100 before the client sends DATA')
        or diag(join ', ', @$ev);
    my $seen = seen($id) || {};
    is($seen->{bytes}, $size, 'h2c upload through Immediate: all bytes at the backend');
    is($seen->{md5}, $md5, 'h2c upload through Immediate: same bytes (MD5)');
    is($seen->{expect}, 'x-trace',
       'h2c upload through Immediate: only the extension at the backend');
}

##
## 4. Rejected requests never reached the backend; everything else did,
##    exactly once
##
{
    my @records = backend_records($record);
    my %got;
    $got{ $_->{test_id} // '' }++ for @records;
    for my $id (@rejected) {
        ok(!$got{$id}, "rejected request $id never reached the backend");
    }
    my @expected = sort grep { $sent{$_} } keys %sent;
    is_deeply([ sort grep { length } keys %got ], \@expected,
              'the backend saw exactly the accepted requests');
    ok(!grep({ $_ > 1 } values %got), 'each of them once');
}

backend_stop($be);
