# Wire::Rules: everything the wire fuzzer allows to differ between stock
# httpd and httpd with mod_expect, in one place.  Every difference between
# the two that these rules do not explain is a finding.
#
# The rules are written from SPEC.md, not from the module's source: an
# independent model of what the module must do with a request's Expect
# field (parse, judge, act), and the few transformations through which a
# stock server shows what the module's server must answer.
#
# How the comparison works (Wire::Case runs it):
#
#   S  stock, the stream as generated;
#   M  mod_expect, the same stream;
#   R  stock, the stream with every Expect header line renamed (the first
#      letter of its name: E to X, Z or Q, a name the stream does not
#      hold).  Same lengths, same lines, so httpd reads, folds, limits and
#      merges it exactly as it would read the Expect field; R's echo shows
#      the field value httpd assembled, and every other answer httpd gives
#      to the request without its Expect check;
#   K  stock, the stream with each request's Expect lines replaced by what
#      the model says the module passes on (rule "kept"), plus a plain
#      "Expect: 100-continue" where the model says the 100-continue
#      expectation is honoured under ExpectContinue Defer or was asked for
#      and not yet met (so that stock shows httpd's own 100 timing and its
#      own Connection: close for an unread body).
#
#   A stream without any Expect line: M must equal S (rule "noise" only).
#   Otherwise M must equal K, response by response, except where a rule
#   below says what M shows instead; M's X-Wire-In (the request as read)
#   must equal R's with the rename undone.
package Wire::Rules;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(config_for decide json_expected html_417 member_parse
                    rule_reason %RULES);

# The configurations of fuzz/wire/httpd.conf, as the module sees them.
# Keys: engine (1/0), cont (defer/immediate/reject), unknown
# (reject/ignore), allow (names as configured), format (json/problem/html),
# message.
my %BASE = (engine => 1, cont => 'defer', unknown => 'reject', allow => [],
            format => 'json',
            message => 'The server cannot meet the expectation specified in the Expect header.');
our %CONFIGS = (
    defer     => { %BASE },
    immediate => { %BASE, cont => 'immediate' },
    reject    => { %BASE, cont => 'reject' },
    allow     => { %BASE, allow => ['x-foo', 'X-Bar'] },
    ignore    => { %BASE, unknown => 'ignore' },
    off       => { %BASE, engine => 0 },
    mix       => { %BASE, allow => ['x-foo'] },
    unsafe    => { %BASE, allow => ['x-foo'] },
    tls       => { %BASE },
);
# <Location> sections of the mix configuration, in configuration order.
my @MIX = (
    ['/imm',  { cont => 'immediate' }],
    ['/rej',  { cont => 'reject', format => 'problem',
                message => 'Say "why" \\ here' }],
    ['/off',  { engine => 0 }],
    ['/ign',  { unknown => 'ignore', allow => [] }],
    ['/html', { format => 'html' }],
);
# LimitRequestBody by location, in every configuration.
my @LIMITS = (['/small', 64]);

# The path <Location> sections see: r->uri decoded, without dot segments,
# slashes merged.
sub normalize_path {
    my ($p) = @_;
    $p =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    $p =~ s{//+}{/}g;
    my @out;
    for my $seg (split m{/}, $p, -1) {
        if ($seg eq '.') { next }
        if ($seg eq '..') { pop @out if @out > 1; next }
        push @out, $seg;
    }
    my $n = join '/', @out;
    $n .= '/' if $p =~ m{/\.\.?$} && $n !~ m{/$};
    return $n eq '' ? '/' : $n;
}

# httpd's <Location "/x"> test: /x, /x/...
sub location_matches {
    my ($loc, $path) = @_;
    $path = normalize_path($path);
    return 0 unless substr($path, 0, length $loc) eq $loc;
    my $next = substr($path, length $loc, 1);
    return $next eq '' || $next eq '/' || substr($loc, -1) eq '/';
}

sub config_for {
    my ($config, $path) = @_;
    my %c = %{ $CONFIGS{$config} or die "wire: no configuration $config\n" };
    if ($config eq 'mix' && defined $path) {
        for my $l (@MIX) {
            %c = (%c, %{ $l->[1] }) if location_matches($l->[0], $path);
        }
    }
    $c{limit} = 0;
    for my $l (@LIMITS) {
        $c{limit} = $l->[1] if defined $path && location_matches($l->[0], $path);
    }
    return \%c;
}

# ---------------------------------------------------------------------
# The field (SPEC "Parsing"): Expect = #expectation,
# expectation = token [ "=" ( token / quoted-string ) parameters ]

my $TCHAR = qr/[!#\$%&'*+\-.^_`|~0-9A-Za-z]/;
my $TOKEN = qr/$TCHAR+/;
# qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text;
# quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
my $QSTR = qr/"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"/;
my $VALUE = qr/(?:$TOKEN|$QSTR)/;
my $PARAMS = qr/(?:[ \t]*;[ \t]*(?:$TOKEN=$VALUE)?)*/;

# Members of a field value, in received order:
# { text, name (the leading token, '' when malformed), kind
#   (continue|extension|malformed), dup (repeats an earlier member) }.
# A list element ends at a comma outside a quoted-string; an unbalanced
# quote runs to the end of the field.
sub member_parse {
    my ($v) = @_;
    my @m;
    my @chars = split //, $v;
    my ($cur, $q, $esc) = ('', 0, 0);
    my @elems;
    for my $c (@chars) {
        if ($q) {
            $cur .= $c;
            if ($esc) { $esc = 0 }
            elsif ($c eq '\\') { $esc = 1 }
            elsif ($c eq '"') { $q = 0 }
            next;
        }
        if ($c eq ',') { push @elems, $cur; $cur = ''; next }
        $q = 1 if $c eq '"';
        $cur .= $c;
    }
    push @elems, $cur;
    my %seen;
    for my $e (@elems) {
        $e =~ s/^[ \t]+//;
        $e =~ s/[ \t]+$//;
        next if $e eq '';
        my %x = (text => $e);
        if ($e =~ /^($TOKEN)\z/) {
            $x{name} = $1;
            $x{kind} = lc $1 eq '100-continue' ? 'continue' : 'extension';
        }
        elsif ($e =~ /^($TOKEN)=$VALUE$PARAMS\z/) {
            $x{name} = $1;
            $x{kind} = 'extension';
        }
        else {
            ($x{name}) = $e =~ /^($TOKEN)/;
            $x{name} //= '';
            $x{kind} = 'malformed';
        }
        # The same expectation: the name in any case, the rest exactly.
        my $key = lc($x{name}) . "\0" . substr($e, length $x{name});
        $x{dup} = $seen{$key}++ ? 1 : 0;
        push @m, \%x;
    }
    return \@m;
}

# ---------------------------------------------------------------------
# The decision (SPEC "Decision").
#
# decide(conf, field value, proto_num, has_body) -> {
#   engine => 0: stock rules; pass => 1 when the value is 100-continue,
#   else refused with httpd's own page;
#   engine => 1: unmet => [members], kept => 'a, b' or undef,
#   outcome, wants_100, may_wait, continued }
sub decide {
    my ($conf, $v, $proto_num, $has_body) = @_;
    my $members = member_parse($v);
    my $has_continue = grep { $_->{kind} eq 'continue' } @$members;
    my %d = (value => $v, members => $members, conf => $conf,
             wants_100 => ($has_continue && $has_body && $proto_num >= 1001) ? 1 : 0,
             may_wait => ($has_body && grep { lc(substr($_->{text}, 0, 12)) eq '100-continue' } @$members) ? 1 : 0);
    if (!$conf->{engine}) {
        $d{engine} = 0;
        $d{pass} = lc $v eq '100-continue' ? 1 : 0;
        return \%d;
    }
    $d{engine} = 1;
    my (@kept, @unmet, @ext);
    my $continued = 0;
    my %allow = map { lc($_) => 1 } @{ $conf->{allow} };
    for my $m (@$members) {
        next if $m->{dup};
        if ($m->{kind} eq 'continue') {
            next if $proto_num < 1001;          # HTTP/1.0: ignored
            if ($conf->{cont} eq 'reject') { push @unmet, $m; next }
            next unless $d{wants_100};          # no content: dropped
            $continued = 1;
            next if $conf->{cont} eq 'immediate';   # met at once
            push @kept, $m->{text};
        }
        elsif ($m->{kind} eq 'extension' && $allow{lc $m->{name}}) {
            push @kept, $m->{text};
            push @ext, $m->{text};
        }
        elsif ($conf->{unknown} eq 'reject') {
            push @unmet, $m;
        }
    }
    $d{unmet} = \@unmet;
    $d{kept} = @kept ? join(', ', @kept) : undef;
    $d{continued} = $continued;
    $d{outcome} = @unmet ? 'rejected'
                : $continued && $conf->{cont} eq 'immediate' ? 'immediate'
                : $continued ? 'continue'
                : @ext ? 'accepted' : 'ignored';
    # Whether the kept field holds the 100-continue member.
    $d{kept_continue} = ($continued && $conf->{cont} eq 'defer') ? 1 : 0;
    return \%d;
}

# ---------------------------------------------------------------------
# The 417 bodies (SPEC "The 417 response").

# What the JSON body holds, as Perl data: strings are byte strings (every
# \u00XX of the body decodes to the byte XX).
sub json_expected {
    my ($d) = @_;
    my $conf = $d->{conf};
    my $v = $d->{value};
    my $expect = length $v > 256 ? substr($v, 0, 256) . '...' : $v;
    my @unmet = map {
        $_->{kind} eq 'malformed'
            ? (length $_->{text} > 64 ? substr($_->{text}, 0, 64) . '...' : $_->{text})
            : $_->{name}
    } @{ $d->{unmet} };
    my @supported = (($conf->{cont} eq 'reject' ? () : ('100-continue')),
                     @{ $conf->{allow} });
    if ($conf->{format} eq 'problem') {
        return { keys => [qw(type title status detail expect unmet supported)],
                 type => 'about:blank', title => 'Expectation Failed',
                 status => 417, detail => $conf->{message}, expect => $expect,
                 unmet => \@unmet, supported => \@supported,
                 content_type => 'application/problem+json' };
    }
    return { keys => [qw(error status expect unmet supported)],
             error => $conf->{message}, status => 417, expect => $expect,
             unmet => \@unmet, supported => \@supported,
             content_type => 'application/json' };
}

sub escape_html {
    my ($s) = @_;
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    return $s;
}

# httpd's own 417 page for a field value.  Its first line, the DOCTYPE,
# is the one of the httpd under test (HTML 2.0 up to 2.4.62 at least,
# HTML 4.01 in 2.4.71): Wire::Servers reads it off stock's 404 page.
sub html_417 {
    my ($v, $doctype) = @_;
    return $doctype
         . "<html><head>\n<title>417 Expectation Failed</title>\n</head><body>\n"
         . "<h1>Expectation Failed</h1>\n"
         . "<p>The expectation given in the Expect request-header\n"
         . "field could not be met by this server.\n"
         . "The client sent<pre>\n    Expect: " . escape_html($v) . "\n</pre>\n"
         . "</p><p>Only the 100-continue expectation is supported.</p>\n"
         . "</body></html>\n";
}

# ---------------------------------------------------------------------
# The difference classes the rules explain, each with its reason (SPEC
# section in brackets).  Wire::Case counts every use; the report lists
# them.
our %RULES = (
    'noise-date' =>
        'Date differs between any two responses (not a difference of the module).',
    'rename-reference' =>
        'The reference runs R and K carry the Expect field under another name '
        . 'or a transformed value; the module shows it under the client\'s own '
        . 'spelling (harness artefact, compared back exactly).',
    'stock-417-before-hooks' =>
        'Stock answers every non-empty Expect value but exactly "100-continue" '
        . 'with an HTML 417 while reading the request and closes; the module '
        . 'parses the field as a list and judges it per directory [What it is, Parsing, Decision].',
    'module-417' =>
        'The module answers its own 417 (JSON, problem+json or the HTML page, '
        . 'per ExpectErrorFormat) for unmet members [Decision 2-3, The 417 response].',
    'module-417-keepalive' =>
        'A 417 to a request without 100-continue reads and discards the body and '
        . 'keeps the connection where stock closes [Connection safety].',
    'module-417-close' =>
        'A 417 to a request whose client may hold its body back (100-continue '
        . 'or a member that looks like it, with content), or whose declared '
        . 'body is over LimitRequestBody, closes the connection [Connection safety].',
    'kept-field' =>
        'The handler sees only the accepted members in the Expect field, or no '
        . 'field when none remain [Decision 4].',
    'outcome-env' =>
        'EXPECT_OUTCOME is set on requests with a non-empty Expect under '
        . 'ExpectEngine On [Observability].',
    'bodiless-continue-kept-alive' =>
        'A request without content that carried 100-continue keeps its '
        . 'connection (stock closes it) [Decision, Connection safety].',
    'http10-continue-ignored' =>
        'An HTTP/1.0 100-continue member is ignored (stock honours the exact '
        . 'value and then closes) [Decision 1].',
    'immediate-100' =>
        'ExpectContinue Immediate sends 100 Continue once access control has '
        . 'passed, before the handler runs [Directives: ExpectContinue].',
    'access-control-first' =>
        'An answer decided before the module acts (401, 403, a redirect) stays '
        . 'what it is where stock answered 417 before access control [Decision].',
    'engine-off-after-access' =>
        'ExpectEngine Off gives httpd\'s own 417 page, after access control and '
        . 'only in that scope, with its Content-Length and without reading the '
        . 'body (stock sends a long page chunked, and answers a failed read of '
        . 'the body with an error page of its own) [Directives: ExpectEngine, '
        . 'Decision].',
    'early-answer-closes' =>
        'An answer decided before the module acts, to a request that asked for '
        . '100-continue with content, closes the connection (the body was never '
        . 'sent) [Connection safety].',
    'h2-stream-only' =>
        'Over HTTP/2 a 417 ends its stream only; the connection goes on [README: HTTP/2].',
);

sub rule_reason { $RULES{ $_[0] } // '?' }

1;
