#!/usr/bin/perl
# Upload echo: reads the whole request body and reports what arrived.
#
# Default output is JSON (keys sorted):
#   {"bytes":N, "content_length":..., "env":{...}, "expect":..., "md5":"...",
#    "method":"POST", "outcome":..., "protocol":"HTTP/1.1", "sha256":"...",
#    "remote_port":"N", "uri":"/cgi/echo.pl"}
# "expect" is HTTP_EXPECT (the Expect field the handler sees), "outcome" is
# EXPECT_OUTCOME; both are null when unset. "env" holds every HTTP_*,
# EXPECT_* and REDIRECT_* variable; "remote_port" (the client's TCP port)
# tells whether two requests came over the same connection.
#
# With the query string "text" the same facts come as "key: value" lines.

use strict;
use warnings;
use Digest::MD5 ();
use Digest::SHA ();
use JSON::PP ();

binmode STDIN;
binmode STDOUT;

my $md5 = Digest::MD5->new;
my $sha = Digest::SHA->new(256);
my $bytes = 0;
my $buf;
while (1) {
    my $n = sysread STDIN, $buf, 65536;
    die "echo.pl: read failed: $!\n" unless defined $n;
    last if $n == 0;
    $bytes += $n;
    $md5->add($buf);
    $sha->add($buf);
}

my %env = map { $_ => $ENV{$_} }
          grep { /^(?:HTTP_|EXPECT_|REDIRECT_)/ } keys %ENV;

my %report = (
    method         => $ENV{REQUEST_METHOD},
    protocol       => $ENV{SERVER_PROTOCOL},
    uri            => $ENV{REQUEST_URI},
    remote_port    => $ENV{REMOTE_PORT},
    content_length => $ENV{CONTENT_LENGTH},
    bytes          => $bytes,
    md5            => $md5->hexdigest,
    sha256         => $sha->hexdigest,
    expect         => $ENV{HTTP_EXPECT},
    outcome        => $ENV{EXPECT_OUTCOME},
    env            => \%env,
);

if (($ENV{QUERY_STRING} || '') eq 'text') {
    print "Content-Type: text/plain\r\n\r\n";
    for my $key (qw(method protocol uri content_length bytes md5 sha256
                    expect outcome remote_port)) {
        my $value = $report{$key};
        printf "%s: %s\n", $key, defined $value ? $value : '-';
    }
    exit 0;
}

print "Content-Type: application/json\r\n\r\n";
print JSON::PP->new->canonical->encode(\%report), "\n";
