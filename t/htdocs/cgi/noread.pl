#!/usr/bin/perl
# Answers at once without reading the request body (httpd still passes the
# body to the script). JSON, keys sorted:
#   {"expect":..., "method":"POST", "outcome":..., "protocol":"HTTP/1.1"}

use strict;
use warnings;
use JSON::PP ();

my %report = (
    method   => $ENV{REQUEST_METHOD},
    protocol => $ENV{SERVER_PROTOCOL},
    expect   => $ENV{HTTP_EXPECT},
    outcome  => $ENV{EXPECT_OUTCOME},
);

print "Content-Type: application/json\r\n\r\n";
print JSON::PP->new->canonical->encode(\%report), "\n";
