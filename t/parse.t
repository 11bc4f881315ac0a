# parse.t — each parsing rule of the Expect field (RFC 9110 §5.6, §10.1.1):
# case-insensitive names, empty list elements and OWS, several Expect lines,
# duplicates, 100-continue with a value, malformed members, quoted strings
# with commas, the empty field. Host cfg_main in t/conf/extra.last.conf.in;
# /allow-two allows x-foo and x-bar, /ignore-allow allows x-foo and ignores
# the rest, /default is all defaults.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Response ();
use IO::Select ();
use JSON::PP ();

## ---- request helper (the same in every cfg test file) ----
## Requests go over a raw socket so that the Expect lines are sent exactly as
## written, interim 1xx responses are seen, and a 100-continue request sends
## its body only after a 100 Continue (as a real client does).

# send_request(vhost => 'cfg_main', method => 'POST', path => '/x',
#              proto => 'HTTP/1.1', expect => ['a', 'b'] (one line each),
#              headers => [[Name => value], ...], body => 'bytes')
#              nowait => 1 (send the body at once even with 100-continue)
# returns { interim => ['100', ...], res => HTTP::Response, body => bytes,
#           raw => everything received }
sub send_request {
    my %a = @_;
    my $method = $a{method} || 'GET';
    my $proto  = $a{proto}  || 'HTTP/1.1';
    my $body   = $a{body};
    my @lines  = ("$method $a{path} $proto", 'Host: localhost');
    push @lines, "Expect: $_" for @{ $a{expect} || [] };
    push @lines, "$_->[0]: $_->[1]" for @{ $a{headers} || [] };
    my $framed = grep { lc($_->[0]) =~ /^(?:content-length|transfer-encoding)$/ }
                 @{ $a{headers} || [] };
    push @lines, 'Content-Length: ' . length $body if defined $body && !$framed;
    push @lines, 'Connection: close';
    my $head = join("\r\n", @lines) . "\r\n\r\n";

    # wait for 100 Continue before the body, like a client would
    my $wait = defined $body && length $body && $proto eq 'HTTP/1.1'
        && grep { /100-continue/i } @{ $a{expect} || [] };
    $wait = 0 if $a{nowait};

    my $sock = Apache::TestRequest::vhost_socket($a{vhost})
        or die "cannot connect to $a{vhost}: $!";
    binmode $sock;
    local $SIG{PIPE} = 'IGNORE';    # the server may close before the body is sent
    my $raw = '';
    local $SIG{ALRM} = sub { die "no complete answer from $a{vhost} $a{path}\n" };
    alarm 60;
    syswrite_all($sock, $head);
    if (defined $body && !$wait) {
        syswrite_all($sock, $body);
    }
    my $sent = !$wait;
    my $select = IO::Select->new($sock);
    while (1) {
        if (!$sent) {
            # send the body as soon as 100 Continue (or nothing at all
            # within a while) has come; not when a final answer came
            if ($raw =~ m{^HTTP/\d\.\d 100\b[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n}) {
                syswrite_all($sock, $body);
                $sent = 1;
            }
            elsif ($raw =~ m{^HTTP/\d\.\d [2-5]\d\d}) {
                $sent = 1;    # final answer: keep the body
            }
            elsif (!$select->can_read(3)) {
                syswrite_all($sock, $body);
                $sent = 1;
                next;
            }
        }
        my $n = sysread $sock, my $buf, 65536;
        last if !$n;
        $raw .= $buf;
    }
    alarm 0;
    close $sock;
    return parse_response($raw, $method);
}

sub syswrite_all {
    my ($sock, $data) = @_;
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite $sock, $data, length($data) - $off, $off;
        return unless defined $n;    # the server closed: fine for the test
        $off += $n;
    }
}

sub parse_response {
    my ($raw, $method) = @_;
    my $rest = $raw;
    my @interim;
    while ($rest =~ s{^HTTP/\d\.\d (1\d\d)[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n}{}) {
        push @interim, $1;
    }
    my ($head, $body) = split /\r\n\r\n/, $rest, 2;
    $body = '' unless defined $body;
    my $res = HTTP::Response->parse(defined $head ? "$head\r\n" : '');
    if (lc($res->header('Transfer-Encoding') || '') eq 'chunked') {
        my $plain = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            last if !$len;
            $plain .= substr $body, 0, $len, '';
            $body =~ s/^\r\n//;
        }
        $body = $plain;
    }
    $res->content($body);
    return { interim => \@interim, res => $res, body => $body, raw => $raw };
}

# the top-level keys of a JSON object, in the order the text has them
sub json_top_keys {
    my $s = shift;
    my ($depth, $i, @keys) = (0, 0);
    while ($i < length $s) {
        my $c = substr $s, $i, 1;
        if ($c eq '"') {
            my $j = $i + 1;
            while ($j < length $s) {
                my $d = substr $s, $j, 1;
                if ($d eq '\\') { $j += 2; next }
                last if $d eq '"';
                $j++;
            }
            my $str = substr $s, $i, $j - $i + 1;
            $i = $j + 1;
            if ($depth == 1 && substr($s, $i) =~ /^\s*:/) {
                push @keys, JSON::PP->new->allow_nonref->decode($str);
            }
            next;
        }
        $depth++ if $c eq '{' or $c eq '[';
        $depth-- if $c eq '}' or $c eq ']';
        $i++;
    }
    return \@keys;
}

# decode strictly: undef when the text is not valid JSON
sub json_decode {
    my $text = shift;
    my $v = eval { JSON::PP->new->decode($text) };
    return $v;
}

##
## Table-driven checks. A case is
##   { name => 'what it shows', req => { send_request args },
##     want => { check => expected, ... } }
## and every key of want is one assertion (json is three), so the plan is
## count_checks(@cases).
##

my %check = (
    status      => sub { is $_[0]{res}->code, $_[1], "$_[2]: status" },
    interim     => sub { is join(',', @{ $_[0]{interim} }), $_[1],
                            "$_[2]: interim responses" },
    outcome     => sub { is scalar $_[0]{res}->header('X-Outcome'), $_[1],
                            "$_[2]: EXPECT_OUTCOME" },
    seen        => sub { is scalar $_[0]{res}->header('X-Seen-Expect'), $_[1],
                            "$_[2]: Expect field seen by the handler" },
    cgi_expect  => sub { is cgi($_[0])->{expect}, $_[1],
                            "$_[2]: HTTP_EXPECT seen by the CGI" },
    cgi_outcome => sub { is cgi($_[0])->{outcome}, $_[1],
                            "$_[2]: EXPECT_OUTCOME seen by the CGI" },
    cgi_bytes   => sub { is cgi($_[0])->{bytes}, $_[1],
                            "$_[2]: body bytes the CGI read" },
    ctype       => sub { is scalar $_[0]{res}->header('Content-Type'), $_[1],
                            "$_[2]: Content-Type" },
    body        => sub { is $_[0]{body}, $_[1], "$_[2]: body" },
    body_like   => sub { like $_[0]{body}, $_[1], "$_[2]: body" },
    connection  => sub { is lc(scalar $_[0]{res}->header('Connection') || ''),
                            $_[1], "$_[2]: Connection" },
    json        => sub { check_json($_[0]{body}, $_[1], $_[2]) },
    clen        => sub { is scalar $_[0]{res}->header('Content-Length'),
                            length $_[0]{body}, "$_[2]: Content-Length matches the body" },
    ascii       => sub { like $_[0]{body}, qr/\A[\t\n\r\x20-\x7f]*\z/,
                            "$_[2]: body is ASCII without raw control bytes" },
    status_line => sub { like $_[0]{raw}, qr/\A\Q$_[1]\E\r\n/, "$_[2]: status line" },
    header      => sub { is scalar $_[0]{res}->header($_[1][0]), $_[1][1],
                            "$_[2]: $_[1][0]" },
    has_header  => sub { ok defined scalar $_[0]{res}->header($_[1]),
                            "$_[2]: $_[1] present" },
    cgi_env     => sub { my %got = map { $_ => cgi($_[0])->{env}{$_} } keys %{ $_[1] };
                         is_deeply \%got, $_[1], "$_[2]: CGI environment" },
);

sub cgi {
    my $r = shift;
    return $r->{cgi} ||= (json_decode($r->{body}) || {});
}

# three assertions: values, key order, status as a JSON number
sub check_json {
    my ($text, $pairs, $name) = @_;
    my @pairs = @$pairs;
    my %want = @pairs;
    my @order = @pairs[ grep { !($_ % 2) } 0 .. $#pairs ];
    my $got = json_decode($text);
    is_deeply $got, \%want, "$name: JSON body"
        or diag "body: $text";
    is_deeply json_top_keys($text), \@order, "$name: JSON key order";
    like $text, qr/"status"\s*:\s*417\s*[,}]/, "$name: status is the number 417";
}

sub count_checks {
    my $n = 0;
    for my $case (@_) {
        $n += $_ eq 'json' ? 3 : 1 for keys %{ $case->{want} };
    }
    return $n;
}

sub run_case {
    my $case = shift;
    my $r = send_request(%{ $case->{req} });
    for my $key (sort keys %{ $case->{want} }) {
        my $fn = $check{$key} or die "unknown check $key";
        $fn->($r, $case->{want}{$key}, $case->{name});
    }
    return $r;
}

# the expected 417 bodies, as ordered key/value lists
my $DEFAULT_MESSAGE =
    'The server cannot meet the expectation specified in the Expect header.';

sub json_417 {
    my %a = @_;
    return [error     => exists $a{error} ? $a{error} : $DEFAULT_MESSAGE,
            status    => 417,
            expect    => $a{expect},
            unmet     => $a{unmet},
            supported => $a{supported}];
}

sub problem_417 {
    my %a = @_;
    return [type      => 'about:blank',
            title     => 'Expectation Failed',
            status    => 417,
            detail    => exists $a{detail} ? $a{detail} : $DEFAULT_MESSAGE,
            expect    => $a{expect},
            unmet     => $a{unmet},
            supported => $a{supported}];
}

## ---- end of the request helper ----

my $BODY = "parse test body\n";
my $LEN  = length $BODY;

# one request; every element of @lines is one Expect header line
sub get  { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', path => $path, expect => \@lines } }
sub post { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', method => 'POST', path => $path,
                    expect => \@lines, body => $BODY } }

my $SUP     = ['100-continue'];
my $SUP_TWO = ['100-continue', 'x-foo', 'x-bar'];

my @cases = (
    ##
    ## names compare case-insensitively
    ##
    { name => 'X-FOO matches ExpectAllow x-foo, passed on as spelled',
      req  => get('/allow-two/echo', 'X-FOO'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'X-FOO' } },
    { name => 'x-Bar matches ExpectAllow x-bar',
      req  => get('/allow-two/echo', 'x-Bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-Bar' } },
    { name => '100-CONTINUE is the 100-continue expectation',
      req  => post('/default/echo', '100-CONTINUE'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-CONTINUE', cgi_bytes => $LEN } },
    { name => '100-Continue is refused under ExpectContinue Reject',
      req  => post('/reject/static', '100-Continue'),
      want => { status => 417,
                json => json_417(expect => '100-Continue', unmet => ['100-Continue'],
                                 supported => []) } },

    ##
    ## empty list elements and optional whitespace
    ##
    { name => 'empty elements and OWS around members are ignored',
      req  => get('/allow-two/echo', ", ,x-foo ,\t, x-bar,"),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'members without any whitespace',
      req  => get('/allow-two/echo', 'x-foo,x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'tabs as OWS',
      req  => get('/allow-two/echo', "x-foo\t,\tx-bar"),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'empty elements with 100-continue',
      req  => post('/default/echo', ',, 100-continue ,,'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'empty elements around an unknown member: only the member is unmet',
      req  => get('/default/static', ', x-unk ,'),
      want => { status => 417,
                json => json_417(expect => ', x-unk ,', unmet => ['x-unk'],
                                 supported => $SUP) } },
    { name => 'a list of empty elements only is no expectation to refuse',
      req  => get('/default/echo', ', ,'),
      want => { status => 200, cgi_expect => undef } },

    ##
    ## several Expect lines are one list
    ##
    { name => 'two Expect lines, both allowed',
      req  => get('/allow-two/echo', 'x-foo', 'x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'two Expect lines, the second unknown',
      req  => get('/allow-two/static', 'x-foo', 'x-unk'),
      want => { status => 417,
                json => json_417(expect => 'x-foo, x-unk', unmet => ['x-unk'],
                                 supported => $SUP_TWO) } },
    { name => 'three Expect lines with 100-continue in the middle',
      req  => post('/allow-two/echo', 'x-bar', '100-continue', 'x-foo'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'x-bar, 100-continue, x-foo', cgi_bytes => $LEN } },
    { name => 'two Expect lines, each a list',
      req  => get('/default/static', 'x-a, x-b', 'x-c'),
      want => { status => 417,
                json => json_417(expect => 'x-a, x-b, x-c', unmet => ['x-a', 'x-b', 'x-c'],
                                 supported => $SUP) } },

    ##
    ## duplicates count once
    ##
    { name => '100-continue twice in one line is one expectation',
      req  => post('/default/echo', '100-continue, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => '100-continue on two lines is one expectation',
      req  => post('/default/echo', '100-continue', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'an allowed extension twice is passed on once, first spelling',
      req  => get('/allow-two/echo', 'x-foo, X-Foo, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo, x-bar' } },
    { name => 'an unknown member twice is unmet once',
      req  => get('/default/static', 'x-unk, X-UNK'),
      want => { status => 417,
                json => json_417(expect => 'x-unk, X-UNK', unmet => ['x-unk'],
                                 supported => $SUP) } },

    ##
    ## 100-continue with a value or parameters is an unknown member
    ##
    { name => '100-continue=1 is unknown: refused under ExpectUnknown Reject',
      req  => get('/default/static', '100-continue=1'),
      want => { status => 417,
                json => json_417(expect => '100-continue=1', unmet => ['100-continue'],
                                 supported => $SUP) } },
    { name => '100-continue="x";a=b is unknown: refused',
      req  => get('/default/static', '100-continue="x";a=b'),
      want => { status => 417,
                json => json_417(expect => '100-continue="x";a=b',
                                 unmet => ['100-continue'], supported => $SUP) } },
    { name => '100-continue=1 is unknown: dropped under Ignore, no 100 Continue even under Immediate',
      req  => { %{ get('/immediate-ignore/status', '100-continue=1') }, body => $BODY, nowait => 1 },
      want => { status => 200, interim => '', outcome => 'ignored', seen => undef } },
    { name => '100-continue=1 under Ignore next to a real 100-continue',
      req  => post('/ignore-allow/echo', '100-continue=1, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },

    ##
    ## malformed members count as unknown
    ##
    { name => 'bad token character: unknown, raw text unmet',
      req  => get('/default/static', 'x@y'),
      want => { status => 417,
                json => json_417(expect => 'x@y', unmet => ['x@y'], supported => $SUP) } },
    { name => 'unbalanced quote on an allowed name: malformed, refused',
      req  => get('/allow-two/static', 'x-foo="open'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-foo="open', unmet => ['x-foo="open'],
                                 supported => $SUP_TWO) } },
    { name => 'value without a name: malformed, refused',
      req  => get('/default/static', '=x'),
      want => { status => 417,
                json => json_417(expect => '=x', unmet => ['=x'], supported => $SUP) } },
    { name => 'name with an empty value: malformed, refused',
      req  => get('/allow-two/static', 'x-foo='),
      want => { status => 417,
                json => json_417(expect => 'x-foo=', unmet => ['x-foo='],
                                 supported => $SUP_TWO) } },
    { name => 'two tokens without a comma: malformed, refused',
      req  => get('/allow-two/static', 'x-foo x-bar'),
      want => { status => 417,
                json => json_417(expect => 'x-foo x-bar', unmet => ['x-foo x-bar'],
                                 supported => $SUP_TWO) } },
    { name => 'malformed member dropped under Ignore, the rest accepted',
      req  => get('/ignore-allow/echo', 'x@y, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
    { name => 'malformed next to good members: only it is unmet',
      req  => get('/allow-two/static', 'x-foo, x/y, x-bar'),
      want => { status => 417,
                json => json_417(expect => 'x-foo, x/y, x-bar', unmet => ['x/y'],
                                 supported => $SUP_TWO) } },

    ##
    ## quoted-string values with commas inside
    ##
    { name => 'quoted value with a comma is one member, passed on whole',
      req  => get('/allow-two/echo', 'x-foo="a,b", x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo="a,b", x-bar' } },
    { name => 'quoted value with a comma and an escaped quote is one member',
      req  => get('/allow-two/echo', 'x-foo="a\",b";p=1, x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo="a\",b";p=1, x-bar' } },
    { name => 'quoted comma in an unknown member: one unmet name',
      req  => get('/allow-two/static', 'x-unk="1,2,3", x-foo'),
      want => { status => 417,
                json => json_417(expect => 'x-unk="1,2,3", x-foo', unmet => ['x-unk'],
                                 supported => $SUP_TWO) } },
    { name => 'quoted comma in a parameter value',
      req  => get('/allow-two/echo', 'x-foo=tok;p="x,y", x-bar'),
      want => { status => 200, cgi_outcome => 'accepted',
                cgi_expect => 'x-foo=tok;p="x,y", x-bar' } },
    { name => 'token value and parameters on an allowed name',
      req  => get('/allow-two/echo', 'x-foo=1;a=b'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo=1;a=b' } },

    ##
    ## the empty field is no expectation
    ##
    { name => 'empty Expect field: no expectation',
      req  => get('/default/echo', ''),
      want => { status => 200, cgi_outcome => undef, cgi_expect => undef } },
    { name => 'empty Expect field under ExpectContinue Reject: served',
      req  => { %{ post('/reject/echo', '') } },
      want => { status => 200, cgi_outcome => undef, cgi_bytes => $LEN } },
    { name => 'whitespace-only Expect field: no expectation',
      req  => get('/default/echo', "   \t "),
      want => { status => 200, cgi_outcome => undef, cgi_expect => undef } },
    { name => 'an empty Expect line next to a real one',
      req  => get('/allow-two/echo', '', 'x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },
);

plan tests => count_checks(@cases);

run_case($_) for @cases;
