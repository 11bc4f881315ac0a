# TLS: HTTP/1.1 over TLS and h2 over TLS (ALPN) get the checks their
# cleartext versions get. Every row runs twice, on a cleartext host and on
# its TLS twin with the same configuration (t/conf/tls.conf.in: tls_defer,
# tls_immediate and tls_reject are h2_defer, h2_immediate and h2_reject of
# t/conf/h2proxy.conf.in with SSLEngine on and "Protocols h2 http/1.1"),
# and the two must give the same answers.
#
# The certificate and its CA are made by t/TEST.PL (t/conf/tls/). The raw
# HTTP/1.1 client (t/lib/ExpectClient.pm) talks TLS with IO::Socket::SSL,
# offers http/1.1 by ALPN and verifies the server's certificate against
# that CA; curl verifies it too (--cacert). nghttp negotiates h2 by ALPN.
#
# What is checked, as in t/continue.t, t/pipeline.t and t/http2.t:
# * the JSON 417;
# * when 100 Continue comes: under Defer only when the handler reads the
#   body (t/htdocs/proto/early.lua never does: no 100), under Immediate
#   before the handler (early.lua gets one);
# * a refused 100-continue whose body was never sent: HTTP/1.1 closes the
#   connection and never answers the bytes sent after; h2 ends the stream
#   before the client sends DATA, and the connection goes on;
# * an unknown expectation with its body sent at once: the body is
#   discarded and a request behind it on the same connection is answered
#   (h2: a stream beside it on the same connection).
# Stock httpd (measured on 2.4.71 without the module, TLS and cleartext
# alike): 100 Continue when the handler reads, and an HTML 417 that closes
# the connection for anything but 100-continue; each row says it.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use File::Spec::Functions qw(catfile);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;
use ExpectTools qw(url curl nghttp nghttp_data have_tool write_data);
use ExpectRelease qw(tls_unbuilt);

if (my $why = tls_unbuilt()) {
    plan skip_all => $why;
}

my $ca = catfile(Apache::Test::vars('t_conf'), 'tls', 'ca.pem');

# From httpd 2.4.49 to 2.4.54 no module can take an HTTP/2 request's Expect
# before httpd's own check: there, anything but 100-continue gets httpd's
# HTML 417 over h2c and h2 alike (expect_compat.h).
my $h2_judged = !have_min_apache_version('2.4.49') || have_min_apache_version('2.4.55');

# The transports: the host of each policy, and how a client reaches it.
my @transports = (
    { name => 'cleartext', defer => 'h2_defer', immediate => 'h2_immediate',
      reject => 'h2_reject', scheme => 'http', h2 => 'h2c', curl => [] },
    { name => 'TLS', defer => 'tls_defer', immediate => 'tls_immediate',
      reject => 'tls_reject', scheme => 'https', h2 => 'h2', tls => $ca,
      curl => ['--cacert', $ca] },
);

my $echo  = '/cgi/echo.pl';
my $early = '/proto/early.lua';       # answers without ever reading the body
my $body  = join '', map { sprintf "line %05d of the upload\n", $_ } 1 .. 400;
my $len   = length $body;
my $smuggled = "GET /proto/index.txt HTTP/1.1\r\nHost: smuggled\r\n\r\n";
my $get_index = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
my $size  = 300_000;
my $data  = write_data($size);

sub head_for {
    my ($method, $uri, %h) = @_;
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $head .= "$_: $h{$_}\r\n" for sort keys %h;
    return "$head\r\n";
}

# alpn => 'http/1.1': what the TLS handshake chose (none over cleartext)
define alpn => sub {
    my $want = shift;
    return { label => defined $want ? "ALPN chose $want" : 'no TLS, no ALPN', want => $want,
             got => sub { $_[0]{conn} ? $_[0]{conn}->alpn : undef } };
};
# streams => [417, 417]: the final status of every stream nghttp opened
define streams => sub {
    return { label => 'the final status of each stream, in stream order', want => $_[0],
             got => sub { $_[0]{streams} } };
};
define tools => sub {
    return map { my $tool = $_;
                 +{ label => "$tool is installed", want => 1, cmp => 'ok',
                    got => sub { have_tool($tool) } } } @{ $_[0] };
};

# nghttp's events
my $S100  = qr/^status 100$/;
my $DATA  = qr/^send DATA$/;
my $FINAL = qr/^status [2-5]\d\d$/;

my @cases = (
    { name => 'the clients', run => sub { {} }, want => { tools => [qw(nghttp curl)] } },
);

for my $t (@transports) {
    my $over = "HTTP/1.1, $t->{name}";
    my %on = (tls => $t->{tls});

    ##
    ## HTTP/1.1 (raw client)
    ##
    push @cases,
    { name  => "$over: Defer, a handler that reads", vhost => $t->{defer}, %on,
      stock => '100 Continue when the handler reads the body',
      steps => [head_for(POST => $echo, 'Content-Length' => $len, Expect => '100-continue'),
                READ, $body, FINAL],
      want  => { alpn => $t->{tls} ? 'http/1.1' : undef,
                 first => 100, status => 200, interim => '100',
                 echo => { bytes => $len, md5 => md5_hex($body), expect => '100-continue',
                           outcome => 'continue' },
                 connection_not => 'close', next => 1 } },

    # Defer leaves the 100 to the handler: one that never reads gets none,
    # and the unread body closes the connection.
    { name  => "$over: Defer, a handler that never reads", vhost => $t->{defer}, %on,
      stock => 'the same: no 100 Continue, Connection: close',
      steps => [head_for(POST => $early, 'Content-Length' => length $smuggled,
                         Expect => '100-continue'), FINAL],
      want  => { interim => '', status => 200, body_like => qr/before the body was read/,
                 outcome => 'continue', connection => qr/\bclose\b/, closed => $smuggled } },

    # Immediate sends the 100 before the handler runs: even this handler
    # gets one; the body then follows, is discarded, and the connection
    # goes on (a body parsed as a request would answer Host "smuggled").
    { name  => "$over: Immediate, a handler that never reads", vhost => $t->{immediate}, %on,
      stock => 'no 100 Continue, Connection: close (no Immediate there)',
      steps => [head_for(POST => $early, 'Content-Length' => length $smuggled,
                         Expect => '100-continue'), READ, $smuggled, FINAL,
                head_for(GET => $early), FINAL],
      want  => { first => 100, status => 200, body_like => qr/before the body was read/,
                 outcome => 'immediate',
                 then => { status => 200, body_like => qr/before the body was read/ } } },

    { name  => "$over: Immediate, a handler that reads", vhost => $t->{immediate}, %on,
      stock => '100 Continue when the handler reads; it sees Expect: 100-continue',
      steps => [head_for(POST => $echo, 'Content-Length' => $len, Expect => '100-continue'),
                READ, $body, FINAL],
      want  => { first => 100, status => 200, interim => '100',
                 echo => { bytes => $len, md5 => md5_hex($body), expect => undef,
                           outcome => 'immediate' },
                 next => 1 } },

    # Reject: the JSON 417 at once; the body was never sent, so the
    # connection closes and later bytes are never answered.
    { name  => "$over: Reject", vhost => $t->{reject}, %on,
      stock => 'no Reject there: 100-continue is honoured as under Defer',
      steps => [head_for(POST => $echo, 'Content-Length' => length $smuggled,
                         Expect => '100-continue'), FINAL],
      want  => { interim => '', status => 417, ctype => 'application/json', clen => 1,
                 json => json_417(expect => '100-continue', unmet => ['100-continue'],
                                  supported => []),
                 outcome => 'rejected', connection => qr/\bclose\b/, closed => $smuggled } },

    # An unknown expectation with the body sent at once and a request behind
    # it in the same write: the body is discarded, the next one answered.
    { name  => "$over: an unknown expectation, body sent at once, a request behind it",
      vhost => $t->{defer}, %on,
      stock => 'HTML 417, connection closed: the request behind it is lost',
      steps => [head_for(POST => $echo, 'Content-Length' => $len, Expect => 'x-foo')
                . $body . $get_index, FINAL],
      want  => { interim => '', status => 417, ctype => 'application/json',
                 json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                  supported => ['100-continue', 'x-trace']),
                 connection_not => 'close', then => { status => 200, body => "hello\n" } } };

    # A real client: curl waits for the 100 (up to 30 s here), gets it
    # before the handler runs, and uploads.
    push @cases,
    { name  => "$over: curl, Immediate upload", stock => '100 Continue when the handler reads',
      run   => sub { curl(@{ $t->{curl} }, '--http1.1', '-H', 'Expect: 100-continue',
                          '--expect100-timeout', 30, '--data-binary', "\@$data",
                          url($t->{immediate}, $echo, $t->{scheme})) },
      want  => { exit => 0, protocol => 'HTTP/1.1', statuses => [100, 200], got_100 => 1,
                 gave_up => 0, uploaded => $size,
                 echo => { bytes => $size, outcome => 'immediate' } } };

    ##
    ## h2 (h2c with prior knowledge over cleartext, h2 by ALPN over TLS);
    ## nghttp --expect-continue holds its DATA back until :status 100 (or
    ## its own short wait ends)
    ##
    my $h2 = $t->{h2};
    my $u = sub { url($t->{$_[0]}, $_[1], $t->{scheme}) };
    push @cases,
    { name  => "$h2: Defer, a handler that reads", stock => 'the same',
      run   => sub { nghttp('--expect-continue', '-d', $data, $u->(defer => $echo)) },
      want  => { status => 200, outcome => 'continue',
                 events => ['the :status 100 arrives before the client sends DATA'
                                => [$S100, $DATA],
                            'the final status follows the body' => [$DATA, $FINAL]],
                 output_like => ["the connection speaks $h2" => ($t->{tls} ? qr/negotiated protocol: h2\b/
                                                                : qr/\[\s*[\d.]+\] recv SETTINGS/),
                                 'the handler read the whole body' => qr/"bytes":$size,/,
                                 'the handler sees Expect: 100-continue'
                                     => qr/"expect":"100-continue"/] } },
    { name  => "$h2: Defer, a handler that never reads", stock => 'the same',
      run   => sub { nghttp('--expect-continue', '-d', $data, $u->(defer => $early)) },
      want  => { status => 200, outcome => 'continue',
                 events => ['no :status 100' => { absent => $S100 }] } },
    { name  => "$h2: Immediate, a handler that never reads",
      stock => 'no :status 100 (nobody reads the body)',
      run   => sub { nghttp('--expect-continue', '-d', $data, $u->(immediate => $early)) },
      want  => { status => 200, outcome => 'immediate',
                 events => [':status 100 arrives before the final status' => [$S100, $FINAL],
                            'no DATA was sent before the :status 100'
                                => { none_before => [$DATA, $S100] }] } },
    # Reject: the 417 ends the stream before the client sends any DATA, and
    # only the stream: the server sends no GOAWAY.
    { name  => "$h2: Reject", stock => 'no Reject there: :status 100, the body and 200',
      run   => sub {
          my @args = ('--expect-continue', '-d', $data, $u->(reject => $echo));
          my $n = nghttp(@args);
          $n->{body} = nghttp_data(@args);
          return $n;
      },
      want  => { status => 417, ctype => 'application/json', outcome => 'rejected',
                 json => json_417(expect => '100-continue', unmet => ['100-continue'],
                                  supported => []),
                 events => ['no :status 100' => { absent => $S100 },
                            'the 417 arrives before the client sends any DATA'
                                => { none_before => [$DATA, qr/^status 417$/] },
                            'the server ends the stream' => [qr/^recv RST_STREAM$/],
                            'the server keeps the connection (no GOAWAY)'
                                => { absent => qr/^recv GOAWAY$/ }] } },
    # An unknown expectation with a body, and beside it on the same
    # connection (one nghttp run, two streams) the same request to a URL
    # that accepts x-foo: the first stream gets its JSON 417 and is reset,
    # its body dropped; the second gets every byte of its own; the
    # connection goes on.
    { name  => "$h2: an unknown expectation with a body, and another stream beside it",
      stock => 'HTML 417 on both streams, each reset',
      run   => sub {
          my @urls = ($u->(defer => $echo), $u->(defer => '/allow-foo/echo.pl'));
          my $n = nghttp('-d', $data, '-H', 'Expect: x-foo', @urls);
          my (%status, %stream_of);
          while ($n->{output} =~ /send HEADERS frame <[^>]*stream_id=(\d+)>[^\[]*?:path: (\S+)/g) {
              $stream_of{$2} = $1;
          }
          while ($n->{output} =~ /recv \(stream_id=(\d+)\) :status: (\d+)/g) {
              $status{$1} = $2;
          }
          $n->{streams} = [ map { $status{ $stream_of{$_} // '' } }
                            $echo, '/allow-foo/echo.pl' ];
          $n->{body} = nghttp_data('-d', $data, '-H', 'Expect: x-foo', $urls[0]);
          $n->{second} = nghttp_data('-d', $data, '-H', 'Expect: x-foo', @urls);
          return $n;
      },
      want  => $h2_judged
               ? { streams => [417, 200], ctype => 'application/json',
                   json => json_417(expect => 'x-foo', unmet => ['x-foo'],
                                    supported => ['100-continue', 'x-trace']),
                   output_like => ['the other stream\'s handler read its whole body'
                                       => qr/"bytes":$size,/,
                                   '... and saw Expect: x-foo' => qr/"expect":"x-foo"/],
                   events => ['the first stream is reset' => [qr/^recv RST_STREAM$/],
                              'the server keeps the connection (no GOAWAY)'
                                  => { absent => qr/^recv GOAWAY$/ }] }
               : { streams => [417, 417], ctype => qr{^text/html},
                   events => ['the server keeps the connection (no GOAWAY)'
                                  => { absent => qr/^recv GOAWAY$/ }] } };
}

# (Apache::Test's plan honours one condition: need() makes it one.)
plan tests => count_checks(@cases),
    need(need_module(qw(expect ssl http2 lua)), need_cgi);

run_cases(@cases);
