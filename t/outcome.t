# outcome.t — EXPECT_OUTCOME for each outcome and the Expect field that
# handlers and CGI (HTTP_EXPECT) see; the decision rules and their
# precedence (HTTP/1.0, requests without content). Host cfg_main in
# t/conf/extra.last.conf.in; echo is t/htdocs/cgi/echo.pl, X-Outcome and
# X-Seen-Expect come from mod_headers.

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

my $BODY = "outcome test body\n";
my $LEN  = length $BODY;

sub get  { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', path => $path, expect => \@lines } }
sub post { my ($path, @lines) = @_;
           return { vhost => 'cfg_main', method => 'POST', path => $path,
                    expect => \@lines, body => $BODY } }
sub http10 { my $req = shift; return { %$req, proto => 'HTTP/1.0' } }

my @cases = (
    ##
    ## each outcome
    ##
    { name => 'rejected: unknown member',
      req  => get('/default/static', 'x-unk'),
      want => { status => 417, outcome => 'rejected' } },
    { name => 'rejected: 100-continue under ExpectContinue Reject',
      req  => post('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected', interim => '' } },
    { name => 'immediate: 100 Continue before the handler',
      req  => post('/immediate/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'immediate',
                cgi_outcome => 'immediate', cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue: 100-continue honoured, deferred',
      req  => post('/defer/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                cgi_outcome => 'continue', cgi_expect => '100-continue',
                cgi_bytes => $LEN } },
    { name => 'accepted: only an allowed extension',
      req  => get('/allow-one/echo', 'x-foo'),
      want => { status => 200, outcome => 'accepted', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'ignored: every member dropped',
      req  => get('/unknown-ignore/echo', 'x-unk, x-other'),
      want => { status => 200, outcome => 'ignored', cgi_outcome => 'ignored',
                cgi_expect => undef } },

    ##
    ## not set
    ##
    { name => 'no Expect field: EXPECT_OUTCOME not set',
      req  => post('/defer/echo'),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'empty Expect field: EXPECT_OUTCOME not set',
      req  => post('/defer/echo', ''),
      want => { status => 200, outcome => undef, cgi_outcome => undef,
                cgi_bytes => $LEN } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set for 100-continue',
      req  => post('/engine-off/echo', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef,
                cgi_outcome => undef, cgi_expect => '100-continue' } },
    { name => 'ExpectEngine Off: EXPECT_OUTCOME not set on the 417',
      req  => get('/engine-off/static', 'x-unk'),
      want => { status => 417, outcome => undef } },

    ##
    ## strongest wins: rejected > immediate > continue > accepted > ignored
    ##
    { name => 'rejected beats continue and accepted',
      req  => post('/allow-one/static', '100-continue, x-foo, x-unk'),
      want => { status => 417, outcome => 'rejected', interim => '',
                json => json_417(expect => '100-continue, x-foo, x-unk',
                                 unmet => ['x-unk'],
                                 supported => ['100-continue', 'x-foo']) } },
    { name => 'immediate beats accepted',
      req  => post('/immediate-allow/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'immediate beats ignored',
      req  => post('/immediate-ignore/echo', 'x-unk, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'continue beats accepted',
      req  => post('/allow-one/echo', 'x-foo, 100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'x-foo, 100-continue', cgi_bytes => $LEN } },
    { name => 'continue beats ignored',
      req  => post('/unknown-ignore/echo', '100-continue, x-unk'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => 'accepted beats ignored',
      req  => get('/ignore-allow/echo', 'x-unk, x-foo'),
      want => { status => 200, cgi_outcome => 'accepted', cgi_expect => 'x-foo' } },

    ##
    ## decision rules
    ##
    { name => 'rule 2: 100-continue under Reject refused though the rest is allowed',
      req  => post('/reject-allow/static', '100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo', 'x-bar']) } },
    { name => 'rule 2 with ExpectUnknown Ignore: only 100-continue is unmet',
      req  => post('/reject-ignore/static', 'x-unk, 100-continue, x-foo'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue, x-foo',
                                 unmet => ['100-continue'],
                                 supported => ['x-foo']) } },
    { name => 'rules 2 and 3 together: both unmet, in received order',
      req  => post('/reject/static', 'x-unk, 100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk, 100-continue',
                                 unmet => ['x-unk', '100-continue'],
                                 supported => []) } },
    { name => 'rule 4: accepted members in received order and spelling',
      req  => post('/allow-two/echo', 'X-Bar, 100-Continue, x-FOO'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => 'X-Bar, 100-Continue, x-FOO', cgi_bytes => $LEN } },
    { name => 'rule 4: the field handlers see drops ignored members',
      req  => get('/ignore-allow/static', 'x-unk, x-foo, x-other'),
      want => { status => 200, outcome => 'accepted', seen => 'x-foo' } },
    { name => 'rule 4: the field is removed when nothing remains',
      req  => get('/unknown-ignore/static', 'x-unk'),
      want => { status => 200, outcome => 'ignored', seen => undef } },
    { name => 'rule 4: 100-continue stays in the field under Defer',
      req  => post('/defer/static', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                seen => '100-continue' } },

    ##
    ## rule 1: HTTP/1.0 ignores 100-continue
    ##
    { name => 'HTTP/1.0: 100-continue ignored, no 100 Continue',
      req  => http10(post('/defer/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored even under Reject',
      req  => http10(post('/reject/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: 100-continue ignored under Immediate',
      req  => http10(post('/immediate/echo', '100-continue')),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: allowed extension still accepted',
      req  => http10(post('/allow-one/echo', '100-continue, x-foo')),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo', cgi_bytes => $LEN } },
    { name => 'HTTP/1.0: unknown member still refused',
      req  => http10(get('/default/static', 'x-unk')),
      want => { status => 417, outcome => 'rejected' } },

    ##
    ## requests without content
    ##
    { name => 'no content: 100-continue dropped under Defer',
      req  => get('/defer/echo', '100-continue'),
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef } },
    { name => 'no content: no 100 Continue under Immediate',
      req  => get('/immediate/status', '100-continue'),
      want => { status => 200, interim => '', outcome => 'ignored' } },
    { name => 'Content-Length 0: 100-continue dropped',
      req  => { %{ post('/defer/echo', '100-continue') }, body => '' },
      want => { status => 200, interim => '', cgi_outcome => 'ignored',
                cgi_expect => undef, cgi_bytes => 0 } },
    { name => 'no content: still refused under Reject',
      req  => get('/reject/static', '100-continue'),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => '100-continue', unmet => ['100-continue'],
                                 supported => []) } },
    { name => 'no content: allowed extension kept, 100-continue dropped',
      req  => get('/allow-one/echo', '100-continue, x-foo'),
      want => { status => 200, interim => '', cgi_outcome => 'accepted',
                cgi_expect => 'x-foo' } },
    { name => 'chunked body is content: 100 Continue under Defer',
      req  => { vhost => 'cfg_main', method => 'POST', path => '/defer/echo',
                expect => ['100-continue'],
                headers => [['Transfer-Encoding' => 'chunked']],
                body => "5\r\nhello\r\n0\r\n\r\n" },
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => 5 } },

    ##
    ## EXPECT_OUTCOME where configuration can use it
    ##
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME accepted',
      req  => get('/observe/static', 'x-foo'),
      want => { status => 200, header => ['X-SetEnvIf' => 'accepted'] } },
    { name => 'per-directory SetEnvIf sees EXPECT_OUTCOME ignored',
      req  => get('/observe/static', 'x-unk'),
      want => { status => 200, header => ['X-SetEnvIf' => 'ignored'] } },
    { name => '<If> in the ErrorDocument target sees EXPECT_OUTCOME rejected',
      req  => get('/observe-reject/static', 'x-unk'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
    { name => '<If> in the ErrorDocument target sees rejected for a list',
      req  => get('/observe-reject/static', 'x-unk, 100-continue'),
      want => { status => 417, header => ['X-If' => 'rejected'] } },
);

# EXPECT_OUTCOME in a LogFormat: cfg_main logs "%{X-Cfg-Mark}i %{EXPECT_OUTCOME}e"
my $outcome_log = Apache::Test::vars('t_logs') . '/cfg_outcome_log';
my @logged = (
    [rejected  => get('/default/static', 'x-unk')],
    [immediate => post('/immediate/echo', '100-continue')],
    [continue  => post('/defer/echo', '100-continue')],
    [accepted  => get('/allow-one/static', 'x-foo')],
    [ignored   => get('/unknown-ignore/static', 'x-unk')],
    ['-'       => get('/default/static')],
);

plan tests => count_checks(@cases) + @logged;

run_case($_) for @cases;

my $serial = 0;
for my $item (@logged) {
    my ($want, $req) = @$item;
    my $mark = sprintf 'cfgmark-%d-%d', $$, ++$serial;
    send_request(%$req, headers => [['X-Cfg-Mark' => $mark]]);
    # the access log line is written when the request ends; wait for it
    my $got;
    for (1 .. 50) {
        if (open my $fh, '<', $outcome_log) {
            ($got) = map { /^\Q$mark\E (\S+)$/ ? $1 : () } <$fh>;
        }
        last if defined $got;
        select undef, undef, undef, 0.1;
    }
    is $got, $want, "LogFormat %{EXPECT_OUTCOME}e: $want";
}
