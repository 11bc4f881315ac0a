# Real uploads with curl. For a body over 1 MiB curl sends
# "Expect: 100-continue" by itself and holds the body back until a 100
# Continue arrives (or, with no answer, for one second). Assertions are made
# on what curl reports (-v trace, -w variables), never on how long it took:
# "Done waiting for 100-continue" is curl's own note that it gave up waiting.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use JSON::PP ();

my ($curl) = grep { -x } map { "$_/curl" } split /:/, $ENV{PATH} // '';

plan tests => 69, need_module('expect'), need_cgi, need_module('lua'),
    need({ 'curl is not installed' => defined $curl });

my $dir = tempdir(CLEANUP => 1);
my $size = 1536 * 1024 + 17;                  # over curl's 1 MiB threshold
my $data = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. $size / 4 + 1;
$data = substr $data, 0, $size;
my $upload = "$dir/upload.bin";
open my $fh, '>:raw', $upload or die "$upload: $!";
print $fh $data;
close $fh;
my $sha = sha256_hex($data);

# Run curl; returns { code, size_upload, content_type, exit, trace, body }.
sub curl_upload {
    my ($vhost, $path, @opts) = @_;
    Apache::TestRequest::module($vhost);
    my $url = 'http://' . Apache::TestRequest::hostport() . $path;
    Apache::TestRequest::module('default');
    my ($out, $err) = ("$dir/body", "$dir/trace");
    unlink $out, $err;
    my @cmd = ($curl, '-sS', '-v', '--data-binary', "\@$upload",
               '-H', 'Content-Type: application/octet-stream', @opts,
               '-o', $out, '-w', '%{http_code} %{size_upload} %{content_type}', $url);
    my $pid = open my $pipe, '-|';
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        open STDERR, '>', $err or die "$err: $!";
        exec @cmd or die "exec curl: $!";
    }
    local $/;
    my $w = <$pipe> // '';
    close $pipe;
    my $exit = $? >> 8;
    my ($code, $up, $type) = split / /, $w, 3;
    my %r = (exit => $exit, code => $code, size_upload => $up,
             content_type => $type // '');
    for ([trace => $err], [body => $out]) {
        my ($k, $f) = @$_;
        $r{$k} = '';
        if (open my $in, '<:raw', $f) { local $/; $r{$k} = <$in> // '' }
    }
    my @sent = grep { /^> / } split /\r?\n/, $r{trace};
    $r{sent_expect} = grep { /^> Expect: 100-continue$/i } @sent;
    $r{got_100}     = $r{trace} =~ m{^< HTTP/1\.1 100 Continue\r?$}m ? 1 : 0;
    $r{gave_up}     = $r{trace} =~ /Done waiting for 100-continue/ ? 1 : 0;
    $r{json}        = eval { JSON::PP->new->decode($r{body}) } || {};
    return \%r;
}

# Defer and Immediate: the 100 arrives, curl sends everything, 200.
for my $case (['proto_defer', 'Defer', 'continue', []],
              ['proto_immediate', 'Immediate', 'immediate', []],
              ['proto_defer', 'Defer, chunked', 'continue',
               ['-H', 'Transfer-Encoding: chunked']],
              ['proto_immediate', 'Immediate, chunked', 'immediate',
               ['-H', 'Transfer-Encoding: chunked']]) {
    my ($vhost, $what, $outcome, $opts) = @$case;
    my $r = curl_upload($vhost, '/cgi/echo.pl', @$opts);
    is $r->{exit}, 0, "$what: curl succeeds";
    ok $r->{sent_expect}, "$what: curl sent Expect: 100-continue by itself";
    ok $r->{got_100}, "$what: curl got HTTP/1.1 100 Continue";
    ok !$r->{gave_up}, "$what: curl never gave up waiting for the 100";
    is $r->{code}, 200, "$what: 200";
    if (@$opts) {   # chunked: curl counts the chunk framing too
        cmp_ok $r->{size_upload}, '>', $size, "$what: curl uploaded the whole body";
    } else {
        is $r->{size_upload}, $size, "$what: curl uploaded the whole body";
    }
    is $r->{json}{bytes}, $size, "$what: every byte reached the handler";
    is $r->{json}{sha256}, $sha, "$what: the body arrived intact";
    is $r->{json}{outcome}, $outcome, "$what: EXPECT_OUTCOME=$outcome";
}

# Reject: the JSON 417 comes at once and curl never sends the body.
{
    my $what = 'Reject';
    my $r = curl_upload('proto_reject', '/cgi/echo.pl');
    is $r->{exit}, 0, "$what: curl ends normally";
    ok $r->{sent_expect}, "$what: curl sent Expect: 100-continue by itself";
    ok !$r->{got_100}, "$what: no 100 Continue";
    ok !$r->{gave_up}, "$what: curl never waited out its 100-continue timer";
    like $r->{trace}, qr{^< HTTP/1\.1 417 Expectation Failed\r?$}m,
        "$what: curl got 417 Expectation Failed";
    is $r->{code}, 417, "$what: final status 417";
    is $r->{size_upload}, 0, "$what: curl uploaded nothing";
    unlike $r->{trace}, qr/We are completely uploaded/, "$what: curl never finished an upload";
    is $r->{content_type}, 'application/json', "$what: JSON body";
    is $r->{json}{status}, 417, "$what: JSON status";
    is $r->{json}{expect}, '100-continue', "$what: JSON expect";
    is_deeply $r->{json}{unmet}, ['100-continue'], "$what: JSON unmet";
    is_deeply $r->{json}{supported}, [], "$what: JSON supported";
    like $r->{trace}, qr{^< Connection: close\r?$}mi, "$what: Connection: close";
}

# The same upload without the expectation, as the 417 tells the client to do.
{
    my $what = "Reject, repeated with -H 'Expect:'";
    my $r = curl_upload('proto_reject', '/cgi/echo.pl', '-H', 'Expect:');
    is $r->{exit}, 0, "$what: curl succeeds";
    ok !$r->{sent_expect}, "$what: no Expect sent";
    ok !$r->{got_100}, "$what: no 100 Continue";
    is $r->{code}, 200, "$what: 200";
    is $r->{size_upload}, $size, "$what: curl uploaded the whole body";
    is $r->{json}{bytes}, $size, "$what: every byte reached the handler";
    is $r->{json}{sha256}, $sha, "$what: the body arrived intact";
    ok !defined $r->{json}{outcome}, "$what: no EXPECT_OUTCOME";
}

# ExpectEngine Off: httpd's own handling, the 100 comes when the body is read.
{
    my $what = 'ExpectEngine Off';
    my $r = curl_upload('proto_off', '/cgi/echo.pl');
    is $r->{exit}, 0, "$what: curl succeeds";
    ok $r->{got_100}, "$what: curl got HTTP/1.1 100 Continue";
    ok !$r->{gave_up}, "$what: curl never gave up waiting for the 100";
    is $r->{code}, 200, "$what: 200";
    is $r->{json}{bytes}, $size, "$what: every byte reached the handler";
    ok !defined $r->{json}{outcome}, "$what: no EXPECT_OUTCOME";
}

# A handler that never reads the body: under Immediate curl still gets its
# 100 and sends the body, and the connection can be used again.
{
    my $what = 'Immediate, handler never reads';
    my $r = curl_upload('proto_immediate', '/proto/early.lua');
    is $r->{exit}, 0, "$what: curl succeeds";
    ok $r->{got_100}, "$what: curl got HTTP/1.1 100 Continue";
    ok !$r->{gave_up}, "$what: curl never gave up waiting for the 100";
    is $r->{code}, 200, "$what: 200";
    like $r->{body}, qr/before the body was read/, "$what: the handler's answer";
}
