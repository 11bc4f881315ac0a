#!/usr/bin/perl
# mod_expect interop: the upload handler behind every policy's URL.
#
# Reads the whole request body, digests it (SHA-256, MD5) and records, under
# the run ID the client put in the URL (?run=ID, or the S3 key ID.bin), what
# arrived: byte count, SHA-256, the Expect field that reached the handler
# (HTTP_EXPECT), EXPECT_OUTCOME and the protocol. The record is written
# before the answer, so a client that has its answer has its record.
#
# Answers JSON with the same fields; S3 requests (a path under /s3/) get what
# an S3 PutObject answers: 200, an ETag and no body.
use strict;
use warnings;
use Digest::SHA;
use Digest::MD5;

binmode STDIN;
binmode STDOUT;

my $sha = Digest::SHA->new(256);
my $md5 = Digest::MD5->new;
my $bytes = 0;
my $buf;
while (1) {
    my $n = read(STDIN, $buf, 262144);
    die "upload.cgi: reading the body: $!\n" unless defined $n;
    last unless $n;
    $bytes += $n;
    $sha->add($buf);
    $md5->add($buf);
}
my $sha256 = $sha->hexdigest;
my $md5hex = $md5->hexdigest;

my $path = $ENV{PATH_INFO} // '';
my $s3 = $path =~ m{^/s3/};
my $run;
if ($s3) {
    ($run) = $path =~ m{^/s3/([A-Za-z0-9_.-]+)\.bin$};
} else {
    ($run) = ($ENV{QUERY_STRING} // '') =~ m{(?:^|&)run=([A-Za-z0-9_.-]+)};
}

sub json_string {
    my ($v) = @_;
    return 'null' unless defined $v;
    $v =~ s/(["\\])/\\$1/g;
    $v =~ s/([\x00-\x1f\x7f-\xff])/sprintf('\\u%04x', ord($1))/ge;
    return qq("$v");
}

my $json = '{' . join(',', map { qq("$_->[0]":$_->[1]) } (
    [run            => json_string($run)],
    [method         => json_string($ENV{REQUEST_METHOD})],
    [protocol       => json_string($ENV{SERVER_PROTOCOL})],
    [https          => json_string($ENV{HTTPS})],
    [bytes          => $bytes],
    [sha256         => json_string($sha256)],
    [http_expect    => json_string($ENV{HTTP_EXPECT})],
    [expect_outcome => json_string($ENV{EXPECT_OUTCOME})],
)) . "}\n";

if (defined $run && defined $ENV{INTEROP_RECORDS}) {
    my $file = "$ENV{INTEROP_RECORDS}/$run.$$";
    open(my $fh, '>', "$file.tmp") or die "upload.cgi: $file.tmp: $!\n";
    print $fh $json;
    close($fh) or die "upload.cgi: $file.tmp: $!\n";
    rename("$file.tmp", "$file.json") or die "upload.cgi: $file.json: $!\n";
}

if ($s3) {
    print "Status: 200 OK\r\n";
    print "ETag: \"$md5hex\"\r\n";
    print "X-Upload-SHA256: $sha256\r\n";
    print "Content-Length: 0\r\n\r\n";
} else {
    print "Content-Type: application/json\r\n";
    print "X-Upload-Bytes: $bytes\r\n";
    print "X-Upload-SHA256: $sha256\r\n\r\n";
    print $json;
}
