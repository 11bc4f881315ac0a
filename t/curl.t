# Real uploads with curl. For a body over 1 MiB curl sends
# "Expect: 100-continue" by itself and holds the body back until a 100
# Continue arrives (or, with no answer, for one second). Assertions are made
# on what curl reports (-v trace, its counters), never on how long it took:
# "Done waiting for 100-continue" is curl's own note that it gave up waiting.
# Each row says what stock httpd 2.4.71 does with the same upload (measured
# on a scratch server without the module).
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::SHA qw(sha256_hex);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;
use ExpectTools qw(curl have_tool url write_data);

my $size = 1536 * 1024 + 17;                  # over curl's 1 MiB threshold
my $upload = write_data($size);
my $sha = do {
    open my $fh, '<:raw', $upload or die "$upload: $!";
    local $/;
    sha256_hex(scalar <$fh>);
};

# One upload of the file with curl (which adds Expect: 100-continue).
sub upload {
    my ($vhost, $path, @opts) = @_;
    return sub {
        curl('--data-binary', "\@$upload", '-H', 'Content-Type: application/octet-stream',
             @opts, url($vhost, $path));
    };
}

my @cases;

# Defer and Immediate: the 100 arrives, curl sends everything, 200.
for my $case (['proto_defer', 'Defer', 'continue', []],
              ['proto_immediate', 'Immediate', 'immediate', []],
              ['proto_defer', 'Defer, chunked', 'continue',
               ['-H', 'Transfer-Encoding: chunked']],
              ['proto_immediate', 'Immediate, chunked', 'immediate',
               ['-H', 'Transfer-Encoding: chunked']]) {
    my ($vhost, $what, $outcome, $opts) = @$case;
    push @cases,
    { name => $what, run => upload($vhost, '/cgi/echo.pl', @$opts),
      stock => '100 Continue when the handler reads the body, then 200',
      want => { exit => 0, sent_expect => 1, got_100 => 1, gave_up => 0, status => 200,
                # chunked: curl counts the chunk framing too
                (@$opts ? (uploaded_over => $size) : (uploaded => $size)),
                echo => { bytes => $size, sha256 => $sha, outcome => $outcome } } };
}

push @cases,
    # Reject: the JSON 417 comes at once and curl never sends the body.
    { name => 'Reject', run => upload('proto_reject', '/cgi/echo.pl'),
      stock => 'no Reject there: 100 Continue, the upload and 200',
      want => { exit => 0, sent_expect => 1, got_100 => 0,
                gave_up => 0, status => 417, uploaded => 0,
                trace_like => ['curl got 417 Expectation Failed'
                                   => qr{^< HTTP/1\.1 417 Expectation Failed\r?$}m,
                               'Connection: close' => qr{^< Connection: close\r?$}mi],
                trace_unlike => ['curl never finished an upload'
                                     => qr/We are completely uploaded/],
                ctype => 'application/json',
                json_fields => { status => 417, expect => '100-continue',
                                 unmet => ['100-continue'], supported => [] } } },

    # The same upload without the expectation, as the 417 tells the client
    # to do.
    { name => "Reject, repeated with -H 'Expect:'",
      run => upload('proto_reject', '/cgi/echo.pl', '-H', 'Expect:'),
      stock => 'the same',
      want => { exit => 0, sent_expect => 0, got_100 => 0, status => 200,
                uploaded => $size,
                echo => { bytes => $size, sha256 => $sha, outcome => undef } } },

    # ExpectEngine Off: httpd's own handling, the 100 comes when the body is
    # read.
    { name => 'ExpectEngine Off', run => upload('proto_off', '/cgi/echo.pl'),
      stock => 'the same (this is stock behaviour)',
      want => { exit => 0, got_100 => 1, gave_up => 0, status => 200,
                echo => { bytes => $size, outcome => undef } } },

    # A handler that never reads the body: under Immediate curl still gets
    # its 100 and sends the body, and the connection can be used again.
    { name => 'Immediate, handler never reads', run => upload('proto_immediate', '/proto/early.lua'),
      stock => 'no 100 Continue: curl gets the 200 before it has sent any of the body',
      want => { exit => 0, got_100 => 1, gave_up => 0, status => 200,
                body_like => qr/before the body was read/ } };

plan tests => count_checks(@cases),
    need(need_module(qw(expect lua)), need_cgi,
         { 'curl is not installed' => have_tool('curl') });

run_cases(@cases);
