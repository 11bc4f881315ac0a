# configtest.t — `httpd -t` on small standalone configurations: every
# valid value of every directive passes in every context (server config,
# <VirtualHost>, <Location>, <Directory>, <Files>), and each kind of bad
# argument fails with a message naming the directive (and the bad value
# where httpd's argument parser lets the module see it). The module is the
# one built in .libs/ next to this directory.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectServer ();

my $so = ExpectServer::module_so();
my $tmp = tempdir(CLEANUP => 1);

# run `httpd -t` on a configuration made of $body; returns (exit code, output)
my $serial = 0;
sub configtest {
    my $body = shift;
    my $dir = catfile($tmp, ++$serial);
    mkdir $dir or die "$dir: $!";
    my $conf = ExpectServer::config($dir, lines => [
        'ServerName localhost', qq{DocumentRoot "$dir"}, $body]);
    my (undef, $out, $rc) = ExpectServer::configtest($dir, $conf);
    return ($rc, $out);
}

# contexts: each wraps the directive line
my $vhost_dir = '/tmp';
my %context = (
    'server config' => sub { $_[0] },
    '<VirtualHost>' => sub { "<VirtualHost 127.0.0.1:*>\n$_[0]\n</VirtualHost>" },
    '<Location>'    => sub { "<Location /x>\n$_[0]\n</Location>" },
    '<Directory>'   => sub { "<Directory $vhost_dir>\n$_[0]\n</Directory>" },
    '<Files>'       => sub { "<Files x.txt>\n$_[0]\n</Files>" },
    '<Location> in <VirtualHost>' => sub {
        "<VirtualHost 127.0.0.1:*>\n<Location /y>\n$_[0]\n</Location>\n</VirtualHost>" },
);
my @contexts = sort keys %context;

my @valid = (
    'ExpectEngine On',
    'ExpectEngine Off',
    'ExpectEngine on',
    'ExpectContinue Defer',
    'ExpectContinue Immediate',
    'ExpectContinue Reject',
    'ExpectAllow None',
    'ExpectAllow x-foo',
    'ExpectAllow x-foo X-Bar baz9',
    "ExpectAllow a!#\$%&'*+-.^_`|~z",
    "ExpectAllow x-foo\nExpectAllow x-bar",
    "ExpectAllow x-foo\nExpectAllow None",
    'ExpectUnknown Reject',
    'ExpectUnknown Ignore',
    'ExpectErrorFormat JSON',
    'ExpectErrorFormat Problem',
    'ExpectErrorFormat HTML',
    'ExpectErrorMessage "Please send the request again without Expect."',
    'ExpectErrorMessage "A \"quoted\" word"',
    'ExpectErrorMessage word',
);

# [ directive line, directive name, bad value to find in the message or undef ]
my @invalid = (
    ['ExpectEngine Maybe',            'ExpectEngine',       undef],
    ['ExpectEngine',                  'ExpectEngine',       undef],
    ['ExpectEngine On Off',           'ExpectEngine',       undef],
    ['ExpectContinue Sometimes',      'ExpectContinue',     'Sometimes'],
    ['ExpectContinue',                'ExpectContinue',     undef],
    ['ExpectContinue Defer Reject',   'ExpectContinue',     undef],
    ['ExpectUnknown Drop',            'ExpectUnknown',      'Drop'],
    ['ExpectUnknown',                 'ExpectUnknown',      undef],
    ['ExpectUnknown Reject Ignore',   'ExpectUnknown',      undef],
    ['ExpectErrorFormat XML',         'ExpectErrorFormat',  'XML'],
    ['ExpectErrorFormat',             'ExpectErrorFormat',  undef],
    ['ExpectErrorFormat JSON HTML',   'ExpectErrorFormat',  undef],
    ['ExpectErrorMessage',            'ExpectErrorMessage', undef],
    ['ExpectAllow',                   'ExpectAllow',        undef],
    ['ExpectAllow 100-continue',      'ExpectAllow',        '100-continue'],
    ['ExpectAllow 100-Continue',      'ExpectAllow',        '100-Continue'],
    ['ExpectAllow x-foo 100-continue', 'ExpectAllow',       '100-continue'],
    ['ExpectAllow x@y',               'ExpectAllow',        'x@y'],
    ['ExpectAllow x/y',               'ExpectAllow',        'x/y'],
    ['ExpectAllow x,y',               'ExpectAllow',        'x,y'],
    ['ExpectAllow x=1',               'ExpectAllow',        'x=1'],
    ['ExpectAllow "x y"',             'ExpectAllow',        'x y'],
    ['ExpectAllow None x-foo',        'ExpectAllow',        undef],
    ['ExpectAllow x-foo None',        'ExpectAllow',        undef],
);
my @invalid_in = ('server config', '<Location>', '<Directory>');

my $checks = 1 + @valid * @contexts;
for my $bad (@invalid) {
    $checks += @invalid_in * (2 + (defined $bad->[2] ? 1 : 0));
}
plan tests => $checks;

ok -f $so, "module built at $so";

for my $line (@valid) {
    (my $label = $line) =~ s/\n/; /g;
    for my $ctx (@contexts) {
        my ($rc, $out) = configtest($context{$ctx}->($line));
        ok $rc == 0 && $out =~ /Syntax OK/, "valid in $ctx: $label"
            or diag $out;
    }
}

for my $bad (@invalid) {
    my ($line, $name, $value) = @$bad;
    for my $ctx (@invalid_in) {
        my ($rc, $out) = configtest($context{$ctx}->($line));
        isnt $rc, 0, "invalid in $ctx: '$line' fails";
        like $out, qr/\Q$name\E/, "invalid in $ctx: '$line': message names $name"
            or diag $out;
        if (defined $value) {
            like $out, qr/\Q$value\E/i, "invalid in $ctx: '$line': message names '$value'"
                or diag $out;
        }
    }
}
