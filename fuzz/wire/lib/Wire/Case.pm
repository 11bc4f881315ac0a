# Wire::Case: one case of the wire fuzzer -- a configuration, a transport
# and a request stream -- sent to stock httpd and to httpd with mod_expect,
# and the verdict: the differences the rules (Wire::Rules) explain, and
# those they do not (findings).
#
# A case:
#   { config => name in @Wire::Servers::CONFIGS,
#     transport => 'h1' (cleartext HTTP/1.x, also tls when config is tls)
#                | 'h2' (h2c by prior knowledge, or h2 when config is tls),
#     requests => [ bytes, ... ]  (h1: each request; pipelined in order),
#     splits => [ offsets ]       (h1: where the stream is cut into writes),
#     h2 => { method, paths, headers, body, no_cl, trailers } (h2) }
# Every request's target carries "w=<n>", its number in the stream, which
# the echo shows back; a probe request follows the stream (h1) to see
# whether the connection is still in step.
package Wire::Case;

use strict;
use warnings;

use Digest::MD5 qw(md5_hex);
use JSON::PP ();

use Wire::Client;
use Wire::H2;
use Wire::Http qw(parse_responses parse_wire_in parse_echo header esc);
use Wire::Rules qw(config_for decide json_expected html_417);

our $PROBE = "GET /static/index.txt?w=probe HTTP/1.1\r\nHost: probe\r\n\r\n";
my @RENAME = (['X', 'x'], ['Z', 'z'], ['Q', 'q']);

sub new {
    my ($class, %o) = @_;
    return bless { servers => $o{servers}, stats => $o{stats} // {}, debug => $o{debug},
                   pause => $o{pause} // 0.002 }, $class;
}

sub count { $_[0]{stats}{ $_[1] } += $_[2] // 1 }

# ---------------------------------------------------------------------
# HTTP/1.x streams

# The Expect lines of one request's header block: [start, end) of each
# field (its line and its obs-fold continuation lines).
sub expect_groups {
    my ($req) = @_;
    my @g;
    my $pos = 0;
    my $len = length $req;
    # httpd skips empty lines before the request line.
    while ($pos < $len && substr($req, $pos) =~ /^(\r?\n)/) { $pos += length $1 }
    my $eol = index($req, "\n", $pos);
    return () if $eol < 0;
    my $rl = substr($req, $pos, $eol - $pos);
    # HTTP/0.9: no protocol, no header block.
    return () unless $rl =~ /\s\S+\s+\S/;
    $pos = $eol + 1;
    my $cur;
    while ($pos < $len) {
        $eol = index($req, "\n", $pos);
        my $end = $eol < 0 ? $len : $eol + 1;
        my $line = substr($req, $pos, $end - $pos);
        last if $line eq "\n" || $line eq "\r\n";
        if ($line =~ /^[ \t]/) {
            $cur->[1] = $end if $cur;
        }
        else {
            undef $cur;
            if ($line =~ /^expect:/i) {
                $cur = [$pos, $end];
                push @g, $cur;
            }
        }
        $pos = $end;
    }
    return @g;
}

sub rename_choice {
    my ($all) = @_;
    for my $r (@RENAME) {
        return $r unless $all =~ /$r->[1]xpect/i;
    }
    return $RENAME[0];
}

sub renamed_name {
    my ($name, $rn) = @_;
    my $c = substr($name, 0, 1);
    return ($c eq 'E' ? $rn->[0] : $rn->[1]) . substr($name, 1);
}

sub unrename {
    my ($name, $rn) = @_;
    my $c = substr($name, 0, 1);
    return $name unless $c eq $rn->[0] || $c eq $rn->[1];
    return ($c eq $rn->[0] ? 'E' : 'e') . substr($name, 1);
}

sub h1_stream { join('', @{ $_[0] }) . $PROBE }

sub exchange {
    my ($self, $case, $who, $requests) = @_;
    my $port = $self->{servers}->port($who, $case->{config});
    my $data = h1_stream($requests);
    $self->count('connections');
    my $r = Wire::Client::exchange(port => $port, data => $data,
                                   splits => $case->{splits},
                                   tls => $case->{config} eq 'tls',
                                   pause => $self->{pause});
    my ($resps, $junk) = parse_responses($r->{data});
    if ($self->{debug}) {
        print STDERR "---- $who ($case->{config}) sent: ", esc($data), "\n---- got: ", esc($r->{data}), "\n";
    }
    for my $x (@$resps) {
        $x->{in} = parse_wire_in(header($x, 'X-Wire-In'));
        $x->{marker} = $x->{in} && $x->{in}{uri} =~ /[?&]w=(\w+)/ ? $1 : undef;
        $x->{stage} = header($x, 'X-Wire-Stage') // '';
        $x->{echo} = parse_echo($x->{body});
    }
    return { responses => $resps, junk => $junk, eof => $r->{eof},
             timeout => $r->{timeout}, connect_error => $r->{connect_error},
             overflow => $r->{overflow} };
}

# ---------------------------------------------------------------------
# The comparison

sub sorted_fields {
    my ($f) = @_;
    my $i = 0;
    return [ map { $_->[1] } sort { $a->[0] cmp $b->[0] || $a->[2] <=> $b->[2] }
             map { [lc $_->[0], "$_->[0]: $_->[1]", $i++] } @$f ];
}

sub fields_text { join("\n", @{ sorted_fields($_[0]) }) }

sub has_body_fields {
    my ($fields) = @_;
    my ($te) = grep { lc $_->[0] eq 'transfer-encoding' } @$fields;
    return 1 if $te;
    my ($cl) = grep { lc $_->[0] eq 'content-length' } @$fields;
    return $cl && $cl->[1] =~ /^\d+$/ && $cl->[1] =~ /[1-9]/ ? 1 : 0;
}

# httpd's ap_find_token(): the tokens of a field value, split at
# separators and white space, are compared with tok over their own length
# (so "keep-a" finds "keep-alive": stock's rule, kept as it is).
sub find_token {
    my ($line, $tok) = @_;
    return 0 unless defined $line;
    # (Bytes from 0x80 up separate tokens too, as httpd's table has it.)
    for my $t (split /[\x00-\x20\x7f-\xff()<>\@,;:\\"\/\[\]?={}]+/, $line) {
        next if $t eq '';
        return 1 if length $t <= length $tok && lc $t eq lc substr($tok, 0, length $t);
    }
    return 0;
}

# Whether httpd closes after answering this request, whatever the answer
# (ap_set_keepalive()'s tests on the request).
sub client_close {
    my ($in) = @_;
    my ($c) = map { $_->[1] } grep { lc $_->[0] eq 'connection' } @{ $in->{fields} };
    return 1 if find_token($c, 'close');
    return 1 if $in->{proto_num} < 1001 && !find_token($c, 'keep-alive');
    return 0;
}

# A response reduced to what is compared: the status line, the header
# fields but Date (and Content-Length of an echo, which is checked against
# the body), the interim responses, the body (an echo in its parsed form).
sub canon {
    my ($r, %o) = @_;
    my @h = grep { lc $_->[0] ne 'date' } @{ $r->{headers} };
    # httpd lists the Allow methods in the order of a hash table of its
    # own, which differs between any two server processes: a set.
    @h = map { lc $_->[0] eq 'allow' ? [$_->[0], join(',', sort split /\s*,\s*/, $_->[1])] : $_ } @h;
    @h = grep { lc $_->[0] ne 'x-wire-in' } @h if $o{no_in};
    @h = grep { lc $_->[0] ne 'x-wire-stage' } @h if $o{no_stage};
    my @cl;
    if ($o{head_echo} && header($r, 'X-Wire-Head') && ($r->{stage} // '') eq 'handler') {
        # The length of an echo that a HEAD answer does not carry: the
        # echo differs as the rules say.
        @h = grep { lc $_->[0] ne 'content-length' } @h;
    }
    if ($r->{echo}) {
        my $cl = header($r, 'Content-Length');
        @cl = ('echo length ' . (!defined $cl ? 'unsent' : $cl == length $r->{body} ? 'ok' : 'wrong'));
        @h = grep { lc $_->[0] ne 'content-length' } @h;
    }
    if ($o{port}) {
        for (@h) { $_ = [$_->[0], $_->[1] =~ s/127\.0\.0\.1:\d+/127.0.0.1:PORT/gr] }
    }
    my $body = $r->{echo} ? echo_text($r->{echo}, %o) : $r->{body};
    return join("\n", "line $r->{line}",
                map({ "interim $_->{line}" } @{ $r->{interim} // [] }),
                map({ "h $_" } @{ sorted_fields(\@h) }),
                $r->{short} ? 'body cut short' : (), @cl,
                'body ' . esc($body // ''));
}

sub echo_text {
    my ($e, %o) = @_;
    my @h = @{ $e->{headers} };
    if ($o{port}) {
        @h = map { [$_->[0], $_->[1] =~ s/127\.0\.0\.1:\d+/127.0.0.1:PORT/gr] } @h;
    }
    my $body = $e->{body} // '';
    my @b = $o{bodyn} && defined $e->{bodyn}
          ? ('bodyn ' . ($body =~ /^(\d+)/)[0] . " $e->{bodyn}")
          : ("body $body", defined $e->{bodyn} ? "bodyn $e->{bodyn}" : ());
    return join("\n", 'echo',
                map({ "$_ $e->{$_}" } qw(method uri path protocol proto_num
                                          assbackwards expecting_100 outcome)),
                map({ "h $_" } @{ sorted_fields(\@h) }),
                @b,
                map({ "t $_" } @{ sorted_fields($e->{trailers}) }));
}

sub diff_text {
    my ($want, $got) = @_;
    my @w = split /\n/, $want, -1;
    my @g = split /\n/, $got, -1;
    my @out;
    my %g = map { $_ => 1 } @g;
    my %w = map { $_ => 1 } @w;
    push @out, map { "  - $_" } grep { !$g{$_} } @w;
    push @out, map { "  + $_" } grep { !$w{$_} } @g;
    @out = map { length > 400 ? substr($_, 0, 400) . '...' : $_ } @out;
    return join("\n", @out[0 .. ($#out > 30 ? 30 : $#out)]);
}

# X-Wire-In of M against R's (the Expect field renamed back).
sub in_text {
    my ($in, $rn, %o) = @_;
    my @f = map { [$rn && lc(unrename($_->[0], $rn)) eq 'expect' ? unrename($_->[0], $rn) : $_->[0], $_->[1]] }
            @{ $in->{fields} };
    if ($o{port}) {
        @f = map { [$_->[0], $_->[1] =~ s/127\.0\.0\.1:\d+/127.0.0.1:PORT/gr] } @f;
    }
    return join("\n", map({ "$_ $in->{$_}" } qw(method uri path protocol proto_num assbackwards)),
                map({ "f $_" } @{ sorted_fields(\@f) }));
}

# Whether a response answered the request before the module acts: before
# fixups (X-Wire-Stage prr), except for the answers httpd gives to TRACE
# and OPTIONS * in map_to_storage, where the module judges them first
# (SPEC: requests that never reach the usual hooks are judged).
sub answered_early {
    my ($x, $in, $tls) = @_;
    return 0 unless ($x->{stage} // '') eq 'prr';
    return 1 unless $in;
    # mod_ssl answers 400 in post_read_request when the client named a
    # host by SNI and the request names none.
    return 1 if $tls && $x->{status} == 400 && !grep { lc $_->[0] eq 'host' } @{ $in->{fields} };
    my $ct = header($x, 'Content-Type') // '';
    if ($in->{method} eq 'TRACE') {
        # ap_send_http_trace()'s answers: the trace, 413 for a body, 501
        # for a transfer coding it cannot take, 405 when disabled.
        return 0 if $x->{status} == 200 && $ct =~ m{^message/http};
        return 0 if $x->{status} == 405;
        return 0 if ($x->{status} == 413 || $x->{status} == 501) && has_body_fields($in->{fields});
    }
    if ($in->{method} eq 'OPTIONS' && $in->{path} eq '*') {
        # Its answer, or the 400/413 of discarding a body it cannot read
        # (a 400 to a request without one comes from earlier: mod_ssl).
        return 0 if $x->{status} == 200;
        return 0 if ($x->{status} == 400 || $x->{status} == 413) && has_body_fields($in->{fields});
    }
    return 1;
}

# The decision for one request as R read it: undef when it carried no
# Expect field (or an empty one).
sub decision_for {
    my ($self, $case, $rin, $rn) = @_;
    my @ex = grep { lc(unrename($_->[0], $rn)) eq 'expect' && lc $_->[0] ne 'expect' } @{ $rin->{fields} };
    return undef unless @ex;
    my $v = $ex[0][1];
    return { empty => 1, name => unrename($ex[0][0], $rn) } if $v eq '';
    my $conf = config_for($case->{config}, $rin->{path});
    my $d = decide($conf, $v, $rin->{proto_num}, has_body_fields($rin->{fields}));
    $d->{name} = unrename($ex[0][0], $rn);
    $d->{renamed} = $ex[0][0];
    my ($cl) = map { $_->[1] } grep { lc $_->[0] eq 'content-length' } @{ $rin->{fields} };
    $d->{over_limit} = $conf->{limit} && defined $cl && $cl =~ /^\d+$/ && $cl > $conf->{limit} ? 1 : 0;
    $d->{client_close} = client_close($rin);
    # What stock does with the same value (SPEC: "Stock httpd 2.4 ...").
    $d->{stock_passes} = lc $v eq '100-continue' ? 1 : 0;
    return $d;
}

# The K stream: each request's Expect lines replaced as the decision says.
sub k_requests {
    my ($self, $orig, $renamed, $dec, $rn) = @_;
    my @k;
    for my $i (0 .. $#$orig) {
        my $req = $orig->[$i];
        my @g = expect_groups($req);
        my $d = $dec->{$i};
        if (!@g) { push @k, $req; next }
        if (!$d) { push @k, $renamed->[$i]; next }     # not read by httpd
        $d->{in_k} = 1;
        if ($d->{empty} || ($d->{engine} == 0 && $d->{pass})) {
            push @k, $req;
            next;
        }
        my $eol = substr($req, $g[0][1] - 2, 2) eq "\r\n" ? "\r\n" : "\n";
        my $new = '';
        if ($d->{engine} && !@{ $d->{unmet} }) {
            my $cont = $d->{kept_continue} || ($d->{early} && $d->{wants_100});
            if ($cont && defined $d->{kept} && @g == 1) {
                # Two lines for one: K has a field more than the request,
                # which matters at LimitRequestFields.
                $d->{k_extra_field} = 1;
            }
            # The 100-continue state M has before the module acts: honoured
            # (Defer), or asked for and never met (an early answer).
            $new .= renamed_name($d->{name}, $rn) . ": $d->{kept}$eol" if defined $d->{kept};
            $new .= "Expect: 100-continue$eol" if $cont;
        }
        else {
            # Refused: the request as R sent it, plus the 100-continue the
            # client asked for, so that an answer before the module acts
            # closes the connection as it must (SPEC: Connection safety).
            my $r = $renamed->[$i];
            $new = join '', map { substr($r, $_->[0], $_->[1] - $_->[0]) } @g;
            if ($d->{wants_100}) {
                $new .= "Expect: 100-continue$eol";
                $d->{k_extra_field} = 1;
            }
        }
        my $out = substr($req, 0, $g[0][0]) . $new;
        for my $j (0 .. $#g) {
            my $next = $j < $#g ? $g[$j + 1][0] : length $req;
            $out .= substr($req, $g[$j][1], $next - $g[$j][1]);
        }
        push @k, $out;
    }
    return \@k;
}

# run(case) -> { findings => [ text... ], rules => { name => count } }
# A stream of the tls configuration is not run where httpd has no mod_ssl
# (httpd 2.4.37 against OpenSSL 3): it is counted instead.
sub not_runnable {
    my ($self, $case) = @_;
    return 0 unless $case->{config} eq 'tls' && !$self->{servers}->tls;
    $self->count('not run: streams of the tls configuration (this httpd has no mod_ssl)');
    return 1;
}

sub run {
    my ($self, $case) = @_;
    return { findings => [], rules => {} } if $self->not_runnable($case);
    $self->count('streams');
    $self->count(config_key($case));
    return $self->run_h2($case) if $case->{transport} eq 'h2';
    my %v = (findings => [], rules => {});
    my $orig = $case->{requests};
    my $S = $self->exchange($case, 'stock', $orig);
    my $M = $self->exchange($case, 'module', $orig);
    for my $x ([S => $S], [M => $M]) {
        push @{ $v{findings} }, "$x->[0]: connection failed: $x->[1]{connect_error}" if $x->[1]{connect_error};
        push @{ $v{findings} }, "$x->[0]: no end of the connection within the deadline" if $x->[1]{timeout};
    }
    return \%v if @{ $v{findings} };
    my $all = join '', @$orig;
    my $has_expect = grep { expect_groups($_) } @$orig;
    if (!$has_expect) {
        $self->compare_plain($S, $M, \%v, 'stock', 'mod_expect');
        return \%v;
    }
    my $rn = rename_choice($all);
    my @renamed;
    for my $req (@$orig) {
        my $r = $req;
        for my $g (expect_groups($req)) {
            substr($r, $g->[0], 1) = substr($r, $g->[0], 1) eq 'E' ? $rn->[0] : $rn->[1];
        }
        push @renamed, $r;
    }
    my $R = $self->exchange($case, 'stock', \@renamed);
    # The decisions, by request number, from what R read.
    # HTTP/1.x answers requests in order: the j-th response of R, K and M
    # is the answer to the j-th request httpd read (R and K frame the
    # stream exactly as M does).  The decision for each, from the field
    # as R read it; the request it was in the generated stream, from the
    # w=<n> of its target (or, when that is gone, its position, if R
    # answered every request).
    my (%dec, %rin, %gen_dec);
    my $rr = $R->{responses};
    my $all_answered = @$rr == @$orig + 1;
    # Requests whose target lost its w=<n> (or never had one: OPTIONS *)
    # are matched in order with the answers that show none.
    my @unmarked = grep { $orig->[$_] !~ /^\s*\S+ [^ ]*[?&]w=\d+/ } 0 .. $#$orig;
    my @unmarked_r = grep { $rr->[$_]{in} && !(defined $rr->[$_]{marker} && $rr->[$_]{marker} =~ /^\d+$/) } 0 .. $#$rr;
    my %by_order;
    @by_order{@unmarked_r} = @unmarked if @unmarked == @unmarked_r;
    for my $j (0 .. $#$rr) {
        my $x = $rr->[$j];
        next unless $x->{in};
        $rin{$j} = $x->{in};
        $dec{$j} = $self->decision_for($case, $x->{in}, $rn);
        $dec{$j}{early} = answered_early($x, $x->{in}, $case->{config} eq 'tls') if $dec{$j};
        my $g = defined $x->{marker} && $x->{marker} =~ /^\d+$/ ? $x->{marker}
              : $all_answered && $j < @$orig ? $j : $by_order{$j};
        $gen_dec{$g} //= $dec{$j} if defined $g;
    }
    my $kreq = $self->k_requests($orig, \@renamed, \%gen_dec, $rn);
    my $K = join('', @$kreq) eq join('', @renamed) ? $R
          : $self->exchange($case, 'stock', $kreq);
    $self->check_stock($S, \%dec, \%rin, \%v);
    $self->compare_model($case, $S, $M, $R, $K, \%dec, \%rin, $rn, \%v);
    return \%v;
}

# S against what the rules say stock does (SPEC, "What it is"): the first
# request whose Expect field is neither empty nor exactly 100-continue is
# answered with httpd's HTML 417 while it is read, and nothing follows.
sub check_stock {
    my ($self, $S, $dec, $rin, $v) = @_;
    my $s = $S->{responses};
    for my $j (0 .. $#$s) {
        my $d = $dec->{$j};
        next unless $d && !$d->{empty} && !$d->{stock_passes};
        my $x = $s->[$j];
        my $head = $rin->{$j} && $rin->{$j}{method} eq 'HEAD';
        my $want = $head ? '' : html_417($d->{value}, $self->{servers}->error_doctype);
        # (When httpd then fails to read the body it was discarding, the
        # page is its 400 or 413, "Additionally, a 4xx ..." instead.)
        my $is_417 = $x->{line} eq 'HTTP/1.1 417 Expectation Failed' && $x->{body} eq $want;
        my $is_400 = $x->{line} =~ /^HTTP\/1\.1 (?:400 Bad Request|413 Request Entity Too Large)$/
                     && ($head ? $x->{body} eq ''
                               : $x->{body} =~ /Additionally, a 4\d\d [A-Za-z ]+\nerror was encountered/);
        if (!($is_417 || $is_400) || $x->{in} || $j != $#$s || $S->{junk} ne '') {
            push @{ $v->{findings} }, "stock did not answer request " . ($j + 1)
                . " as the rules say stock does (HTML 417 before any hook, then close): "
                . "$x->{line}, " . (@$s - $j - 1) . " responses after it";
        }
        return;
    }
}

sub rule { my ($v, $name) = @_; $v->{rules}{$name}++ }

# The statistics key of a case's configuration and transport.
sub config_key {
    my ($case) = @_;
    return "config $case->{config} ("
        . ($case->{transport} eq 'h2' ? ($case->{config} eq 'tls' ? 'h2' : 'h2c')
           : $case->{config} eq 'tls' ? 'HTTP/1.1 over TLS' : 'HTTP/1.x') . ')';
}

sub compare_plain {
    my ($self, $A, $B, $v, $an, $bn) = @_;
    my ($a, $b) = ($A->{responses}, $B->{responses});
    $self->rule_noise($v, $a);
    for my $j (0 .. ($#$a > $#$b ? $#$a : $#$b)) {
        if (!$a->[$j] || !$b->[$j]) {
            push @{ $v->{findings} }, sprintf("%s answered %d responses, %s %d (response %d: %s)",
                $an, scalar @$a, $bn, scalar @$b, $j + 1,
                ($a->[$j] // $b->[$j])->{line});
            return;
        }
        my ($ca, $cb) = (canon($a->[$j]), canon($b->[$j]));
        if ($ca ne $cb) {
            push @{ $v->{findings} }, "response " . ($j + 1) . " differs ($an -, $bn +):\n" . diff_text($ca, $cb);
            return;
        }
    }
    if (esc($A->{junk}) ne esc($B->{junk})) {
        push @{ $v->{findings} }, "bytes after the responses differ: $an '" . esc(substr($A->{junk}, 0, 200))
            . "', $bn '" . esc(substr($B->{junk}, 0, 200)) . "'";
    }
}

sub rule_noise {
    my ($self, $v, $resps) = @_;
    rule($v, 'noise-date') if grep { header($_, 'Date') } @$resps;
}

# M against K (and R for the request as read), response by response.
sub compare_model {
    my ($self, $case, $S, $M, $R, $K, $dec, $rin, $rn, $v) = @_;
    my ($k, $m) = ($K->{responses}, $M->{responses});
    my $F = $v->{findings};
    $self->rule_noise($v, $m);
    rule($v, 'rename-reference');
    my $j = 0;
    for (; $j <= $#$k; $j++) {
        my $kr = $k->[$j];
        my $mr = $m->[$j];
        my $i = $kr->{marker};
        my $d = $dec->{$j};
        my $rin_j = $rin->{$j};
        if (!$d && $mr && $mr->{in} && !$kr->{in}) {
            # R and K answered without showing the request as read (an
            # error of the body read drops the echo's fields): the field
            # as M read it stands in, and only the decision is checked.
            my %min = %{ $mr->{in} };
            $min{fields} = [ map { lc $_->[0] eq 'expect' ? [renamed_name($_->[0], $rn), $_->[1]] : $_ } @{ $min{fields} } ];
            $d = $self->decision_for($case, \%min, $rn);
            $d->{early} = answered_early($kr, \%min, $case->{config} eq 'tls') if $d;
            $rin_j = \%min if $d;
            $self->count('capture unverified (reference showed no request)') if $d;
        }
        if (!$mr) {
            push @$F, sprintf("mod_expect answered %d responses where %d were expected (next: %s, request %s)",
                              scalar @$m, scalar @$k, $kr->{line}, $i // '?');
            return;
        }
        my $label = "response " . ($j + 1) . (defined $i ? " (request $i)" : '');
        my $method = ($rin_j // $kr->{in} // $mr->{in} // {})->{method} // '';
        $label .= " ($method)" if $method eq 'TRACE' || $method eq 'OPTIONS';
        if ($d && !$d->{in_k} && $rin_j && $rin_j->{fields}) {
            # The request could not be told apart in the generated stream
            # (its w=<n> damaged), so K could not carry the kept field.
            $self->count('unverified: request not found in the stream');
            return;
        }
        if ($d && $d->{k_extra_field} && !$kr->{in} && $kr->{status} == 400
            && ($kr->{body} =~ /number of request header fields/ || $kr->{body} eq '')) {
            $self->count('unverified: K needs a field more than LimitRequestFields');
            return;
        }
        if (defined $i && defined $mr->{marker} && $mr->{marker} ne $i && $kr->{in} && $mr->{in}) {
            push @$F, "$label: mod_expect answered request $mr->{marker} here";
            return;
        }
        my $close;      # 1: M must close after this response; 0: stay open
        if (!$d || $d->{empty}) {
            my ($want, $got) = (canon($kr), canon($mr));
            if ($want ne $got) {
                push @$F, "$label differs (stock -, mod_expect +):\n" . diff_text($want, $got);
                return;
            }
        }
        else {
            $kr->{_k_closed} = $j == $#$k && $K->{junk} eq '' ? 1 : 0;
            $close = $self->compare_decided($case, $kr, $mr, $d, $rin_j, $rn, $v, $label);
            return if !defined $close || $close == 2;
            undef $close if $close == -1;
        }
        my $k_last = $j == $#$k;
        my $m_last = $j == $#$m;
        # After its last response K either closed, or went on answering
        # HTTP/0.9 requests (no status line: the junk after the responses).
        my $k_closed = $k_last && $K->{junk} eq '';
        $close //= $k_closed ? 1 : 0;
        if ($close && !$m_last) {
            push @$F, "$label: mod_expect kept the connection and answered "
                . ($#$m - $j) . " more (next: $m->[$j + 1]{line}) where it must close";
            return;
        }
        if ($close && $M->{junk} ne '') {
            push @$F, "$label: mod_expect sent bytes after a response that must close: '"
                . esc(substr($M->{junk}, 0, 200)) . "'";
            return;
        }
        if (!$close && $m_last) {
            if ($k_last && $K->{junk} ne $M->{junk}) {
                if ($k_closed) {
                    # K closed here for a reason M does not share (see
                    # compare_decided); nothing left to compare against.
                    $self->count('unverified after a kept-alive 417');
                    return;
                }
                push @$F, "$label: what follows differs: stock '" . esc(substr($K->{junk}, 0, 300))
                    . "', mod_expect '" . esc(substr($M->{junk}, 0, 300)) . "'";
                return;
            }
            if (!$k_last) {
                push @$F, "$label: mod_expect closed the connection; expected "
                    . ($#$k - $j) . " more responses (next: $k->[$j + 1]{line})";
                return;
            }
        }
        if (!$close && $k_last && !$m_last) {
            $self->count('unverified after a kept-alive 417');
            return;
        }
        last if $close;
    }
    if ($j > $#$k && @$m > @$k) {
        push @$F, "mod_expect answered " . scalar(@$m) . " responses, stock " . scalar(@$k)
            . " (extra: $m->[scalar @$k]{line})";
    }
}

# A request whose Expect field the module judges.  Returns whether M must
# close after it (1/0), or undef after a finding.
sub compare_decided {
    my ($self, $case, $kr, $mr, $d, $rin, $rn, $v, $label) = @_;
    my $F = $v->{findings};
    my %port = $case->{transport} eq 'h2' ? (port => 1) : ();
    # The request as read: M's X-Wire-In is R's with the name renamed back.
    if ($rin && $mr->{in}) {
        my ($want, $got) = (in_text($rin, $rn, %port), in_text($mr->{in}, undef, %port));
        if ($want ne $got) {
            push @$F, "$label: the request as read differs (stock, Expect renamed -, mod_expect +):\n"
                . diff_text($want, $got);
            return undef;
        }
    }
    my $early = $d->{early};
    my $stock_417 = !$d->{stock_passes};
    rule($v, 'stock-417-before-hooks') if $stock_417;
    if ($early) {
        # Answered before the module acts: the answer stays.
        my ($want, $got) = (canon($kr, no_in => 1, %port), canon($mr, no_in => 1, %port));
        if ($want ne $got) {
            push @$F, "$label: answered before the module acts, differs (stock -, mod_expect +):\n"
                . diff_text($want, $got);
            return undef;
        }
        rule($v, 'access-control-first') if $stock_417;
        if ($d->{wants_100}) {
            rule($v, 'early-answer-closes');
            return 1;
        }
        return -1;
    }
    my $refused = $d->{engine} ? scalar @{ $d->{unmet} } : !$d->{pass};
    if ($refused) {
        my $conf = $d->{conf};
        my $html = !$d->{engine} || $conf->{format} eq 'html';
        my $head = $rin && $rin->{method} eq 'HEAD';
        my @bad;
        push @bad, "status line '$mr->{line}', expected 'HTTP/1.1 417 Expectation Failed'"
            unless $mr->{line} eq 'HTTP/1.1 417 Expectation Failed'
                || ($case->{transport} eq 'h2' && $mr->{status} == 417);
        push @bad, "an interim response (" . join(',', map { $_->{line} } @{ $mr->{interim} }) . ")"
            if @{ $mr->{interim} // [] };
        my $ct = header($mr, 'Content-Type') // '';
        if ($html) {
            push @bad, "Content-Type '$ct'" unless $ct eq 'text/html; charset=iso-8859-1';
            my $want = $head ? '' : html_417($d->{value}, $self->{servers}->error_doctype);
            push @bad, "body:\n" . diff_text($want, $mr->{body}) if $mr->{body} ne $want;
        }
        else {
            my $x = json_expected($d);
            push @bad, "Content-Type '$ct', expected '$x->{content_type}'" unless $ct eq $x->{content_type};
            push @bad, $self->check_json($x, $mr->{body}) unless $head;
            push @bad, "a body for HEAD" if $head && $mr->{body} ne '';
        }
        my $cl = header($mr, 'Content-Length');
        # (Under ExpectEngine Off too: the module gives httpd's page its
        # length, where stock sends a long one chunked.)
        push @bad, "Content-Length " . ($cl // "none") . " for a body of " . length($mr->{body})
                   . ($mr->{to_eof} ? " (delimited by closing the connection)" : $mr->{chunked} ? " (chunked)" : "")
            if !$head && $case->{transport} ne 'h2' && (!defined $cl || $cl != length $mr->{body});
        if (@bad) {
            push @$F, "$label: the 417 is not as SPEC says: " . join('; ', @bad);
            return undef;
        }
        if (!$d->{engine}) {
            rule($v, 'engine-off-after-access');
            return 1;
        }
        rule($v, 'module-417');
        return 0 if $case->{transport} eq 'h2';
        # Connection safety: close when the client may hold its body back,
        # when the declared body is over the limit, when the client asked
        # for it, or when reading the body failed in K.
        # TRACE refuses any body with 413 without reading it: K cannot
        # tell whether the module, which discards it after its 417, can.
        if ($rin && $rin->{method} eq 'TRACE' && $kr->{status} == 413 && $kr->{_k_closed}
            && !$d->{may_wait} && !$d->{over_limit} && !$d->{client_close}) {
            $self->count('unverified: what follows a refused TRACE with a body');
            return 2;
        }
        # K shows a body that cannot be read as a 400 or 413 from the
        # handler (or from httpd discarding it), and closes.
        my $close = $d->{may_wait} || $d->{over_limit} || $d->{client_close}
                 || ($kr->{_k_closed} && ($kr->{status} == 400 || $kr->{status} == 413)) ? 1 : 0;
        # (K closed after a handler or a discard failed to read the body.)
        my $conn = header($mr, 'Connection') // '';
        # (HTTP/1.0 answers close without saying so.)
        if ($close && $conn !~ /close/i && (!$rin || $rin->{proto_num} >= 1001)) {
            push @$F, "$label: a 417 that must close the connection has no 'Connection: close'";
            return undef;
        }
        rule($v, $close ? 'module-417-close' : 'module-417-keepalive') if $stock_417;
        return $close;
    }
    if (!$d->{engine}) {
        # ExpectEngine Off, value 100-continue: stock's own handling.
        my ($want, $got) = (canon($kr, %port), canon($mr, %port));
        if ($want ne $got) {
            push @$F, "$label differs under ExpectEngine Off (stock -, mod_expect +):\n" . diff_text($want, $got);
            return undef;
        }
        return -1;
    }
    # Passed on: M is K with the kept field under its own name, the
    # outcome, and (Immediate) one 100 Continue before the handler.
    my $want_outcome = $d->{outcome};
    my $extra100 = $d->{outcome} eq 'immediate' && !$d->{over_limit} ? 1 : 0;
    $want_outcome = 'continue' if $d->{outcome} eq 'immediate' && $d->{over_limit};
    my %kx = %$kr;
    $kx{interim} = [ ($extra100 ? ({ line => 'HTTP/1.1 100 Continue' }) : ()), @{ $kr->{interim} // [] } ];
    if ($case->{transport} eq 'h2') {
        $kx{interim} = [ ($extra100 ? ({ line => 100 }) : ()), @{ $kr->{interim} // [] } ];
    }
    if ((header($kr, 'Content-Type') // '') =~ m{^message/http}) {
        # TRACE sends the request back: K's shows the kept field under
        # the reference name.
        my $name = $d->{renamed};
        $kx{body} =~ s/(^|\n)\Q$name\E:/$1$d->{name}:/g;
        rule($v, 'rename-reference');
    }
    if ($kr->{echo}) {
        my %e = %{ $kr->{echo} };
        $e{headers} = [ map { lc $_->[0] eq lc $d->{renamed} ? [$d->{name}, $_->[1]] : $_ }
                        grep { lc $_->[0] ne 'expect' } @{ $e{headers} } ];
        $e{outcome} = $want_outcome;
        $kx{echo} = \%e;
    }
    my ($want, $got) = (canon(\%kx, no_in => 1, bodyn => 1, head_echo => 1, %port),
                        canon($mr, no_in => 1, bodyn => 1, head_echo => 1, %port));
    if ($want ne $got) {
        push @$F, "$label: passed on ($d->{outcome}), differs (expected -, mod_expect +):\n"
            . diff_text($want, $got);
        return undef;
    }
    rule($v, 'kept-field') if !defined $d->{kept} || $d->{kept} ne $d->{value};
    rule($v, 'outcome-env');
    rule($v, 'immediate-100') if $extra100;
    my $members_continue = grep { $_->{kind} eq 'continue' } @{ $d->{members} };
    if ($members_continue && $d->{stock_passes}) {
        if ($rin && $rin->{proto_num} < 1001) { rule($v, 'http10-continue-ignored') }
        elsif (!$d->{wants_100}) { rule($v, 'bodiless-continue-kept-alive') }
    }
    return -1;
}

sub check_json {
    my ($self, $x, $body) = @_;
    my @bad;
    return "the body is not pure ASCII" if $body =~ /[^\x0a\x20-\x7e]/;
    my $j = eval { JSON::PP->new->decode($body) };
    return "the body is not JSON: " . esc(substr($body, 0, 200)) unless ref $j eq 'HASH';
    my @keys = $body =~ /[{,]\s*"(\w+)"\s*:/g;
    @keys = @keys[0 .. $#{ $x->{keys} }] if @keys > @{ $x->{keys} };
    push @bad, "keys " . join(',', @keys) . ", expected " . join(',', @{ $x->{keys} })
        unless join(',', @keys) eq join(',', @{ $x->{keys} }) && keys %$j == @{ $x->{keys} };
    for my $key (@{ $x->{keys} }) {
        my $want = $x->{$key};
        my $got = $j->{$key};
        my $w = ref $want ? join("\x{1}", map { esc($_) } @$want) : esc($want);
        my $g = ref $got eq 'ARRAY' ? join("\x{1}", map { esc(bytes_of($_)) } @$got) : esc(bytes_of($got // ''));
        push @bad, "$key: '$g', expected '$w'" if $w ne $g;
    }
    return @bad;
}

sub bytes_of {
    my ($s) = @_;
    return $s if $s !~ /[^\x00-\xff]/;
    return "\x{fffd}";
}

# ---------------------------------------------------------------------
# HTTP/2: each stream is one request; there is no connection fate beyond
# whether every stream was answered.

sub h2_exchange {
    my ($self, $case, $who, $h2) = @_;
    $self->count('connections');
    my $r = Wire::H2::run(port => $self->{servers}->port($who, $case->{config}),
                          tls => $case->{config} eq 'tls', h2 => $h2);
    my @resps;
    my $n = 0;
    for my $s (@{ $r->{streams} }) {
        my $x = { line => defined $s->{status} ? "HTTP/2 $s->{status}" : 'HTTP/2 (no response)',
                  status => $s->{status} // 0,
                  headers => $s->{headers}, body => $s->{body},
                  interim => [ map { { line => $_ } } @{ $s->{interim} } ],
                  rst => $s->{rst} };
        push @{ $x->{headers} }, ['(rst_stream)', $s->{rst}] if $s->{rst};
        push @{ $x->{headers} }, ['(trailers)', join ',', map { "$_->[0]=$_->[1]" } @{ $s->{trailers} }]
            if $s->{trailers};
        $x->{in} = parse_wire_in(header($x, 'X-Wire-In'));
        $x->{marker} = $x->{in} && $x->{in}{uri} =~ /[?&]w=(\w+)/ ? $1 : undef;
        $x->{stage} = header($x, 'X-Wire-Stage') // '';
        $x->{echo} = parse_echo($x->{body});
        push @resps, $x;
    }
    return { responses => \@resps, junk => '', eof => 1, error => $r->{error},
             goaway => $r->{goaway}, unprocessed => $r->{unprocessed} };
}

sub run_h2 {
    my ($self, $case) = @_;
    my %v = (findings => [], rules => {});
    my $h2 = $case->{h2};
    my $S = $self->h2_exchange($case, 'stock', $h2);
    my $M = $self->h2_exchange($case, 'module', $h2);
    my $has_expect = grep { lc $_->[0] eq 'expect' } @{ $h2->{headers} };
    if (!$has_expect) {
        $self->h2_compare_plain($S, $M, \%v);
        return \%v;
    }
    my $rn = rename_choice(join ' ', map { $_->[0] } @{ $h2->{headers} });
    my %R2 = %$h2;
    $R2{headers} = [ map { lc $_->[0] eq 'expect' ? [$rn->[1] . substr($_->[0], 1), $_->[1]] : $_ } @{ $h2->{headers} } ];
    my $R = $self->h2_exchange($case, 'stock', \%R2);
    # K: one connection per stream, as the decision may differ by path.
    my (%dec, %rin, @kresp);
    for my $p (0 .. $#{ $h2->{paths} }) {
        my ($x) = grep { defined $_->{marker} && $_->{marker} eq $p } @{ $R->{responses} };
        my %K2 = (%R2, paths => [ $h2->{paths}[$p] ]);
        if ($x && $x->{in}) {
            $rin{$p} = $x->{in};
            my $d = $dec{$p} = $self->decision_for($case, $x->{in}, $rn);
            $d->{early} = answered_early($x, $x->{in}, $case->{config} eq 'tls') if $d;
            if ($d && ($d->{empty} || (!$d->{engine} && $d->{pass}))) {
                %K2 = (%$h2, paths => [ $h2->{paths}[$p] ]);
            }
            elsif ($d && $d->{engine} && !@{ $d->{unmet} }) {
                my @h = grep { lc $_->[0] ne lc $d->{renamed} } @{ $R2{headers} };
                push @h, [lc $d->{renamed}, $d->{kept}] if defined $d->{kept};
                push @h, ['expect', '100-continue'] if $d->{kept_continue} || ($d->{early} && $d->{wants_100});
                $K2{headers} = \@h;
            }
            elsif ($d && $d->{wants_100}) {
                $K2{headers} = [ @{ $R2{headers} }, ['expect', '100-continue'] ];
            }
        }
        my $K = $self->h2_exchange($case, 'stock', \%K2);
        push @kresp, $K->{responses}[0] // { line => 'HTTP/2 (no response)', status => 0,
                                             headers => [], body => '', interim => [], stage => '' };
    }
    my $m = $M->{responses};
    rule(\%v, 'rename-reference');
    $self->rule_noise(\%v, $m);
    for my $p (0 .. $#kresp) {
        my ($kr, $mr) = ($kresp[$p], $m->[$p]);
        my $label = "stream " . ($p + 1);
        if (!$mr) {
            next if !$kr->{status};
            push @{ $v{findings} }, "$label: no response from mod_expect (stock: $kr->{line})";
            last;
        }
        my $d = $dec{$p};
        if (!$d || $d->{empty}) {
            my ($want, $got) = (canon($kr, port => 1), canon($mr, port => 1));
            if ($want ne $got) {
                push @{ $v{findings} }, "$label differs (stock -, mod_expect +):\n" . diff_text($want, $got);
                last;
            }
            next;
        }
        my %kx = %$kr;
        $kx{headers} = [ grep { $_->[0] ne '(rst_stream)' } @{ $kr->{headers} } ];
        my %mx = %$mr;
        # A refused stream may be reset with NO_ERROR once answered.
        $mx{headers} = [ grep { !($_->[0] eq '(rst_stream)' && $_->[1] =~ /NO_ERROR/) } @{ $mr->{headers} } ];
        rule(\%v, 'h2-stream-only') if grep { $_->[0] eq '(rst_stream)' } @{ $mr->{headers} };
        my $r = $self->compare_decided($case, \%kx, \%mx, $d, $rin{$p}, $rn, \%v, $label);
        last if @{ $v{findings} };
    }
    if (!@{ $v{findings} } && ($M->{error} // '') ne ($S->{error} // '') && !$has_expect) {
        push @{ $v{findings} }, "nghttp: stock '" . ($S->{error} // '') . "', mod_expect '" . ($M->{error} // '') . "'";
    }
    return \%v;
}

sub h2_compare_plain {
    my ($self, $S, $M, $v) = @_;
    my ($a, $b) = ($S->{responses}, $M->{responses});
    $self->rule_noise($v, $a);
    for my $j (0 .. ($#$a > $#$b ? $#$a : $#$b)) {
        my ($x, $y) = ($a->[$j], $b->[$j]);
        if (!$x || !$y) {
            push @{ $v->{findings} }, "stock answered " . @$a . " streams, mod_expect " . @$b;
            return;
        }
        my ($ca, $cb) = (canon($x, port => 1), canon($y, port => 1));
        if ($ca ne $cb) {
            push @{ $v->{findings} }, "stream " . ($j + 1) . " differs (stock -, mod_expect +):\n" . diff_text($ca, $cb);
            return;
        }
    }
    if (($S->{goaway} // '') ne ($M->{goaway} // '')) {
        push @{ $v->{findings} }, "GOAWAY: stock " . ($S->{goaway} // 'none') . ", mod_expect " . ($M->{goaway} // 'none');
    }
}

1;
