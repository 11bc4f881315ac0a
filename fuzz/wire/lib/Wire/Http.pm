# Wire::Http: the byte stream a server sent on one connection, cut into
# responses, and the echo handler's output read back.
package Wire::Http;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(parse_responses parse_wire_in parse_echo unescape esc
                    header header_all);

# parse_responses(bytes) -> [ response, ... ], trailing junk
# A response: { line, proto, status, reason, headers => [[name, value]...],
#               body, short => 1 when the body ended early,
#               interim => [ { line, status, headers } ... ] }
# Interim (1xx) responses are attached to the final response they precede;
# interim responses that no final response follows are a last entry of
# their own with status 0.  Bytes that do not start with a status line are
# returned as the junk (HTTP/0.9 answers have no status line).
sub parse_responses {
    my ($data) = @_;
    my @out;
    my @interim;
    my $pos = 0;
    my $len = length $data;
    while ($pos < $len) {
        my $rest = substr($data, $pos, 64);
        last unless $rest =~ m{^HTTP/\d\.\d \d\d\d};
        my $end = index($data, "\r\n\r\n", $pos);
        last if $end < 0;
        my $head = substr($data, $pos, $end - $pos);
        $pos = $end + 4;
        my ($line, @lines) = split /\r\n/, $head, -1;
        my ($proto, $status, $reason) = $line =~ m{^(HTTP/\d\.\d) (\d\d\d)(?: (.*))?$}s;
        my @h;
        for my $l (@lines) {
            my ($n, $v) = $l =~ /^([^:]*):[ \t]*(.*?)[ \t]*$/s;
            push @h, [$n // $l, $v // ''];
        }
        my $r = { line => $line, proto => $proto, status => 0 + $status,
                  reason => $reason // '', headers => \@h };
        if ($status >= 100 && $status < 200) {
            push @interim, $r;
            next;
        }
        $r->{interim} = [@interim];
        @interim = ();
        my $body = '';
        my $te = header($r, 'Transfer-Encoding');
        my $cl = header($r, 'Content-Length');
        if ($status == 204 || $status == 304 || header($r, 'X-Wire-Head')) {
            # no body
        }
        elsif (defined $te && $te =~ /chunked/i) {
            while (1) {
                my $eol = index($data, "\r\n", $pos);
                if ($eol < 0) { $r->{short} = 1; $body .= substr($data, $pos); $pos = $len; last }
                my $size = hex((substr($data, $pos, $eol - $pos) =~ /^([0-9a-fA-F]+)/)[0] // 0);
                $pos = $eol + 2;
                if ($size == 0) {
                    my $tend = index($data, "\r\n\r\n", $pos - 2);
                    $pos = $tend < 0 ? $len : $tend + 4;
                    last;
                }
                if ($pos + $size > $len) { $r->{short} = 1; $body .= substr($data, $pos); $pos = $len; last }
                $body .= substr($data, $pos, $size);
                $pos += $size + 2;
            }
            $r->{chunked} = 1;
        }
        elsif (defined $cl && $cl =~ /^\d+$/) {
            my $n = $cl;
            if ($pos + $n > $len) { $r->{short} = 1; $n = $len - $pos }
            $body = substr($data, $pos, $n);
            $pos += $n;
        }
        else {
            $body = substr($data, $pos);
            $pos = $len;
            $r->{to_eof} = 1;
        }
        $r->{body} = $body;
        push @out, $r;
    }
    if (@interim) {
        push @out, { line => '', status => 0, headers => [], body => '',
                     interim => [@interim] };
    }
    return (\@out, substr($data, $pos));
}

sub header {
    my ($r, $name) = @_;
    for my $h (@{ $r->{headers} }) {
        return $h->[1] if lc $h->[0] eq lc $name;
    }
    return undef;
}

sub header_all {
    my ($r, $name) = @_;
    return map { $_->[1] } grep { lc $_->[0] eq lc $name } @{ $r->{headers} };
}

sub unescape {
    my ($s) = @_;
    $s =~ s/%([0-9A-F]{2})/chr hex $1/ge;
    return $s;
}

# Printable form of bytes, for reports and reproducer files.
sub esc {
    my ($s) = @_;
    $s =~ s/([\\\x00-\x1f\x7f-\xff])/
        $1 eq "\\" ? "\\\\" : $1 eq "\r" ? "\\r" : $1 eq "\n" ? "\\n"
      : $1 eq "\t" ? "\\t" : sprintf("\\x%02x", ord $1)/ge;
    return $s;
}

# X-Wire-In: method=..;uri=..;protocol=..;proto_num=..;assbackwards=..;
# then name=value for every field in table order.
sub parse_wire_in {
    my ($v) = @_;
    return undef unless defined $v;
    my @parts = split /;/, $v, -1;
    my %req;
    for my $k (qw(method uri path protocol proto_num assbackwards)) {
        my $p = shift @parts // '';
        $p =~ s/^\Q$k\E=//;
        $req{$k} = unescape($p);
    }
    my @fields;
    for my $p (@parts) {
        my ($n, $val) = split /=/, $p, 2;
        push @fields, [unescape($n), unescape($val // '')];
    }
    $req{fields} = \@fields;
    return \%req;
}

# The body of SetHandler wire-echo / wire-noread.
sub parse_echo {
    my ($body) = @_;
    return undef unless defined $body && $body =~ /^wire-echo\n/;
    my %e = (headers => [], trailers => []);
    for my $l (split /\n/, $body) {
        if ($l =~ /^h (.*)$/) {
            my ($n, $v) = split /=/, $1, 2;
            push @{ $e{headers} }, [unescape($n), unescape($v // '')];
        }
        elsif ($l =~ /^t (.*)$/) {
            my ($n, $v) = split /=/, $1, 2;
            push @{ $e{trailers} }, [unescape($n), unescape($v // '')];
        }
        elsif ($l =~ /^(\w+)=(.*)$/) {
            $e{$1} = unescape($2);
        }
    }
    return \%e;
}

1;
