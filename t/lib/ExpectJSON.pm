package ExpectJSON;

# The suite's JSON helper: decoding what the server sent (strictly: invalid
# JSON is not quietly accepted), the order of an object's keys, and the two
# shapes of the 417 body (SPEC.md, "The 417 response").
#
#   my $v = json_decode($text);      # undef unless $text is valid JSON
#   my $h = json_object($res);       # a response's (or text's) JSON object, or {}
#   json_text($value);               # canonical JSON text of a value
#   json_top_keys($text);            # ['error', 'status', ...] in text order
#   json_417(expect => 'x', unmet => ['x'], supported => ['100-continue'])
#   problem_417(...)                 # the same as ordered key/value lists

use strict;
use warnings FATAL => 'all';

use Exporter qw(import);
use JSON::PP ();

our @EXPORT = qw(json_decode json_object json_text json_top_keys json_417 problem_417);

my $JSON = JSON::PP->new;

sub json_decode {
    my $text = shift;
    return undef unless defined $text;
    my $v = eval { $JSON->decode($text) };
    return $v;
}

# Text of a value (canonical: keys sorted), for diagnostics.
sub json_text {
    return JSON::PP->new->canonical->allow_nonref->encode(shift);
}

# A hash for a JSON object in a response (an HTTP::Response or its text);
# {} when there is none, so that a test can look up keys either way.
sub json_object {
    my $in = shift;
    my $text = ref $in && eval { $in->can('content') } ? $in->content : $in;
    my $v = json_decode($text);
    return ref $v eq 'HASH' ? $v : {};
}

# The top-level keys of a JSON object, in the order the text has them.
sub json_top_keys {
    my $s = shift // '';
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

# The 417 bodies the module sends, as ordered key/value lists.
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
