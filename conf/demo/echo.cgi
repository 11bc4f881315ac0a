#!/usr/bin/perl
# mod_expect demo: upload echo handler.
#
# Reads the whole request body and answers with a JSON object that says how
# many bytes arrived, which Expect field reached the handler (HTTP_EXPECT) and
# what mod_expect decided (EXPECT_OUTCOME). Uses core Perl only.
use strict;
use warnings;

binmode STDIN;
binmode STDOUT;

my $bytes = 0;
my $buf;
while (1) {
    my $n = read(STDIN, $buf, 65536);
    last unless $n;
    $bytes += $n;
}

sub json_string {
    my ($v) = @_;
    return 'null' unless defined $v;
    $v =~ s/(["\\])/\\$1/g;
    $v =~ s/([\x00-\x1f\x7f-\xff])/sprintf('\\u%04x', ord($1))/ge;
    return qq("$v");
}

my @fields = (
    [method         => json_string($ENV{REQUEST_METHOD})],
    [uri            => json_string($ENV{REQUEST_URI})],
    [protocol       => json_string($ENV{SERVER_PROTOCOL})],
    [bytes          => $bytes],
    [http_expect    => json_string($ENV{HTTP_EXPECT})],
    [expect_outcome => json_string($ENV{EXPECT_OUTCOME})],
);

print "Content-Type: application/json\r\n\r\n";
print '{', join(',', map { qq("$_->[0]":$_->[1]) } @fields), "}\n";
