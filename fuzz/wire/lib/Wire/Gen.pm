# Wire::Gen: request streams made by mutating the seed corpus
# (fuzz/wire/seeds/*.case), and the case file format shared by seeds and
# reproducers (fuzz/wire/repro/*.case):
#
#   # comments
#   config defer                 a configuration of fuzz/wire/httpd.conf
#   transport h1 | h2
#   split 12 40 41               h1: offsets where the stream is cut
#   request GET /?w=0 HTTP/1.1\r\nHost: a\r\n\r\n     h1, one per request
#   h2-method POST               h2: the request every stream sends
#   h2-path /a?w=0               one stream per line
#   h2-header expect: x-foo
#   h2-body abc
#   h2-no-content-length
#   h2-trailer x-t: 1
#
# Bytes are written with \r \n \t \\ and \xHH escapes.
package Wire::Gen;

use strict;
use warnings;
no warnings qw(portable);

use File::Basename qw(basename);
use Wire::Http qw(esc);

our @CONFIGS = qw(defer immediate reject allow ignore off mix unsafe tls);

# ---------------------------------------------------------------------
# Case files

sub unesc {
    my ($s) = @_;
    $s =~ s/\\(?:x([0-9a-fA-F]{2})|(.))/defined $1 ? chr hex $1 : $2 eq 'r' ? "\r" : $2 eq 'n' ? "\n" : $2 eq 't' ? "\t" : $2/ge;
    return $s;
}

sub read_case {
    my ($file) = @_;
    open my $fh, '<', $file or die "wire: $file: $!\n";
    my %c = (requests => [], splits => [], transport => 'h1', name => basename($file));
    my %h2 = (paths => [], headers => [], trailers => []);
    my @comment;
    while (my $l = <$fh>) {
        chomp $l;
        if ($l =~ /^#\s?(.*)/) { push @comment, $1; next }
        next if $l =~ /^\s*$/;
        my ($k, $v) = $l =~ /^(\S+)\s?(.*)$/;
        if ($k eq 'config') { $c{config} = $v }
        elsif ($k eq 'transport') { $c{transport} = $v }
        elsif ($k eq 'split') { $c{splits} = [ split ' ', $v ] }
        elsif ($k eq 'request') { push @{ $c{requests} }, unesc($v) }
        elsif ($k eq 'h2-method') { $h2{method} = $v }
        elsif ($k eq 'h2-path') { push @{ $h2{paths} }, unesc($v) }
        elsif ($k eq 'h2-header') { my ($n, $x) = split /: ?/, unesc($v), 2; push @{ $h2{headers} }, [$n, $x // ''] }
        elsif ($k eq 'h2-trailer') { my ($n, $x) = split /: ?/, unesc($v), 2; push @{ $h2{trailers} }, [$n, $x // ''] }
        elsif ($k eq 'h2-body') { $h2{body} = unesc($v) }
        elsif ($k eq 'h2-no-content-length') { $h2{no_cl} = 1 }
        else { die "wire: $file: unknown line '$l'\n" }
    }
    $c{h2} = \%h2 if $c{transport} eq 'h2';
    $c{comment} = join "\n", @comment;
    return \%c;
}

sub write_case {
    my ($c, $comment) = @_;
    my $out = join('', map { "# $_\n" } split /\n/, $comment // '');
    $out .= "config $c->{config}\ntransport $c->{transport}\n";
    if ($c->{transport} eq 'h2') {
        my $h = $c->{h2};
        $out .= "h2-method $h->{method}\n" if $h->{method};
        $out .= "h2-path " . esc($_) . "\n" for @{ $h->{paths} };
        $out .= "h2-header " . esc("$_->[0]: $_->[1]") . "\n" for @{ $h->{headers} };
        $out .= "h2-trailer " . esc("$_->[0]: $_->[1]") . "\n" for @{ $h->{trailers} // [] };
        $out .= "h2-body " . esc($h->{body}) . "\n" if defined $h->{body};
        $out .= "h2-no-content-length\n" if $h->{no_cl};
    }
    else {
        $out .= "split @{ $c->{splits} }\n" if @{ $c->{splits} // [] };
        $out .= "request " . esc($_) . "\n" for @{ $c->{requests} };
    }
    return $out;
}

# ---------------------------------------------------------------------
# The generator

sub new {
    my ($class, %o) = @_;
    my $self = bless { seeds => [] }, $class;
    for my $f (sort glob("$o{seeds}/*.case")) {
        my $c = read_case($f);
        push @{ $self->{seeds} }, map { split_request($_) } @{ $c->{requests} };
    }
    die "wire: no seeds in $o{seeds}\n" unless @{ $self->{seeds} };
    return $self;
}

# A seed request as { line, eol, headers => [lines without eol], body }.
sub split_request {
    my ($req) = @_;
    my ($head, $body) = $req =~ /^(.*?\r?\n)\r?\n(.*)$/s ? ($1, $2) : ($req, undef);
    my @lines = split /\r?\n/, $head;
    my $line = shift @lines;
    return { line => $line, headers => \@lines, body => $body,
             nine => !defined $body };
}

my $R;      # the stream's random number generator: see rnd()

# A small, seedable generator of our own (xorshift64*), so that a stream
# is the same on every machine and Perl for the same seed and number.
sub seed_rng {
    my ($seed, $n) = @_;
    use integer;
    my $x = ($seed * 1000003 + $n * 7919 + 88172645463325252) & 0x7fffffffffffffff;
    $x ||= 1;
    $R = $x;
}

sub rnd {
    my ($n) = @_;
    use integer;
    $R ^= ($R << 13) & 0x7fffffffffffffff;
    $R ^= $R >> 7;
    $R ^= ($R << 17) & 0x7fffffffffffffff;
    $R &= 0x7fffffffffffffff;
    no integer;
    return $n ? $R % $n : 0;
}
sub chance { rnd(1000) < $_[0] * 1000 }
sub pick { $_[rnd(scalar @_)] }

my @EXPECT_VALUES = (
    '100-continue', '100-Continue', '100-CONTINUE', ' 100-continue ',
    "100-continue\t", '100-continue, 100-continue', '100-continue,100-continue',
    'x-foo', 'X-Foo', 'x-bar', 'X-BAR', 'x-foo, 100-continue', '100-continue, x-foo',
    '100-continue, x-unknown', 'x-foo=1', 'x-foo="a, b"', 'x-foo=1;q=2', 'x-foo=1; q="x"',
    'x-foo;q=1', '100-continue=1', '100-continue;a=b', '100-continuex', '100-continue ,',
    'x-foo="open', '"quoted"', 'x@y', ',', ', ,', '', ' ', "\t", 'x-foo, x-foo', 'x-foo, X-FOO',
    'x-bar, x-foo, x-baz', 'a' x 300, '100-continue, ' . ('x' x 100), "x-foo=\"\\\"\"",
    "x-foo=\"\xe9\"", "\xff", '100-continue, , x-foo', 'x-foo,,,100-continue', '1',
    '100-continue, 100-continue=1', 'X-Bar=2;v="1,2"', 'x-foo=', 'x-foo = 1', '=x',
);
my @NAMES = ('Expect', 'expect', 'EXPECT', 'eXpEcT', 'Expect');
my @PATHS = ('/', '/echo', '/noread', '/static/index.txt', '/denied', '/auth',
             '/redirect', '/small', '/imm', '/rej', '/off', '/ign', '/html',
             '/imm/noread', '/rej/x', '/off/static/index.txt', '/small/imm',
             '/%65cho', '//imm', '/imm/../rej', '/nothere');
my @METHODS = qw(GET GET POST POST PUT HEAD DELETE OPTIONS TRACE PATCH FOO);

sub limits {
    my ($config) = @_;
    return $config eq 'unsafe' ? (field => 200, fields => 12, line => 300)
                               : (field => 8190, fields => 100, line => 8190);
}

sub expect_value {
    my $v = pick(@EXPECT_VALUES);
    if (chance(0.15)) {
        my @m = map { pick(@EXPECT_VALUES) } 1 .. 1 + rnd(4);
        $v = join(pick(', ', ',', ' , ', ",\t"), @m);
    }
    return $v;
}

sub chunked {
    my ($body, $trailers) = @_;
    my $out = '';
    while (length $body) {
        my $n = 1 + rnd(length $body);
        $out .= sprintf("%x\r\n%s\r\n", $n, substr($body, 0, $n, ''));
    }
    $out .= "0\r\n";
    $out .= "$_\r\n" for @$trailers;
    return $out . "\r\n";
}

# One mutated request; $i its number in the stream.
sub request {
    my ($self, $config, $i) = @_;
    my $s = pick(@{ $self->{seeds} });
    my %lim = limits($config);
    my ($method, $target, $proto) = split / /, $s->{line}, 3;
    $method = pick(@METHODS) if chance(0.3);
    my $path = chance(0.6) ? pick(@PATHS) : ($target =~ /^([^?]*)/)[0];
    $path = pick('/imm', '/rej', '/off', '/ign', '/html', '/imm/x', '/') if $config eq 'mix' && chance(0.6);
    $target = "$path?w=$i";
    $target = '*' if $method eq 'OPTIONS' && chance(0.5);
    $proto //= 'HTTP/1.1';
    if (chance(0.1)) { $proto = pick('HTTP/1.0', 'HTTP/1.0', 'HTTP/1.2', 'http/1.1', 'HTTP/2.0', '') }
    my @h = grep { !/^expect:/i || chance(0.5) } @{ $s->{headers} };
    my $body = $s->{body} // '';
    # Framing.
    @h = grep { !/^(?:content-length|transfer-encoding):/i } @h;
    my $bodykind = pick(qw(none none cl cl cl chunked));
    $bodykind = 'cl' if $bodykind eq 'none' && length $body && chance(0.5);
    my $payload = chance(0.3) ? 'x' x (1 + rnd(200)) : pick('abc', 'hello=world', "GET /inner?w=in HTTP/1.1\r\nHost: in\r\n\r\n", "Expect: x-foo\r\n", '');
    if ($bodykind eq 'cl') {
        my $cl = length $payload;
        $cl += pick(0, 0, 0, 0, 1, -1) if $cl;
        # A body one byte short leaves its last byte to be read as the next
        # line.  Not a bare LF: httpd drops blank lines after a request
        # only when they have already arrived (check_pipeline()), and
        # refuses a bare LF line otherwise, so the answer would depend on
        # timing.
        $cl = length $payload if $cl < length($payload) && $payload =~ /\n\z/;
        push @h, "Content-Length: $cl";
        push @h, "Content-Length: " . pick($cl, $cl + 1) if chance(0.05);
        push @h, "Transfer-Encoding: chunked" if chance(0.05);
        $body = $payload;
    }
    elsif ($bodykind eq 'chunked') {
        push @h, 'Transfer-Encoding: ' . pick('chunked', 'chunked', 'Chunked', 'gzip, chunked', 'chunked, chunked');
        push @h, "Content-Length: " . length $payload if chance(0.05);
        my @tr = chance(0.3) ? (pick('X-Trailer: 1', 'Expect: x-foo', 'Expect: 100-continue', 'Expec~: t')) : ();
        $body = chunked($payload, \@tr);
        $body =~ s/^[0-9a-f]+/pick('zz', '-1', 'fffffffffffffffff', '1 ; ext=1')/e if chance(0.05);
    }
    else {
        $body = '';
        push @h, 'Content-Length: 0' if chance(0.1);
    }
    # Expect lines.
    if (chance(0.85)) {
        my $n = pick(1, 1, 1, 2, 2, 3);
        for (1 .. $n) {
            my $line = pick(@NAMES) . ':' . pick(' ', ' ', '', '  ', "\t") . expect_value();
            if (chance(0.1)) {
                # obs-fold: the value goes on on a continuation line
                $line .= "\r\n" . pick(' ', "\t", '  ') . pick('x-foo', '100-continue', ', x-bar', '');
            }
            splice @h, rnd(@h + 1), 0, $line;
        }
    }
    if (chance(0.15)) {
        my $line = pick('Expec~', 'expec~', 'EXPEC~') . ': ' . pick('x-foo', '100-continue', '', 'x-baz');
        splice @h, rnd(@h + 1), 0, $line;
    }
    push @h, 'Connection: ' . pick('close', 'keep-alive', 'Keep-Alive, x', 'close') if chance(0.08);
    push @h, 'Authorization: Basic ' . pick('dTpw', '!!') if chance(0.05);
    @h = grep { !/^host:/i } @h if chance(0.04);
    push @h, 'Host: second' if chance(0.03);
    # Lines at and around the limits.
    if (chance(0.08)) {
        my $k = pick(qw(field fields line straddle expectfield));
        if ($k eq 'field') {
            my $n = $lim{field} - length('X-Pad: ') + pick(-2, -1, 0, 1, 2);
            splice @h, rnd(@h + 1), 0, 'X-Pad: ' . ('p' x ($n > 1 ? $n : 1));
        }
        elsif ($k eq 'expectfield') {
            my $n = $lim{field} - length('Expect: ') + pick(-2, -1, 0, 1, 2);
            my $v = substr('100-continue, ' . ('x-foo, ' x 2000), 0, $n > 1 ? $n : 1);
            splice @h, rnd(@h + 1), 0, 'Expect: ' . $v;
        }
        elsif ($k eq 'fields') {
            my $want = $lim{fields} + pick(-1, 0, 1) - @h;
            splice @h, rnd(@h + 1), 0, "X-F$_: $_" for 1 .. ($want > 0 ? $want : 0);
        }
        elsif ($k eq 'line') {
            my $pad = $lim{line} - length("$method /?w=$i&p= $proto") + pick(-2, -1, 0, 1, 2);
            $target .= '&p=' . ('q' x ($pad > 0 ? $pad : 0));
        }
        else {
            # An Expect line across httpd's 8192-byte read pieces.
            my $before = length("$method $target $proto\r\n") + 2;
            my $pad = 8192 - $before - length("X-Pad: \r\n") - rnd(12);
            unshift @h, 'X-Pad: ' . ('s' x ($pad > 1 ? $pad : 1)) if $lim{field} >= $pad + 10;
            unshift @h, 'Expect: ' . expect_value();
            @h[0, 1] = @h[1, 0] if @h > 1;
        }
    }
    my $eol = chance(0.03) ? "\n" : "\r\n";
    my $req = $proto eq '' || ($s->{nine} && chance(0.5))
            ? "$method $target\r\n"      # HTTP/0.9: no header block
            : "$method $target $proto$eol" . join('', map { "$_$eol" } @h) . $eol . $body;
    # Byte-level damage, in the request line and header block only: a body
    # that grows past its Content-Length could leave a bare LF to be read
    # as the next line (see above).
    if (chance(0.12)) {
        my $n = 1 + rnd(3);
        my $end = $req =~ /\r?\n\r?\n/ ? $-[0] + 1 : length $req;
        for (1 .. $n) {
            # (a deletion shortens the request)
            $end = length $req if $end > length $req;
            last unless $end;
            my $at = rnd($end);
            my $op = rnd(6);
            my $b = pick("\r", "\n", "\0", "\x80", "\xff", ' ', "\t", ':', ',', '"', 'E', "\x7f");
            if ($op == 0) { substr($req, $at, 1) = '' }
            elsif ($op <= 2) { substr($req, $at, 0) = $b }
            else { substr($req, $at, 1) = $b }
        }
    }
    return $req;
}

sub h2_case {
    my ($self, $config) = @_;
    my $method = pick(qw(GET GET POST POST PUT HEAD OPTIONS));
    my @paths = map { pick(@PATHS) } 1 .. 1 + rnd(2);
    @paths = map { $config eq 'mix' && chance(0.5) ? pick('/imm', '/rej', '/off', '/ign', '/html') : $_ } @paths;
    my $n = 0;
    @paths = map { $_ . '?w=' . $n++ } @paths;
    my @h;
    my $ne = pick(0, 1, 1, 1, 2, 3);
    for (1 .. $ne) {
        my $v = expect_value();
        $v =~ s/^[ \t]+|[ \t]+$//g;     # HTTP/2 forbids them (stock refuses the stream)
        $v = '' if chance(0.05);
        push @h, ['expect', $v];
    }
    push @h, ['expec~', pick('x-foo', '100-continue', '')] if chance(0.15);
    push @h, ['x-other', pick('1', 'a, b')] if chance(0.2);
    for (1 .. rnd(3)) { my $j = rnd(scalar @h); my $k = rnd(scalar @h); @h[$j, $k] = @h[$k, $j] if @h }
    my %h2 = (method => $method, paths => \@paths, headers => \@h);
    if ($method ne 'GET' && $method ne 'HEAD' || chance(0.1)) {
        $h2{body} = pick('', 'abc', 'x' x (1 + rnd(300)), 'y' x 70);
        $h2{no_cl} = 1 if chance(0.3);
        $h2{trailers} = [[pick('x-t', 'expect'), pick('1', 'x-foo')]] if chance(0.15);
    }
    return { config => $config, transport => 'h2', h2 => \%h2, requests => [], splits => [] };
}

# gen(seed, n) -> case: the n-th stream of the run with this seed.
sub gen {
    my ($self, $seed, $n) = @_;
    seed_rng($seed, $n);
    my $config = pick(@CONFIGS);
    if (chance(0.12) && ($config eq 'defer' || $config eq 'tls' || $config eq 'mix' || $config eq 'immediate')) {
        # h2c is enabled in defer and mix, h2 in tls
        $config = 'defer' if $config eq 'immediate';
        return $self->h2_case($config);
    }
    my $count = pick(1, 1, 1, 2, 2, 3);
    my @req = map { $self->request($config, $_) } 0 .. $count - 1;
    my $len = do { no warnings qw(once); length(join "", @req) + length($Wire::Case::PROBE // "") };
    my @splits;
    if (chance(0.7)) {
        push @splits, 1 + rnd($len - 1) for 1 .. 1 + rnd(5);
    }
    if (chance(0.2)) {
        # every offset around the first Expect line
        my $all = join '', @req;
        if ($all =~ /\n(?=expect:)/gi) {
            my $at = pos($all) + 1;
            push @splits, grep { $_ > 0 && $_ < $len } map { $at + $_ } -2 .. 8;
        }
    }
    my %u;
    @splits = sort { $a <=> $b } grep { !$u{$_}++ } @splits;
    return { config => $config, transport => 'h1', requests => \@req, splits => \@splits,
             seed => $seed, n => $n };
}

1;
