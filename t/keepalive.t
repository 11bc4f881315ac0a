# Many requests on one keep-alive connection, each with Expect lines and
# the client's own lines of the filter's private name (Expec~), in other
# spellings, orders and sizes every time, some with the client's lines
# only. What the filter notes about a header block must start afresh with
# each request: a new request record can sit at the address of the one
# before it.
#
# /proto/fields (t/probe/mod_fields.c) lists the fields as httpd parsed
# them (names as the client spelled them); the vhost accepts x-trace, so
# the handler sees the Expect field as received. Stock httpd answers each
# with its HTML 417 and closes after the first.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient;

my @spell = qw(Expect expect EXPECT eXpEcT ExPeCt);
my @theirs = qw(Expec~ expec~ EXPEC~);

my @cases;
for my $i (0 .. 39) {
    my $ours = $spell[$i % @spell];
    my $their = $theirs[$i % @theirs];
    my $pad = 'p' x (($i * 37) % 300);
    my @lines = ("$ours: x-trace", "X-Pad: $pad");
    # the client's line before, after, or around ours; or only the
    # client's lines (then the next request has both kinds)
    my $where = $i % 4;
    my @other = ("$their: v$i");
    @lines = $where == 0 ? (@other, @lines)
           : $where == 1 ? (@lines, @other)
           : $where == 2 ? ("$their: a$i", @lines, "$their: b$i")
           : ("X-Pad: $pad", @other);
    my %want = ($ours => 'x-trace', 'X-Pad' => $pad, Host => 'x');
    delete $want{$ours} if $where == 3;
    $want{$their} = $where == 2 ? "a$i, b$i" : "v$i";
    push @cases, { lines => \@lines, want => \%want };
}

plan tests => scalar @cases, need(need_module(qw(expect fields)));

my $c = ExpectClient->new('proto_allow');
my $n = 0;
for my $case (@cases) {
    $n++;
    $c->send(join("\r\n", "GET /proto/fields HTTP/1.1", 'Host: x',
                  @{ $case->{lines} }) . "\r\n\r\n");
    my ($r) = $c->final;
    my %got;
    if ($r && $r->code == 200) {
        for (split /\n/, $r->content) {
            $got{$1} = $2 if /^(.*?): \[(.*)\]$/;
        }
    }
    is_deeply(\%got, $case->{want},
              "request $n on the connection: 200, every field under the "
              . "name and with the value the client gave it")
        or diag(ExpectClient::escape(join "\r\n", @{ $case->{lines} }));
}
