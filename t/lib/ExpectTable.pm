package ExpectTable;

# The suite's one way to run a table of cases.
#
#   use ExpectTable;
#   defaults(vhost => 'cfg_main', body => "a body\n");
#   my @cases = (
#       { name  => 'ExpectUnknown Reject: an unknown member is refused',
#         req   => GET('/unknown-reject/static', 'x-unk'),
#         want  => { status => 417, outcome => 'rejected' } },
#       ...
#   );
#   plan tests => count_checks(@cases);
#   run_cases(@cases);
#
# A case is a hash:
#   name   what the case is
#   stock  what stock httpd (without the module) answers; for a request
#          built with GET/POST/HEAD it is worked out from the request when
#          the row does not say (stock_answer below). Shown with -v.
#   vhost  the Apache::Test virtual host (default: the one given to defaults)
#   tls    steps only: talk TLS to the host, trusting this CA file
#   how it is sent, one of
#     req    => { ExpectClient::request arguments }: a client's request on a
#               connection of its own (Connection: close)
#     steps  => [ ... ]: raw bytes and reads on one connection:
#               'bytes'        one write
#               ['a', 'b']     several writes, 0.1 s apart
#               READ           read the next response (interim or final)
#               READ_HEAD      the same, for the response to a HEAD request
#               FINAL          read responses up to the final one
#               (a read that gets nothing ends the steps)
#     run    => sub { ...; return \%record }: anything else
#   want   { check => expected, ... }: the assertions, in the order the
#          checks are defined (those that go on talking to the server last)
#   skip   a reason not to run the case against this httpd (undef: run
#          it); its assertions are reported as skipped, with the reason.
#          Only ExpectRelease decides such reasons: a release that leaves
#          the module no way to do what the case checks.
#
# Every check is one assertion, or a fixed number of them (json: three;
# closed, next, printable: two), or one per key of what it is given
# (json_fields, echo), or the checks of its own want hash (a scope: then,
# the response after this one), so count_checks() gives the plan from the
# table. A test file adds checks of its own with define() and scope().
#
# The record a case is checked against:
#   res       the final response (HTTP::Response; an empty one when none came)
#   interim   ['100', ...]: codes of the interim responses before it
#   body      req: everything after the final header block until the
#             server closed; steps: the final response's body
#   raw       every byte received
#   reads     steps: every response read, in order (undef: none came)
#   finals    steps: the final responses among them
#   conn      steps: the ExpectClient connection, still open
# (a run function returns a record of its own; the checks it uses say what
# they read).

use strict;
use warnings FATAL => 'all';

use Exporter qw(import);
use HTTP::Response ();
use Test::More ();
use ExpectClient qw(escape);
use ExpectJSON;

our @EXPORT = qw(GET POST HEAD READ READ_HEAD FINAL defaults
                 count_checks run_case run_cases define scope
                 json_417 problem_417);
our @EXPORT_OK = qw(failures exchange stock_answer);

use constant READ      => \'read';
use constant READ_HEAD => \'read the response to a HEAD';
use constant FINAL     => \'read up to the final response';

my %default;

# defaults(vhost => 'cfg_main', body => "bytes"): the virtual host of cases
# that name none, the body POST sends.
sub defaults {
    %default = (%default, @_);
    return;
}

# ---------------------------------------------------------------- requests

# GET($path, @expect_lines [, \%more]): a request for the table; every
# element of @expect_lines is one Expect header line. \%more sets or
# overrides request() arguments (proto, headers, body, vhost, nowait).
sub GET  { _request('GET', undef, @_) }
sub HEAD { _request('HEAD', undef, @_) }
# POST sends the default body (see defaults).
sub POST { _request('POST', $default{body} // '', @_) }

sub _request {
    my ($method, $body, $path, @lines) = @_;
    my $more = @lines && ref $lines[-1] eq 'HASH' ? pop @lines : {};
    my %req = (method => $method, path => $path, expect => \@lines);
    $req{body} = $body if defined $body;
    return { %req, %$more };
}

# What stock httpd 2.4 answers to a request (SPEC.md, "What it is";
# ap_check_request_header() in server/protocol.c): it knows one
# expectation, the field value 100-continue exactly (several Expect lines
# are merged with ", " first), and answers any other non-empty value with
# its HTML 417 before any module runs, access control included, closing
# the connection. It sends no 100 Continue to HTTP/1.0 clients, and closes
# the connection after a bodiless request that carried 100-continue.
sub stock_answer {
    my $req = shift;
    my $field = join ', ', map { s/^\s+|\s+$//gr } @{ $req->{expect} || [] };
    return 'no expectation to judge' if $field eq '';
    return 'HTML 417 before access control and the handler, connection closed'
        if lc $field ne '100-continue';
    return '100-continue ignored (HTTP/1.0)' if ($req->{proto} || '') eq 'HTTP/1.0';
    my $content = defined $req->{body} && length $req->{body};
    return $content ? '100 Continue when the handler reads the body'
                    : 'no body, no 100 Continue; the connection is closed after the response';
}

# ---------------------------------------------------------------- checks

my (@order, %check);

# define(name => sub { my ($want) = @_; return @assertions }, [late => 1])
# An assertion is { label => 'what it says', got => sub { my ($r) = @_; ... },
# want => value, cmp => 'is' | 'isnt' | 'like' | 'unlike' | 'is_deeply' |
# 'ok' | '>' , diag => sub { my ($r) = @_; ... } }; cmp defaults by the
# type of want (a qr// is matched, a reference compared deeply). Where what
# is expected depends on the record, want_of => sub { my ($r, $want) = @_ }
# gives it.
# A late check runs after every other check of the case: it may talk to
# the server again.
sub define {
    my ($name, $make, %opt) = @_;
    push @order, $name unless $check{$name};
    $check{$name} = { make => $make, late => $opt{late} };
    return;
}

# A check of one assertion: label (text, or sub of want), getter, and
# cmp or want_of as above.
sub one {
    my ($label, $got, %opt) = @_;
    return sub {
        my $want = shift;
        return { label => ref $label ? $label->($want) : $label,
                 got => $got, want => $want, %opt };
    };
}

# scope(name => 'label prefix', sub { my ($r) = @_; return $other_record }):
# a check whose value is a want hash of its own, checked against another
# record (a second response, the other protocol's answer, ...).
sub scope {
    my ($name, $prefix, $record_of, %opt) = @_;
    define($name => sub {
        my $inner = shift;
        for my $k (keys %$inner) { die "unknown check '$k' in $name\n" unless $check{$k} }
        my @inner = map { $check{$_}{make}->($inner->{$_}) } grep { exists $inner->{$_} } @order;
        return map { my $x = $_;
                     +{ %$x, label => "$prefix: $x->{label}",
                        got => sub { $x->{got}->($record_of->($_[0])) },
                        ($x->{want_of} ? (want_of => sub { $x->{want_of}->($record_of->($_[0]), $_[1]) })
                                       : ()) } } @inner;
    }, %opt);
    return;
}

sub cgi {
    my $r = shift;
    return $r->{cgi} ||= json_object($r->{body});
}

sub header { my ($r, $name) = @_; return scalar $r->{res}->header($name) }

define status      => one(sub { "status $_[0]" }, sub { $_[0]{res}->code });
define interim     => one('interim responses', sub { join ',', @{ $_[0]{interim} } });
# first => 100: the first response read (steps: before the body was sent)
define first       => one(sub { $_[0] == 100 ? '100 Continue before the body is sent'
                                             : "first response $_[0]" },
                          sub { $_[0]{reads} && $_[0]{reads}[0] && $_[0]{reads}[0]->code });
define first_head  => one('the first response\'s header block',
                          sub { $_[0]{reads} && $_[0]{reads}[0] ? $_[0]{reads}[0]{expect_raw_head} : '' });
define outcome     => one(sub { 'EXPECT_OUTCOME ' . ($_[0] // 'not set') },
                          sub { header($_[0], 'X-Outcome') });
define seen        => one('Expect field seen by the handler',
                          sub { header($_[0], 'X-Seen-Expect') });
# echo => { key => value }: what t/htdocs/cgi/echo.pl reports, key by key
my %echo_label = (
    bytes    => sub { 'every byte reached the handler' },
    md5      => sub { 'the body arrived intact' },
    sha256   => sub { 'the body arrived intact' },
    expect   => sub { 'the handler sees Expect: ' . ($_[0] // '(none)') },
    outcome  => sub { defined $_[0] ? "EXPECT_OUTCOME=$_[0]" : 'no EXPECT_OUTCOME' },
    protocol => sub { "handled as $_[0]" },
);
define echo => sub {
    my $want = shift;
    return map { my $k = $_;
                 +{ label => ($echo_label{$k} || sub { "echo.pl's $k" })->($want->{$k}),
                   want => $want->{$k}, got => sub { json_object($_[0]{body})->{$k} } } }
           sort keys %$want;
};
define cgi_expect  => one('HTTP_EXPECT seen by the CGI', sub { cgi($_[0])->{expect} });
define cgi_outcome => one('EXPECT_OUTCOME seen by the CGI', sub { cgi($_[0])->{outcome} });
define cgi_bytes   => one('body bytes the CGI read', sub { cgi($_[0])->{bytes} });
define cgi_env     => sub {
    my $want = shift;
    return { label => 'CGI environment', want => $want, cmp => 'is_deeply',
             got => sub { my $env = cgi($_[0])->{env} || {};
                          return { map { $_ => $env->{$_} } keys %$want } } };
};
define reason      => one('reason phrase', sub { $_[0]{res}->message });
define ctype       => one('Content-Type', sub { header($_[0], 'Content-Type') });
define body        => one('body', sub { $_[0]{body} });
define body_like   => one('body', sub { $_[0]{body} });
define connection  => one(sub { "Connection: $_[0]" },
                          sub { lc(header($_[0], 'Connection') // '') });
define connection_not => one(sub { "connection not marked $_[0]" },
                             sub { header($_[0], 'Connection') // '' },
                             cmp => 'unlike', want_of => sub { my $w = $_[1]; qr/\Q$w\E/i });
# three assertions: values, key order, status as a JSON number
define json => sub {
    my @pairs = @{ $_[0] };
    my %values = @pairs;
    my @keys = @pairs[ grep { !($_ % 2) } 0 .. $#pairs ];
    return ({ label => 'JSON body', want => \%values, cmp => 'is_deeply',
              got => sub { json_decode($_[0]{body}) },
              diag => sub { "body: $_[0]{body}" } },
            { label => 'JSON key order', want => \@keys, cmp => 'is_deeply',
              got => sub { json_top_keys($_[0]{body}) } },
            { label => 'status is the number 417', want => qr/"status"\s*:\s*417\s*[,}]/,
              got => sub { $_[0]{body} } });
};
# one assertion per key: the response's JSON document, key by key
define json_fields => sub {
    my $want = shift;
    return map { my $k = $_;
                 +{ label => "JSON $k", want => $want->{$k},
                   got => sub { json_object($_[0]{body})->{$k} } } } sort keys %$want;
};
define clen        => one('Content-Length matches the body',
                          sub { header($_[0], 'Content-Length') },
                          want_of => sub { length $_[0]{body} });
define ascii       => one('body is ASCII without raw control bytes', sub { $_[0]{body} },
                          want_of => sub { qr/\A[\t\n\r\x20-\x7f]*\z/ });
# the response's header block and body are printable ASCII (two assertions)
define printable   => sub {
    return ({ label => 'response header block is printable ASCII',
              want => qr/\A[\x20-\x7e\r\n]*\z/,
              got => sub { $_[0]{res}->code ? $_[0]{res}{expect_raw_head} : "\0" } },
            { label => 'response body is printable ASCII',
              want => qr/\A[\x20-\x7e\r\n\t]*\z/,
              got => sub { $_[0]{res}->code ? $_[0]{body} : "\0" } });
};
define status_line => one('status line', sub { $_[0]{raw} },
                          want_of => sub { my $l = $_[1]; qr/\A\Q$l\E\r\n/ });
define header      => sub {
    my ($name, $value) = @{ $_[0] };
    return { label => $name, want => $value, got => sub { header($_[0], $name) } };
};
define has_header  => sub {
    my $name = shift;
    return { label => "$name present", want => 1, cmp => 'ok',
             got => sub { defined header($_[0], $name) } };
};

# ---- the connection, after the response (late: they send and read more)

my $NEXT = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";

# then => { checks }: the final response after this one (read in the steps,
# or else now), checked like the first: a request pipelined behind it.
scope(then => 'next response', \&then_record, late => 1);

sub then_record {
    my $r = shift;
    return $r->{then} ||= do {
        my $i = $r->{final_index} + 1;
        my $finals = $r->{finals};
        if ($i > $#$finals) {
            my ($f) = $r->{conn}->final;
            push @$finals, $f;
        }
        my $res = $finals->[$i] || HTTP::Response->parse('');
        +{ %$r, res => $res, body => $res->content, interim => [],
           final_index => $i, then => undef, cgi => undef };
    };
}

# closed => 1: nothing more comes and the server closes the connection;
# closed => 'bytes': those bytes are sent first, and are never answered.
define closed => sub {
    my $send = shift;
    my $label = $send eq '1' ? 'nothing more is answered'
                             : 'bytes sent afterwards are not answered';
    return ({ label => $label, want => '',
              got => sub { my $c = $_[0]{conn};
                           $c->send($send) if $send ne '1';
                           escape($c->rest) } },
            { label => 'the server closed the connection', want => 1, cmp => 'ok',
              got => sub { $_[0]{conn}{eof} } });
}, late => 1;
# next_written: another request can be written on the connection;
# next: it is answered (GET /proto/index.txt: 200 "hello").
define next_written => sub {
    return { label => 'next request written', want => 1, cmp => 'ok',
             got => sub { $_[0]{next_sent} ||= $_[0]{conn}->send($NEXT) } };
}, late => 1;
define next => sub {
    return ({ label => 'next request on the same connection answered', want => 200,
              got => sub { my $r = shift;
                           $r->{next_sent} ||= $r->{conn}->send($NEXT);
                           ($r->{next}) = $r->{conn}->final;
                           $r->{next} && $r->{next}->code } },
            { label => '... with its own response', want => "hello\n",
              got => sub { $_[0]{next} && $_[0]{next}->content } });
}, late => 1;

# ---------------------------------------------------------------- running

sub assertions {
    my $case = shift;
    my $want = $case->{want} || {};
    for my $key (keys %$want) {
        die "unknown check '$key' in case '$case->{name}'\n" unless $check{$key};
    }
    my @keys = grep { exists $want->{$_} } @order;
    return map { $check{$_}{make}->($want->{$_}) }
           (grep { !$check{$_}{late} } @keys), (grep { $check{$_}{late} } @keys);
}

sub count_checks {
    my $n = 0;
    $n += scalar assertions($_) for @_;
    return $n;
}

# Send a case's request(s): the record its checks look at.
sub exchange {
    my $case = shift;
    my $vhost = $case->{vhost} // $default{vhost};
    return $case->{run}->($case) if $case->{run};
    return ExpectClient::request(vhost => $vhost, %{ $case->{req} }) if $case->{req};
    my $c = ExpectClient->new($vhost // 'default', undef,
                              $case->{tls} ? (tls => $case->{tls}) : ());
    my (@reads, @interim, @finals);
    for my $step (@{ $case->{steps} || die "case '$case->{name}' sends nothing\n" }) {
        if (ref $step eq 'ARRAY') {
            $c->send(@$step);
        }
        elsif (!ref $step) {
            $c->send($step);
        }
        else {
            my @got = $step == FINAL ? do { my ($f, @i) = $c->final; (@i, $f) }
                                     : ($c->response(head => $step == READ_HEAD));
            for my $r (@got) {
                push @reads, $r;
                next unless $r && $r->code;
                if ($r->code < 200) { push @interim, $r->code unless @finals }
                else                { push @finals, $r }
            }
            last unless $got[-1] && $got[-1]->code;
        }
    }
    my $res = $finals[0] || HTTP::Response->parse('');
    return { conn => $c, reads => \@reads, res => $res, interim => \@interim,
             body => $res->content, raw => $c->transcript,
             finals => @finals ? \@finals : [$res], final_index => 0 };
}

sub run_case {
    my $case = shift;
    my @all = assertions($case);
    if (defined $case->{skip}) {
        SKIP: { Test::More::skip("$case->{name}: $case->{skip}", scalar @all) }
        return;
    }
    my $stock = $case->{stock} // ($case->{req} && stock_answer($case->{req}));
    Test::More::note("$case->{name}" . (defined $stock ? " (stock httpd: $stock)" : ''));
    my $r = exchange($case);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $failed = 0;
    for my $t (@all) {
        my ($got, $want) = resolve($t, $r);
        my $name = "$case->{name}: $t->{label}";
        my $ok = emit($t->{cmp} // default_cmp($want), $got, $want, $name);
        Test::More::diag($t->{diag}->($r)) if !$ok && $t->{diag};
        $failed ||= !$ok;
    }
    if ($failed && $case->{steps}) {
        my $sent = join '', map { ref $_ eq 'ARRAY' ? @$_ : ref $_ ? () : $_ } @{ $case->{steps} };
        Test::More::diag('sent: ' . escape(substr $sent, 0, 400));
        Test::More::diag('got:  ' . escape(substr $r->{raw}, 0, 400));
    }
    $r->{conn}->close if $r->{conn};
    return $r;
}

sub run_cases {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    run_case($_) for @_;
    return;
}

# The assertions of a case that fail, without reporting them as tests:
# for a test that sums up many cases in one assertion.
sub failures {
    my $case = shift;
    return () if defined $case->{skip};
    my $r = exchange($case);
    my @bad;
    for my $t (assertions($case)) {
        my ($got, $want) = resolve($t, $r);
        next if compare($t->{cmp} // default_cmp($want), $got, $want);
        push @bad, "$case->{name}: $t->{label}: got " . show($got) . ', want ' . show($want);
    }
    $r->{conn}->close if $r->{conn};
    return @bad;
}

sub resolve {
    my ($t, $r) = @_;
    my $want = $t->{want_of} ? $t->{want_of}->($r, $t->{want}) : $t->{want};
    return ($t->{got}->($r), $want);
}

sub default_cmp {
    my $want = shift;
    return ref $want eq 'Regexp' ? 'like' : ref $want ? 'is_deeply' : 'is';
}

sub emit {
    my ($cmp, $got, $want, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is($got, $want, $name)        if $cmp eq 'is';
    return Test::More::isnt($got, $want, $name)      if $cmp eq 'isnt';
    return Test::More::like($got, $want, $name)      if $cmp eq 'like';
    return Test::More::unlike($got, $want, $name)    if $cmp eq 'unlike';
    return Test::More::is_deeply($got, $want, $name) if $cmp eq 'is_deeply';
    return Test::More::cmp_ok($got, '>', $want, $name) if $cmp eq '>';
    return Test::More::ok($got, $name)               if $cmp eq 'ok';
    die "unknown comparison $cmp\n";
}

sub compare {
    my ($cmp, $got, $want) = @_;
    return same($got, $want)                         if $cmp eq 'is';
    return !same($got, $want)                        if $cmp eq 'isnt';
    return defined $got && $got =~ $want             if $cmp eq 'like';
    return !defined $got || $got !~ $want            if $cmp eq 'unlike';
    return deep($got, $want)                         if $cmp eq 'is_deeply';
    return defined $got && $got > $want              if $cmp eq '>';
    return !!$got                                    if $cmp eq 'ok';
    die "unknown comparison $cmp\n";
}

sub same {
    my ($t, $u) = @_;
    return !defined $t && !defined $u || defined $t && defined $u && $t eq $u;
}

sub deep {
    my ($t, $u) = @_;
    return same($t, $u) unless ref $t && ref $u;
    return 0 unless ref $t eq ref $u;
    if (ref $t eq 'ARRAY') {
        return 0 unless @$t == @$u;
        deep($t->[$_], $u->[$_]) or return 0 for 0 .. $#$t;
        return 1;
    }
    if (ref $t eq 'HASH') {
        return 0 unless join("\0", sort keys %$t) eq join("\0", sort keys %$u);
        deep($t->{$_}, $u->{$_}) or return 0 for keys %$t;
        return 1;
    }
    return $t == $u;
}

sub show {
    my $v = shift;
    return 'undef' unless defined $v;
    return escape(substr $v, 0, 200) unless ref $v;
    return "$v" if ref $v eq 'Regexp';
    return json_text($v);
}

1;
