# Documentation that cannot drift from the code.
#
# 1. Every directive in mod_expect.c's command table (its AP_INIT_* entries)
#    has a block in README.md: a heading naming the directive, followed by
#    the six fields of httpd's manual — Description, Syntax, Default,
#    Context, Override, Module. Syntax starts with the directive's name;
#    Context and Override say what the command table allows (RSRC_CONF:
#    server config, virtual host; ACCESS_CONF: directory; OR_*: .htaccess
#    and the override class); Module is mod_expect. Conversely, every
#    directive block in README.md names a directive the module has.
# 2. Every configuration example in README.md (a fenced code block marked
#    ```apache) passes `httpd -t` in a minimal standalone configuration
#    that loads the freshly built .libs/mod_expect.so and the modules the
#    examples use. A fragment with server-only directives (LoadModule,
#    Listen, <VirtualHost>, ...) is checked at the top level, one that begins
#    with a directory-only directive (AllowOverride, Require, ...) inside a
#    <Directory>, any other inside <VirtualHost 127.0.0.1:*>. Each example
#    is its own test, named by its line in README.md.
#
# No server is started; httpd and the module directory are those of the
# Apache::Test run (t/lib/ExpectServer.pm).
use strict;
use warnings FATAL => 'all';

use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use FindBin;
use Test::More;

use lib "$FindBin::Bin/lib";
use ExpectServer ();
use ExpectRelease qw(directives_missing_in);

my $top = abs_path("$FindBin::Bin/..");

sub slurp {
    my $file = shift;
    open my $fh, '<', $file or die "cannot read $file: $!\n";
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $data) = @_;
    open my $fh, '>', $file or die "cannot write $file: $!\n";
    print $fh $data;
    close $fh or die "cannot write $file: $!\n";
}

sub show { diag(map { "  $_\n" } split /\n/, join "\n", @_) }

# ------------------------------------------------------- the command table

my $src = slurp("$top/mod_expect.c");
$src =~ s{/\*.*?\*/}{ }gs;     # comments (the header shows directives too)
$src =~ s{//[^\n]*}{}g;

my @cmds;
while ($src =~ /\bAP_INIT_(\w+)\s*\(\s*"([^"]+)"\s*,\s*[^,]+?\s*,\s*[^,]+?\s*,
                 \s*([^,]+?)\s*,/gx) {
    push @cmds, { type => $1, name => $2, where => $3 };
}
ok(@cmds > 0, 'mod_expect.c has a command table with AP_INIT_* entries')
    or BAIL_OUT('no AP_INIT_* entries found in mod_expect.c');
note('directives: ' . join ', ', map { $_->{name} } @cmds);

# What httpd's manual would say for a req_override mask.
my %override_name = (OR_AUTHCFG => 'AuthConfig', OR_FILEINFO => 'FileInfo',
                     OR_INDEXES => 'Indexes', OR_LIMIT => 'Limit',
                     OR_OPTIONS => 'Options');

sub contexts_for {
    my $where = shift;
    my @c;
    push @c, 'server config', 'virtual host' if $where =~ /\bRSRC_CONF\b/;
    push @c, 'directory'  if $where =~ /\bACCESS_CONF\b/;
    push @c, '.htaccess'  if $where =~ /\bOR_(?!NONE\b)\w+/;
    return @c;
}

sub overrides_for {
    my $where = shift;
    return sort values %override_name if $where =~ /\bOR_ALL\b/;
    my @o = map { $override_name{$_} } grep { $where =~ /\b$_\b/ }
            sort keys %override_name;
    return @o ? @o : ('None');
}

# ------------------------------------------------------- README.md blocks

my $readme_file = "$top/README.md";
ok(-f $readme_file, 'README.md exists') or do { done_testing(); exit 1 };
my @lines = split /\n/, slurp($readme_file), -1;

# Headings outside code blocks, and ```apache blocks with their line numbers.
my (@headings, @examples);
{
    my $fence;       # [indent, fence chars, start line, info, lines]
    for my $i (0 .. $#lines) {
        my $line = $lines[$i];
        if ($fence) {
            my ($ind, $chars) = @$fence;
            my ($c, $len) = (quotemeta substr($chars, 0, 1), length $chars);
            if ($line =~ /^\s*(?:$c){$len,}\s*$/) {
                push @examples, { line => $fence->[2], text => join "\n", @{ $fence->[4] } }
                    if $fence->[3] =~ /^apache(?:conf)?$/i;
                undef $fence;
            }
            else {
                (my $l = $line) =~ s/^ {0,$ind}//;
                push @{ $fence->[4] }, $l;
            }
            next;
        }
        if ($line =~ /^( *)(`{3,}|~{3,})\s*([^\s`]*)/) {
            $fence = [length $1, $2, $i + 1, $3, []];
            next;
        }
        if ($line =~ /^(#{1,6})\s+(.*?)\s*#*\s*$/) {
            push @headings, { level => length $1, text => $2, line => $i };
        }
    }
    ok(!$fence, 'every code block in README.md is closed')
        or diag("the block opened at line $fence->[2] is never closed");
}

# The lines under a heading, up to the next heading (of any level): a
# directive's fields come right after its heading.
sub section {
    my $h = shift;
    my $end = $#lines;
    for my $next (@headings) {
        if ($next->{line} > $h->{line}) { $end = $next->{line} - 1; last }
    }
    return @lines[$h->{line} + 1 .. $end];
}

my @LABELS = qw(Description Syntax Default Context Override Module);
my $label_re = join '|', @LABELS;

# Fields of a block: "- **Label:** value", "**Label**: value", "Label: value"
# or a table row "| Label | value |".
sub fields {
    my %f;
    for my $l (@_) {
        my $s = $l;
        $s =~ s/^\s*(?:[-*+]\s+)?//;
        $s =~ s/^\|\s*//;
        next unless $s =~ /^(?:\*\*|__)?($label_re)(?:\*\*|__)?\s*(?::\s*(?:\*\*|__)?|\|)\s*(.*)$/;
        my ($label, $value) = ($1, $2);
        next if exists $f{$label};
        $value =~ s/\s*\|\s*$//;
        $value =~ s/\s+$//;
        $f{$label} = $value;
    }
    return \%f;
}

sub plain {    # markdown value -> text
    my $v = shift // '';
    $v =~ s/`//g;
    $v =~ s/\\\|/|/g;
    $v =~ s/\*\*|__//g;
    return $v;
}

my %documented;
for my $h (@headings) {
    (my $name = plain($h->{text})) =~ s/^\s+|\s+$//g;
    my $f = fields(section($h));
    next unless exists $f->{Syntax} && exists $f->{Module};
    $documented{$name} = { heading => $h, fields => $f };
}

for my $cmd (@cmds) {
    my $name = $cmd->{name};
    my ($h) = grep { plain($_->{text}) =~ /^\s*\Q$name\E(?:\s|$)/ } @headings;
    ok($h, "$name: README.md has a heading for it")
        or next;
    my $f = fields(section($h));
    my $where = "README.md line " . ($h->{line} + 1);
    for my $label (@LABELS) {
        ok(defined $f->{$label} && plain($f->{$label}) =~ /\S/,
           "$name: $label is documented ($where)");
    }
    my $syntax = plain($f->{Syntax});
    like($syntax, qr/^\Q$name\E(?:\s|$)/, "$name: Syntax starts with $name");
    if ($cmd->{type} eq 'FLAG') {
        like($syntax, qr/^\Q$name\E\s+On\|Off\s*$/i,
             "$name: Syntax of a flag directive is '$name On|Off'");
    }
    my $context = lc plain($f->{Context});
    my @want = contexts_for($cmd->{where});
    my @have = grep { index($context, $_) >= 0 }
               ('server config', 'virtual host', 'directory', '.htaccess');
    is(join(', ', @have), join(', ', @want),
       "$name: Context matches the command table ($cmd->{where})");
    my $override = plain($f->{Override});
    my @over = overrides_for($cmd->{where});
    is(join(' ', grep { $override =~ /\b\Q$_\E\b/i }
                 sort values(%override_name), 'None'),
       join(' ', sort @over),
       "$name: Override is " . join(', ', @over));
    is(plain($f->{Module}), 'mod_expect', "$name: Module is mod_expect");
}

my %in_table = map { $_->{name} => 1 } @cmds;
my @stray = grep { plain($documented{$_}{fields}{Module}) eq 'mod_expect'
                   && !$in_table{$_} } sort keys %documented;
is("@stray", '', 'README.md documents no directive the module does not have');

# ------------------------------------------------------- httpd -t

my $httpd = ExpectServer::httpd();
my $so = ExpectServer::module_so();

ok(@examples > 0, 'README.md has ```apache configuration examples');
ok(-x $httpd, "httpd binary $httpd") or do { done_testing(); exit 1 };
ok(-f $so, "$so is built") or do {
    diag('run `make` first');
    done_testing();
    exit 1;
};

my $tmp = tempdir('mod_expect-docs-t.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $root = "$tmp/root";
mkdir $_ or die "cannot create $_: $!\n" for $root, "$root/logs", "$root/htdocs";

# An MPM, the module under test, and what the examples may use.
my $head = ExpectServer::config_text($root, modules => [qw(
    authz_host authz_user authn_core authn_file auth_basic
    access_compat alias dir env expires filter headers http2 mime proxy
    proxy_http remoteip reqtimeout rewrite setenvif status
)], lines => ['ServerName 127.0.0.1', qq{DocumentRoot "$root/htdocs"}]);

# Directives httpd accepts only at the top level of the configuration.
my %top_only = map { lc($_) => 1 } qw(
    LoadModule LoadFile Listen ListenBacklog VirtualHost ServerRoot PidFile
    Mutex User Group DefaultRuntimeDir ServerLimit ThreadLimit StartServers
    MaxRequestWorkers MinSpareThreads MaxSpareThreads MinSpareServers
    MaxSpareServers ThreadsPerChild MaxConnectionsPerChild ScriptSock
    GracefulShutdownTimeout CoreDumpDirectory AcceptFilter Protocols
    H2MaxWorkers H2MinWorkers
);
# Directives httpd accepts only in <Directory> and the like.
my %dir_only = map { lc($_) => 1 } qw(
    AllowOverride AllowOverrideList Options Require RequireAll RequireAny
    RequireNone AuthType AuthName AuthUserFile AuthGroupFile Order Allow
    Deny Satisfy
);

sub directives_of {
    my $text = shift;
    my @d;
    for (split /\n/, $text) {
        next if /^\s*(?:#|$)/;
        push @d, lc $1 if /^\s*<?\/?\s*([A-Za-z][\w]*)/;
    }
    return @d;
}

sub wrap {
    my $text = shift;
    my @d = directives_of($text);
    return ("$text\n", 'top level') if grep { $top_only{$_} } @d;
    return (qq{<Directory "$root/htdocs">\n$text\n</Directory>\n}, '<Directory>')
        if @d && $dir_only{$d[0]};
    return ("<VirtualHost 127.0.0.1:*>\n$text\n</VirtualHost>\n",
            '<VirtualHost>');
}

my $n = 0;
sub configtest {
    my $fragment = shift;
    my $conf = sprintf '%s/example-%03d.conf', $tmp, ++$n;
    spew($conf, $head . $fragment);
    # The logging example writes to ${APACHE_LOG_DIR}, as Debian's
    # configuration does; give it a directory.
    local $ENV{APACHE_LOG_DIR} = "$root/logs";
    my ($ok, $out) = ExpectServer::configtest($root, $conf);
    return ($ok, $out, $conf);
}

# The check itself must be able to fail: a bad value is refused, naming the
# directive, and the module's directives are known at all.
{
    my ($ok, $out) = configtest(
        "<VirtualHost 127.0.0.1:*>\nExpectContinue Later\n</VirtualHost>\n");
    ok(!$ok && $out =~ /ExpectContinue/,
       'the wrapper configuration refuses "ExpectContinue Later", naming the directive')
        or show($out);
    ($ok, $out) = configtest("<VirtualHost 127.0.0.1:*>\nExpectContinue Immediate\n</VirtualHost>\n");
    ok($ok, 'the wrapper configuration accepts "ExpectContinue Immediate"')
        or show($out);
}

for my $ex (@examples) {
    my ($fragment, $how) = wrap($ex->{text});
    my $name = "README.md line $ex->{line}: the ```apache example passes "
             . "httpd -t (checked at $how)";
    if (my $why = directives_missing_in($ex->{text})) {
        SKIP: { skip("$name: $why", 1) }
        next;
    }
    my ($ok, $out, $conf) = configtest($fragment);
    ok($ok, $name)
        or show("httpd -t said:", $out, "the fragment as checked:", $fragment);
}

done_testing();
