package ExpectRelease;

# What the httpd under test lets the module do, release by release: the one
# place where the suite decides not to run a case because of the httpd
# release it runs against (README: Compatibility). Each function returns
# the reason, or undef when the release has what the case needs. A table
# row says  skip => ExpectRelease::h2_capture_missing()  and the runner
# reports its assertions as skipped with that reason.

use strict;
use warnings FATAL => 'all';

use Exporter qw(import);
use Apache::Test ();

our @EXPORT_OK = qw(h2_capture_missing proxy_forwards_expect
                    directive_missing directives_missing_in stock_keeps_cl_te
                    tls_unbuilt wire_rules_unmodelled);

sub at_least { Apache::Test::have_min_apache_version($_[0]) }

# httpd 2.4.49 to 2.4.54 check Expect of an HTTP/2 request before any
# module can see it (mod_http2 copies the headers after pre_read_request and
# checks them at once).
sub h2_capture_missing {
    return at_least('2.4.49') && !at_least('2.4.55')
        ? 'httpd 2.4.49 to 2.4.54 answer an HTTP/2 Expect other than '
          . '100-continue with their own 417 before any module runs'
        : undef;
}

# Before 2.4.54, mod_proxy_http forwards the Expect field it is given to the
# backend even when it does not run its own 100-continue exchange.
sub proxy_forwards_expect {
    return !at_least('2.4.54')
        ? 'mod_proxy_http before httpd 2.4.54 forwards the Expect field it '
          . 'is given to the backend'
        : undef;
}

# A directive the case's configuration needs, from the release that has it.
my %since = (Proxy100Continue => '2.4.40');

sub directive_missing {
    my $name = shift;
    my $release = $since{$name} or die "no release known for $name\n";
    return !at_least($release)
        ? "$name is httpd $release and later"
        : undef;
}

# The same for every such directive a piece of configuration uses.
sub directives_missing_in {
    my $text = shift;
    for my $name (sort keys %since) {
        my $why = $text =~ /^\s*\Q$name\E\b/mi && directive_missing($name);
        return $why if $why;
    }
    return undef;
}

# httpd 2.4.37's own mod_ssl does not load with OpenSSL 3: a build of that
# release from its sources has none (a distribution's 2.4.37 has its own).
sub tls_unbuilt {
    return !at_least('2.4.38') && !Apache::Test::have_module('ssl')
        ? "httpd 2.4.37's own mod_ssl does not load with OpenSSL 3, so this "
          . 'build has no TLS; TLS is tested on the later releases'
        : undef;
}

# Before 2.4.44, httpd's own request parsing keeps a connection whose
# request had both Content-Length and Transfer-Encoding, and takes a
# Content-Length with a sign or spaces: framing cases about what httpd
# itself does, not the module.
sub stock_keeps_cl_te {
    return !at_least('2.4.44')
        ? 'httpd before 2.4.44 keeps the connection after Content-Length '
          . 'with Transfer-Encoding, and reads a lax Content-Length'
        : undef;
}

# The wire fuzzer's rules (fuzz/wire/lib/Wire/Rules.pm) describe stock
# httpd as it answers from 2.4.55 on, and earlier stock answers otherwise
# where the rules do not follow it: it leaves an HTTP/2 Expect to the
# check the module cannot reach (2.4.49 to 2.4.54), sends its 417 after a
# failed body discard under a 400 status line and keeps the connection of
# any other answer whose discard fails (before 2.4.53), and answers its 417
# after the post_read_request hooks (before 2.4.49).  The module's part of
# those cases is tested on every release by the suite's own files.
sub wire_rules_unmodelled {
    return !at_least('2.4.55')
        ? 'the wire rules describe stock httpd from 2.4.55 on; this '
          . "release's own answers to Expect, HTTP/2 and failed body reads differ"
        : undef;
}

1;
