# json.t — the JSON and Problem bodies of the 417, decoded with JSON::PP and
# compared key by key, key order included; Content-Type, Content-Length,
# HEAD; the 256-byte cut of "expect" and the 64-byte cut of malformed
# "unmet" members; "supported" per scope; ExpectErrorMessage; hostile bytes
# in the field (host cfg_unsafe, HttpProtocolOptions Unsafe) giving valid,
# pure-ASCII JSON. Hosts in t/conf/extra.last.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

defaults(vhost => 'cfg_main');

sub cut256 { my $v = shift; return length $v > 256 ? substr($v, 0, 256) . '...' : $v }
sub cut64  { my $v = shift; return length $v > 64  ? substr($v, 0, 64)  . '...' : $v }

my $SUP = ['100-continue'];

# field values
my $long_name   = 'x-' . ('a' x 298);                 # 300 bytes, one token
my $exactly256  = 'x-' . ('b' x 254);                 # 256 bytes
my $just257     = 'x-' . ('c' x 255);                 # 257 bytes
# the 256th byte is a quote: cut first, then escape
my $quote_at_cut = 'x-' . ('d' x 253) . '"' . ('e' x 40);
# backslash as the 256th byte
my $bslash_at_cut = 'x-' . ('f' x 253) . '\\' . ('g' x 40);
my $malformed_long = 'x@' . ('h' x 100);
my $malformed_64   = 'x@' . ('i' x 62);
my $quotes   = 'x-q"uo\\te\\"';
my $controls = "x-c\x01\x02\x1b\x1f\x7fz";
my $high     = "x-\xc3\xa9t\xff\x80\xfe";
my $mixed    = "x-\x01\"\\\xe2\x80\xa8\x7f";
# a 4 KiB field of many hostile members (no quotes: member borders are the
# commas), padded to 4096 bytes with one plain name
my @many;
for (my $i = 0; ; $i++) {
    my $m = sprintf "x-%d\\\x01\x1f\xfe\xff", $i;
    last if length(join ', ', @many, $m) > 4000;
    push @many, $m;
}
my $pad = 'x-' . ('p' x (4096 - length(join ', ', @many) - 2 - 2));
my $four_k = join ', ', @many, $pad;
die "4 KiB field is " . length($four_k) . " bytes" unless length $four_k == 4096;

my @cases = (
    ##
    ## the two shapes
    ##
    { name => 'JSON body',
      req  => GET('/default/static', '100-continue, x-foo'),
      want => { status => 417, status_line => 'HTTP/1.1 417 Expectation Failed',
                ctype => 'application/json', clen => 1, ascii => 1,
                json => json_417(expect => '100-continue, x-foo', unmet => ['x-foo'],
                                 supported => $SUP) } },
    { name => 'Problem body',
      req  => GET('/format-problem/static', '100-continue, x-foo'),
      want => { status => 417, status_line => 'HTTP/1.1 417 Expectation Failed',
                ctype => 'application/problem+json', clen => 1, ascii => 1,
                json => problem_417(expect => '100-continue, x-foo', unmet => ['x-foo'],
                                    supported => $SUP) } },
    { name => 'HTML body has a matching Content-Length too',
      req  => GET('/format-html/static', 'x-foo'),
      want => { status => 417, clen => 1 } },
    { name => 'HEAD: JSON headers only',
      req  => HEAD('/default/static', 'x-foo'),
      want => { status => 417, ctype => 'application/json', body => '' } },
    { name => 'HEAD: Problem headers only',
      req  => HEAD('/format-problem/static', 'x-foo'),
      want => { status => 417, ctype => 'application/problem+json', body => '' } },

    ##
    ## expect: the received value, several lines joined, cut at 256 bytes
    ##
    { name => 'expect: several lines joined with ", "',
      req  => GET('/default/static', 'x-one', 'x-two, x-three'),
      want => { json => json_417(expect => 'x-one, x-two, x-three',
                                 unmet => ['x-one', 'x-two', 'x-three'],
                                 supported => $SUP) } },
    { name => 'expect: 300 bytes cut at 256 and "..." added; unmet name whole',
      req  => GET('/default/static', $long_name),
      want => { clen => 1,
                json => json_417(expect => substr($long_name, 0, 256) . '...',
                                 unmet => [$long_name], supported => $SUP) } },
    { name => 'expect: exactly 256 bytes is not cut',
      req  => GET('/default/static', $exactly256),
      want => { json => json_417(expect => $exactly256, unmet => [$exactly256],
                                 supported => $SUP) } },
    { name => 'expect: 257 bytes is cut',
      req  => GET('/default/static', $just257),
      want => { json => json_417(expect => substr($just257, 0, 256) . '...',
                                 unmet => [$just257], supported => $SUP) } },
    { name => 'expect: cut over two lines',
      req  => GET('/default/static', 'x-first', $long_name),
      want => { json => json_417(expect => cut256("x-first, $long_name"),
                                 unmet => ['x-first', $long_name], supported => $SUP) } },
    { name => 'expect: a quote as the last byte kept is escaped after the cut',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $quote_at_cut),
      want => { status => 417, ascii => 1,
                json => json_417(expect => substr($quote_at_cut, 0, 256) . '...',
                                 unmet => [cut64($quote_at_cut)], supported => $SUP) } },
    { name => 'expect: a backslash as the last byte kept is escaped after the cut',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $bslash_at_cut),
      want => { status => 417, ascii => 1,
                json => json_417(expect => substr($bslash_at_cut, 0, 256) . '...',
                                 unmet => [cut64($bslash_at_cut)], supported => $SUP) } },

    ##
    ## unmet: names only, malformed members as raw text cut at 64 bytes
    ##
    { name => 'unmet: the name only, not the value and parameters',
      req  => GET('/default/static', 'x-foo=bar;p=1, X-Baz="q"'),
      want => { json => json_417(expect => 'x-foo=bar;p=1, X-Baz="q"',
                                 unmet => ['x-foo', 'X-Baz'], supported => $SUP) } },
    { name => 'unmet: a malformed member of 102 bytes cut at 64',
      req  => GET('/default/static', $malformed_long),
      want => { json => json_417(expect => $malformed_long,
                                 unmet => [substr($malformed_long, 0, 64) . '...'],
                                 supported => $SUP) } },
    { name => 'unmet: a malformed member of exactly 64 bytes is not cut',
      req  => GET('/default/static', $malformed_64),
      want => { json => json_417(expect => $malformed_64, unmet => [$malformed_64],
                                 supported => $SUP) } },
    { name => 'unmet: only the members that caused the 417, in received order',
      req  => GET('/allow-two/static', 'x-z, x-foo, 100-continue, x-a, x-bar'),
      want => { json => json_417(expect => 'x-z, x-foo, 100-continue, x-a, x-bar',
                                 unmet => ['x-z', 'x-a'],
                                 supported => ['100-continue', 'x-foo', 'x-bar']) } },

    ##
    ## supported per scope
    ##
    { name => 'supported: nothing under ExpectContinue Reject without ExpectAllow',
      req  => GET('/reject/static', 'x-foo'),
      want => { json => json_417(expect => 'x-foo', unmet => ['x-foo'], supported => []) } },
    { name => 'supported: the ExpectAllow names under ExpectContinue Reject',
      req  => GET('/reject-allow/static', 'x-unk'),
      want => { json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['x-foo', 'x-bar']) } },
    { name => 'supported: 100-continue and the ExpectAllow names',
      req  => GET('/allow-two/static', 'x-unk'),
      want => { json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'supported: Problem body with ExpectAllow names',
      req  => GET('/problem-allow/static', 'x-unk'),
      want => { json => problem_417(expect => 'x-unk', unmet => ['x-unk'],
                                    supported => ['100-continue', 'x-foo', 'x-bar']) } },
    { name => 'supported: Problem body under ExpectContinue Reject',
      req  => GET('/problem-reject/static', 'x-unk'),
      want => { json => problem_417(expect => 'x-unk', unmet => ['x-unk'],
                                    supported => []) } },

    ##
    ## ExpectErrorMessage
    ##
    { name => 'custom message with quotes and a backslash',
      req  => GET('/message/static', 'x-unk'),
      want => { ascii => 1,
                json => json_417(error => 'Send the body without "Expect"; see C:\docs',
                                 expect => 'x-unk', unmet => ['x-unk'], supported => $SUP) } },
    { name => 'custom message in the Problem detail',
      req  => GET('/problem-message/static', 'x-unk'),
      want => { json => problem_417(detail => 'Problem text from cfg_main',
                                    expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $SUP) } },
    { name => 'custom message with UTF-8 bytes comes out as ASCII escapes',
      req  => GET('/message-utf8/static', 'x-unk'),
      want => { ascii => 1, body_like => qr/\\u00c3\\u00bc/i,
                json => json_417(error => "Erwartung nicht erf\xc3\xbcllt \xe2\x80\x93 bitte ohne Expect",
                                 expect => 'x-unk', unmet => ['x-unk'], supported => $SUP) } },

    ##
    ## hostile bytes (HttpProtocolOptions Unsafe lets them in)
    ##
    { name => 'hostile: quotes and backslashes',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $quotes),
      want => { status => 417, ctype => 'application/json', clen => 1, ascii => 1,
                body_like => qr/x-q\\"uo\\\\te\\\\\\"/,
                json => json_417(expect => $quotes, unmet => [$quotes], supported => $SUP) } },
    { name => 'hostile: control bytes and DEL',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $controls),
      want => { status => 417, clen => 1, ascii => 1, body_like => qr/\\u0001\\u0002\\u001b\\u001f/i,
                json => json_417(expect => $controls, unmet => [$controls], supported => $SUP) } },
    { name => 'hostile: bytes >= 0x80',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $high),
      want => { status => 417, clen => 1, ascii => 1, body_like => qr/\\u00c3\\u00a9t\\u00ff\\u0080\\u00fe/i,
                json => json_417(expect => $high, unmet => [$high], supported => $SUP) } },
    { name => 'hostile: everything in one member, Problem body',
      vhost => 'cfg_unsafe',
      req  => GET('/problem/static', $mixed),
      want => { status => 417, ctype => 'application/problem+json', clen => 1, ascii => 1,
                json => problem_417(expect => $mixed, unmet => [$mixed], supported => $SUP) } },
    { name => 'hostile: hostile bytes in a well-formed value',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', "x-v=\"\xff\\\"\xa0\""),
      want => { status => 417, ascii => 1,
                json => json_417(expect => "x-v=\"\xff\\\"\xa0\"", unmet => ['x-v'],
                                 supported => $SUP) } },
    { name => 'hostile: a 4 KiB field of hostile members',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', $four_k),
      want => { status => 417, clen => 1, ascii => 1,
                json => json_417(expect => cut256($four_k),
                                 unmet => [(map { cut64($_) } @many), $pad],
                                 supported => $SUP) } },
    { name => 'hostile: a 4 KiB single token',
      vhost => 'cfg_unsafe',
      req  => GET('/x/static', 'x-' . ('k' x 4094)),
      want => { status => 417, clen => 1, ascii => 1,
                json => json_417(expect => cut256('x-' . ('k' x 4094)),
                                 unmet => ['x-' . ('k' x 4094)], supported => $SUP) } },
);

plan tests => count_checks(@cases);

run_cases(@cases);
