# merge.t — inheritance and replacement across nested <VirtualHost>,
# <Location>, <Directory>, <Files> and .htaccess: a nested scope inherits
# every directive it does not set; ExpectAllow replaces the inherited list;
# None clears it; unset is not default. Hosts cfg_merge (document tree
# t/htdocs/cfg/merge) and cfg_merge_b in t/conf/extra.last.conf.in.
#
# cfg_merge sets: ExpectContinue Reject, ExpectAllow x-outer,
#   ExpectUnknown Ignore, ExpectErrorFormat Problem,
#   ExpectErrorMessage "Outer message".
# cfg_merge_b sets: ExpectContinue Immediate, ExpectAllow x-b1 x-b2,
#   ExpectUnknown Reject, ExpectErrorFormat Problem,
#   ExpectErrorMessage "Message of cfg_merge_b".

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

my $BODY = "merge test body\n";
my $LEN  = length $BODY;
my $HTML_TYPE = 'text/html; charset=iso-8859-1';

sub get  { my ($vhost, $path, @lines) = @_;
           return { vhost => $vhost, path => $path, expect => \@lines } }
sub post { my ($vhost, $path, @lines) = @_;
           return { vhost => $vhost, method => 'POST', path => $path,
                    expect => \@lines, body => $BODY } }

my $OUTER = 'Outer message';
my $B     = 'Message of cfg_merge_b';
my $B_SUP = ['100-continue', 'x-b1', 'x-b2'];

# cfg_merge: 100-continue is refused (ExpectContinue Reject)
sub refused_100 {
    my ($name, $path, %json) = @_;
    return { name => "$name: 100-continue refused",
             req  => post(cfg_merge => $path, '100-continue'),
             want => { status => 417, interim => '', outcome => 'rejected',
                       json => ($json{format} || 'problem') eq 'json'
                           ? json_417(error => $json{message} || $OUTER,
                                      expect => '100-continue', unmet => ['100-continue'],
                                      supported => $json{supported})
                           : problem_417(detail => $json{message} || $OUTER,
                                         expect => '100-continue', unmet => ['100-continue'],
                                         supported => $json{supported}) } };
}
sub accepted {
    my ($name, $vhost, $path, $token) = @_;
    return { name => "$name: $token accepted",
             req  => get($vhost => $path, $token),
             want => { status => 200, outcome => 'accepted', seen => $token } };
}
sub ignored {
    my ($name, $vhost, $path, $token) = @_;
    return { name => "$name: $token ignored",
             req  => get($vhost => $path, $token),
             want => { status => 200, outcome => 'ignored', seen => undef } };
}

my @cases = (
    ##
    ## cfg_merge itself
    ##
    refused_100('host', '/ok.txt', supported => ['x-outer']),
    accepted('host', cfg_merge => '/ok.txt', 'x-outer'),
    ignored('host', cfg_merge => '/ok.txt', 'x-unk'),

    ##
    ## <Location> setting one directive
    ##
    refused_100('<Location> with only ExpectUnknown Reject',
                '/loc-unknown/ok.txt', supported => ['x-outer']),
    { name => '<Location> with only ExpectUnknown Reject: unknown member refused',
      req  => get(cfg_merge => '/loc-unknown/ok.txt', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $OUTER, expect => 'x-unk',
                                    unmet => ['x-unk'], supported => ['x-outer']) } },
    accepted('<Location> with only ExpectUnknown Reject', cfg_merge => '/loc-unknown/ok.txt', 'x-outer'),

    { name => '<Location> with only ExpectContinue Defer: 100-continue honoured',
      req  => post(cfg_merge => '/loc-continue/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                seen => '100-continue' } },
    accepted('<Location> with only ExpectContinue Defer', cfg_merge => '/loc-continue/ok.txt', 'x-outer'),
    ignored('<Location> with only ExpectContinue Defer', cfg_merge => '/loc-continue/ok.txt', 'x-unk'),

    ##
    ## <Directory>: ExpectAllow replaces, None clears
    ##
    accepted('<Directory> ExpectAllow x-inner', cfg_merge => '/dir-allow/ok.txt', 'x-inner'),
    ignored('<Directory> ExpectAllow x-inner replaces x-outer', cfg_merge => '/dir-allow/ok.txt', 'x-outer'),
    refused_100('<Directory> ExpectAllow x-inner', '/dir-allow/ok.txt', supported => ['x-inner']),
    ignored('<Directory> ExpectAllow None clears x-outer', cfg_merge => '/dir-none/ok.txt', 'x-outer'),
    refused_100('<Directory> ExpectAllow None', '/dir-none/ok.txt', supported => []),

    ##
    ## <Files>
    ##
    refused_100('<Files> with only ExpectErrorFormat JSON', '/files/json.txt',
                format => 'json', supported => ['x-outer']),
    accepted('<Files> with only ExpectErrorFormat JSON', cfg_merge => '/files/json.txt', 'x-outer'),
    ignored('<Files> with only ExpectErrorFormat JSON', cfg_merge => '/files/json.txt', 'x-unk'),
    refused_100('file outside the <Files> sections', '/files/ok.txt', supported => ['x-outer']),
    refused_100('<Files> with only ExpectEngine On', '/files/engine.txt', supported => ['x-outer']),
    accepted('<Files> with only ExpectEngine On', cfg_merge => '/files/engine.txt', 'x-outer'),

    ##
    ## .htaccess setting one directive
    ##
    refused_100('.htaccess with only ExpectErrorMessage', '/ht-message/ok.txt',
                message => 'Message of merge/ht-message/.htaccess', supported => ['x-outer']),
    accepted('.htaccess with only ExpectErrorMessage', cfg_merge => '/ht-message/ok.txt', 'x-outer'),
    ignored('.htaccess with only ExpectErrorMessage', cfg_merge => '/ht-message/ok.txt', 'x-unk'),
    refused_100('.htaccess with only ExpectEngine On', '/ht-engine/ok.txt', supported => ['x-outer']),
    ignored('.htaccess with only ExpectEngine On', cfg_merge => '/ht-engine/ok.txt', 'x-unk'),

    ##
    ## nested: <Directory nest> (ExpectAllow x-nest, <Files imm.txt>
    ## ExpectContinue Immediate), nest/sub/.htaccess (ExpectUnknown Reject),
    ## nest/sub/deeper/.htaccess (ExpectErrorFormat JSON),
    ## nest/clear/.htaccess (ExpectAllow None), <Location
    ## /nest/sub/loc.txt> (ExpectAllow x-loc)
    ##
    accepted('<Directory nest>', cfg_merge => '/nest/ok.txt', 'x-nest'),
    ignored('<Directory nest>', cfg_merge => '/nest/ok.txt', 'x-outer'),
    refused_100('<Directory nest>', '/nest/ok.txt', supported => ['x-nest']),

    accepted('nest/sub/.htaccess under <Directory nest>', cfg_merge => '/nest/sub/ok.txt', 'x-nest'),
    { name => 'nest/sub/.htaccess ExpectUnknown Reject: x-outer refused',
      req  => get(cfg_merge => '/nest/sub/ok.txt', 'x-outer'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-outer',
                                    unmet => ['x-outer'], supported => ['x-nest']) } },
    refused_100('nest/sub/.htaccess', '/nest/sub/ok.txt', supported => ['x-nest']),

    { name => '<Files imm.txt> in <Directory nest>: 100 Continue at once',
      req  => post(cfg_merge => '/nest/sub/imm.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'immediate', seen => undef } },
    { name => '<Files imm.txt> keeps the .htaccess and <Directory> settings',
      req  => get(cfg_merge => '/nest/sub/imm.txt', 'x-outer'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-outer', unmet => ['x-outer'],
                                    supported => ['100-continue', 'x-nest']) } },

    accepted('<Location> inside the nested tree', cfg_merge => '/nest/sub/loc.txt', 'x-loc'),
    { name => '<Location> ExpectAllow replaces the <Directory> list',
      req  => get(cfg_merge => '/nest/sub/loc.txt', 'x-nest'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-nest', unmet => ['x-nest'],
                                    supported => ['x-loc']) } },

    { name => 'nest/sub/deeper/.htaccess ExpectErrorFormat JSON keeps the rest',
      req  => get(cfg_merge => '/nest/sub/deeper/ok.txt', 'x-outer'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(error => $OUTER, expect => 'x-outer', unmet => ['x-outer'],
                                 supported => ['x-nest']) } },
    accepted('nest/sub/deeper/.htaccess', cfg_merge => '/nest/sub/deeper/ok.txt', 'x-nest'),

    ignored('nest/clear/.htaccess ExpectAllow None clears x-nest', cfg_merge => '/nest/clear/ok.txt', 'x-nest'),
    refused_100('nest/clear/.htaccess ExpectAllow None', '/nest/clear/ok.txt', supported => []),

    ##
    ## ExpectEngine Off is inherited too
    ##
    { name => '<Directory off>: httpd\'s HTML 417 for an unknown member',
      req  => get(cfg_merge => '/off/ok.txt', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => '<Directory off>: 100-continue honoured although the host says Reject',
      req  => post(cfg_merge => '/off/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef } },
    { name => 'off/inner/.htaccess without ExpectEngine: still off, x-foo refused by httpd',
      req  => get(cfg_merge => '/off/inner/ok.txt', 'x-foo'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'off/inner/.htaccess without ExpectEngine: still off, 100-continue honoured',
      req  => post(cfg_merge => '/off/inner/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef } },
    refused_100('off/on/.htaccess ExpectEngine On', '/off/on/ok.txt', supported => ['x-outer']),
    accepted('off/on/.htaccess ExpectEngine On', cfg_merge => '/off/on/ok.txt', 'x-outer'),

    ##
    ## cfg_merge_b: the other values, one directive per <Location>
    ##
    { name => 'host b: unknown member refused',
      req  => get(cfg_merge_b => '/base/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    { name => 'host b: 100 Continue at once',
      req  => post(cfg_merge_b => '/base/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },

    { name => '<Location> with only ExpectContinue Defer: deferred',
      req  => post(cfg_merge_b => '/only-continue/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => '<Location> with only ExpectContinue Defer: the rest kept',
      req  => get(cfg_merge_b => '/only-continue/static', 'x-unk'),
      want => { status => 417,
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    accepted('<Location> with only ExpectContinue Defer', cfg_merge_b => '/only-continue/static', 'x-b1'),

    { name => '<Location> with only ExpectAllow x-b3: x-b1 no longer allowed',
      req  => get(cfg_merge_b => '/only-allow/static', 'x-b1'),
      want => { status => 417,
                json => problem_417(detail => $B, expect => 'x-b1', unmet => ['x-b1'],
                                    supported => ['100-continue', 'x-b3']) } },
    accepted('<Location> with only ExpectAllow x-b3', cfg_merge_b => '/only-allow/static', 'x-b3'),
    { name => '<Location> with only ExpectAllow x-b3: still Immediate',
      req  => post(cfg_merge_b => '/only-allow/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },
    ignored('nested <Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-allow/deeper/static', 'x-b1'),
    accepted('nested <Location> keeps the outer <Location> list', cfg_merge_b => '/only-allow/deeper/static', 'x-b3'),

    ignored('<Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-unknown/static', 'x-unk'),
    accepted('<Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-unknown/static', 'x-b2'),
    { name => '<Location> with only ExpectUnknown Ignore: still Immediate',
      req  => post(cfg_merge_b => '/only-unknown/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectErrorFormat JSON: message and list kept',
      req  => get(cfg_merge_b => '/only-format/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(error => $B, expect => 'x-unk', unmet => ['x-unk'],
                                 supported => $B_SUP) } },
    { name => '<Location> with only ExpectErrorFormat JSON: still Immediate',
      req  => post(cfg_merge_b => '/only-format/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectErrorMessage: format and list kept',
      req  => get(cfg_merge_b => '/only-message/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => 'Inner message of cfg_merge_b', expect => 'x-unk',
                                    unmet => ['x-unk'], supported => $B_SUP) } },
    { name => '<Location> with only ExpectErrorMessage: still Immediate',
      req  => post(cfg_merge_b => '/only-message/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectEngine On: everything kept',
      req  => get(cfg_merge_b => '/only-engine/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    { name => '<Location> with only ExpectEngine On: still Immediate',
      req  => post(cfg_merge_b => '/only-engine/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },
    accepted('<Location> with only ExpectEngine On', cfg_merge_b => '/only-engine/static', 'x-b2'),
);

plan tests => count_checks(@cases);

run_case($_) for @cases;
