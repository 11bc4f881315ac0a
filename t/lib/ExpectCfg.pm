# Request helpers shared by the configuration tests (directives.t, merge.t,
# parse.t, json.t, errordoc.t, outcome.t, access.t, log.t).
package ExpectCfg;

use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use Test::More;
use Apache::TestRequest ();
use HTTP::Response ();
use IO::Select ();
use JSON::PP ();

our @EXPORT = qw(send_request syswrite_all parse_response json_top_keys
                 json_decode cgi check_json count_checks run_case json_417
                 problem_417);

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


1;
