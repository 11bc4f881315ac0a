# The composition table: each policy of mod_expect beside each directive
# or module users combine it with, and stock httpd's answer beside the
# module's, measured.
#
#   policies    Defer, Immediate, Reject, ExpectAllow x-foo, ExpectUnknown
#               Ignore, ExpectEngine Off: one virtual host each
#               (t/conf/compose.conf.in, cmp_*), with the same neighbours
#   neighbours  t/conf/compose/neighbours.conf: LimitRequestBody (under and
#               over, Content-Length and chunked), Require, Basic auth,
#               mod_rewrite [F] and [R] (server and directory context),
#               Redirect, ErrorDocument 417 (string, local URL, remote URL),
#               mod_reqtimeout (a client that stalls), SetInputFilter
#               DEFLATE (a gzip body), mod_dav PUT, mod_cgid, mod_proxy_fcgi
#               to PHP-FPM, mod_proxy_http (with and without its own
#               100-continue exchange with the backend)
#   requests    Expect: 100-continue (the client holds its body back until
#               100 Continue, or a second), Expect: x-foo (the body goes at
#               once), Expect: 100-continue, x-foo (held back)
#   stock       a scratch httpd started here without the module, on the same
#               neighbours file: every request is sent to it as well, and
#               its answer is a row of the table too
#
# Each row asserts the status, the Content-Type, whether 100 Continue came,
# what the handler received (length and MD5 from the handler's own report:
# t/htdocs/cgi/echo.pl, t/htdocs/compose/fpm/echo.php, the backend's
# record, the file mod_dav wrote; or that nothing reached it),
# EXPECT_OUTCOME (from the access log), and the connection: a request sent
# after the answer is answered, or is not and the server closes. What each
# row expects follows from SPEC.md's rules ("Decision", "Connection
# safety", "The 417 response") for the module, and from what stock httpd
# 2.4 does (SPEC.md, "What it is") for the stock rows: verdict() and
# answer() below.
#
# Then: mod_cache's quick handler serving a stored response to a request
# with Expect (per policy), OPTIONS * and TRACE with Expect: x-foo and a
# request pipelined behind, and mod_log_forensic (loaded before the
# module, t/TEST.PL) logging Expect under its own name.
#
# The table is long and many rows wait for a timeout (a client's second
# for a 100 that does not come, mod_reqtimeout's two seconds), so the
# exchanges run first, side by side in worker processes (one row, or one
# group of rows that must follow each other, per worker); the assertions
# then run in order on what they recorded. No assertion depends on how
# long anything took.
use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Digest::MD5 qw(md5_hex);
use File::Path qw(make_path remove_tree);
use File::Spec::Functions qw(catfile);
use File::Temp qw(tempdir);
use IO::Compress::Gzip qw(gzip $GzipError);
use IO::Socket::INET ();
use POSIX ();
use Storable qw(nstore retrieve);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectClient qw(escape);
use ExpectJSON;
use ExpectServer ();
use ExpectTable;
use ExpectTools qw(backend_port backend_start backend_stop backend_records
                   fpm_binary fpm_start fpm_stop);

$SIG{PIPE} = 'IGNORE';

# How long a client that sends Expect: 100-continue waits for the 100
# before it sends its body anyway (curl's default).
use constant WAIT => 1;
# Worker processes at a time, and the bound on the whole run.
use constant WORKERS => 16;
use constant RUN_GUARD => 300;

my $t_logs = Apache::Test::vars('t_logs');
my $docs   = Apache::Test::vars('documentroot');
my $state  = catfile($t_logs, 'compose');      # COMPOSE_STATE
my $neighbours = catfile(Apache::Test::vars('t_conf'), 'compose', 'neighbours.conf');

# ------------------------------------------------------------------ bodies

my $small = join '', map { sprintf "line %04d of a small upload.....\n", $_ } 1 .. 15;   # 495 bytes
my $big   = join '', map { sprintf "line %04d of an upload over the limit\n", $_ } 1 .. 110;   # 4180
my $limit = 1024;           # LimitRequestBody of /limit/
length $small < $limit && length $big > $limit or die "the bodies do not fit the limit\n";

sub chunked {
    my $b = shift;
    my $half = int(length($b) / 2);
    return sprintf "%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
        $half, substr($b, 0, $half), length($b) - $half, substr($b, $half);
}

sub gzipped {
    my $b = shift;
    my $z;
    gzip(\$b => \$z) or die "gzip: $GzipError\n";
    return $z;
}

# ---------------------------------------------------------------- policies

# name => the virtual host; 'stock' is the scratch httpd without the module
my @POLICIES = qw(Defer Immediate Reject Allow Ignore Off);
my %VHOST = (Defer => 'cmp_defer', Immediate => 'cmp_immediate', Reject => 'cmp_reject',
             Allow => 'cmp_allow', Ignore => 'cmp_ignore', Off => 'cmp_off');
my %POLICY_TEXT = (Defer => 'ExpectContinue Defer', Immediate => 'ExpectContinue Immediate',
                   Reject => 'ExpectContinue Reject', Allow => 'ExpectAllow x-foo',
                   Ignore => 'ExpectUnknown Ignore', Off => 'ExpectEngine Off',
                   stock => 'stock httpd');

# The requests: the Expect field, and whether the client holds its body
# back until 100 Continue (a client that sends 100-continue does).
my @KINDS = qw(wait ext both);
my %KIND = (
    wait => { expect => '100-continue',        waits => 1, text => 'Expect: 100-continue' },
    ext  => { expect => 'x-foo',               waits => 0, text => 'Expect: x-foo' },
    both => { expect => '100-continue, x-foo', waits => 1, text => 'Expect: 100-continue, x-foo' },
);

# What a policy decides for a kind of request with a body, before any
# neighbour has a say (SPEC.md, "Decision"):
#   serve    the request proceeds: hundred = 'read' (100 Continue when the
#            handler reads), 'early' (before the handler) or 'none'; seen =
#            the Expect field handlers see; extensions = what a proxied
#            backend gets; outcome = EXPECT_OUTCOME
#   refuse   the module's 417, unmet = the members that caused it
#   html417  httpd's own HTML 417: 'first' (stock: before any module runs,
#            access control included), 'fixups' (ExpectEngine Off: the
#            module answers like stock once the scope is known)
sub verdict {
    my ($policy, $kind) = @_;
    my $continue = $kind ne 'ext';
    my $foo      = $kind ne 'wait';
    if ($policy eq 'stock' || $policy eq 'Off') {
        return { html417 => $policy eq 'stock' ? 'first' : 'fixups' } if $foo;
        return { serve => 1, hundred => 'read', seen => '100-continue' };
    }
    my @unmet;
    push @unmet, '100-continue' if $continue && $policy eq 'Reject';
    push @unmet, 'x-foo' if $foo && $policy ne 'Allow' && $policy ne 'Ignore';
    return { refuse => 1, unmet => \@unmet } if @unmet;
    my @seen;
    push @seen, '100-continue' if $continue && $policy ne 'Immediate';
    push @seen, 'x-foo' if $foo && $policy eq 'Allow';
    return { serve => 1,
             hundred => !$continue ? 'none' : $policy eq 'Immediate' ? 'early' : 'read',
             seen => @seen ? join(', ', @seen) : undef,
             extensions => $foo && $policy eq 'Allow' ? 'x-foo' : undef,
             outcome => $continue ? ($policy eq 'Immediate' ? 'immediate' : 'continue')
                                  : $policy eq 'Allow' ? 'accepted' : 'ignored' };
}

# -------------------------------------------------------------- neighbours

my $HTML = 'text/html; charset=iso-8859-1';
# What depends on the httpd release (read in its sources):
# httpd checks Expect before the post_read_request hooks (2.4.49 and later;
# before, after them)
my $CHECK_FIRST = have_min_apache_version('2.4.49');
# a failed read of a body being discarded ends in an error response of its
# own (2.4.54: ap_finalize_request_protocol() passes the status on)
my $DISCARD_ERRORS = have_min_apache_version('2.4.54');
# mod_proxy_http removes Expect from what it sends the backend unless it
# runs its own 100-continue exchange (2.4.54; before, the field goes on as
# the handler sees it)
my $PROXY_DROPS_EXPECT = have_min_apache_version('2.4.54');
my $MOVED = 'http://elsewhere.invalid/moved';

# Each neighbour: the request (path, method, body, how it is framed) and
# what it does:
#   handler  echo (echo.pl), php (echo.php), backend (mod_proxy_http), dav
#   over     the body is over LimitRequestBody: 'declared' (Content-Length,
#            refused before anything is read) or 'found' (chunked, refused
#            while reading)
#   refuses  a status httpd or a module decides before the handler (with
#            location for a redirect); in_fixups: decided by a fixup
#            (mod_rewrite in directory context)
#   errdoc   ErrorDocument 417 of the scope: string, local or remote
#   format   ExpectErrorFormat of the scope (default JSON)
#   stall    the client sends half its body and stops (mod_reqtimeout)
#   exchange100  mod_proxy_http runs its own 100-continue exchange with the
#            backend, which never sends 100: the upload waits until the
#            worker's timeout (one second here), then 503 (from httpd
#            2.4.40, Proxy100Continue On; before, only with ping=)
#   group    the rows of this neighbour take turns (one backend, one
#            connection at a time, each held a second)
my @NEIGHBOURS = (
    { name => 'mod_cgid', path => '/cgid/echo', forensic => 1 },
    { name => 'LimitRequestBody, under the limit, Content-Length', path => '/limit/echo' },
    { name => 'LimitRequestBody, under the limit, chunked', path => '/limit/echo', chunked => 1 },
    { name => 'LimitRequestBody, over the limit, Content-Length', path => '/limit/echo',
      body => $big, over => 'declared' },
    { name => 'LimitRequestBody, over the limit, chunked', path => '/limit/echo',
      body => $big, chunked => 1, over => 'found' },
    (map { my ($format, $path) = @$_;
           ({ name => "LimitRequestBody, over the limit, Content-Length, ExpectErrorFormat $format",
              path => "$path/echo", body => $big, over => 'declared', format => $format },
            { name => "LimitRequestBody, over the limit, chunked, ExpectErrorFormat $format",
              path => "$path/echo", body => $big, chunked => 1, over => 'found',
              format => $format }) }
     ['Problem', '/limit-problem'], ['HTML', '/limit-html']),
    { name => 'Require all denied', path => '/require/echo', refuses => 403 },
    { name => 'Basic auth without credentials', path => '/auth/echo', refuses => 401 },
    { name => 'RewriteRule [F], server context', path => '/rws-forbid/echo', refuses => 403 },
    { name => 'RewriteRule [F], directory context', path => '/rwd-forbid/echo',
      refuses => 403, in_fixups => 1 },
    { name => 'RewriteRule [R], server context', path => '/rws-redirect/echo',
      refuses => 302, location => $MOVED },
    { name => 'RewriteRule [R], directory context', path => '/rwd-redirect/echo',
      refuses => 302, location => $MOVED, in_fixups => 1 },
    { name => 'Redirect', path => '/redirect/echo', refuses => 302, location => "$MOVED/echo" },
    { name => 'ErrorDocument 417 string', path => '/ed-string/echo', errdoc => 'string' },
    { name => 'ErrorDocument 417 local URL', path => '/ed-local/echo', errdoc => 'local' },
    { name => 'ErrorDocument 417 remote URL', path => '/ed-remote/echo', errdoc => 'remote' },
    { name => 'RequestReadTimeout body=2, the client stalls', path => '/cgid/echo', stall => 1 },
    { name => 'SetInputFilter DEFLATE, gzip body', path => '/deflate/echo', gzip => 1 },
    { name => 'mod_dav PUT', path => '/dav/', method => 'PUT', handler => 'dav' },
    { name => 'mod_proxy_fcgi to PHP-FPM', path => '/fpm/echo.php', handler => 'php' },
    { name => 'mod_proxy_http', path => '/proxy/', handler => 'backend' },
    { name => 'mod_proxy_http with its 100-continue exchange (Proxy100Continue On)',
      path => '/proxy100/', handler => 'backend', group => 'proxy100',
      exchange100 => have_min_apache_version('2.4.40') },
);

# What ErrorDocument 417 makes of the module's 417 (the scope's)
my %ERRDOC = (
    string => { status => 417, ctype => $HTML,
                body_like => qr/\Acompose: send the request again without Expect\z/ },
    local  => { status => 417, ctype => 'application/json',
                body_like => qr/compose: local error document for 417/ },
    remote => { status => 302, ctype => $HTML, location => 'http://errdoc.invalid/expect-help' },
);

# The module's own 417 bodies (ExpectErrorFormat); the HTML one is httpd's
# 417 page, never a page about a second error.
my %FORMAT = (
    JSON    => { status => 417, ctype => 'application/json', unmet => 1 },
    Problem => { status => 417, ctype => 'application/problem+json', unmet => 1 },
    HTML    => { status => 417, ctype => $HTML,
                 body_like => qr/\A(?!.*Additionally).*<title>417 Expectation Failed<\/title>/s },
);

my %HANDLER_CTYPE = (echo => 'application/json', php => 'application/json',
                     backend => 'application/json', dav => 'text/html; charset=ISO-8859-1');

# The answer to one request: the want hash of its row.
sub answer {
    my ($n, $policy, $kind) = @_;
    my $v = verdict($policy, $kind);
    my $waits = $KIND{$kind}{waits};
    my $handler = $n->{handler} || 'echo';
    my $module = $policy ne 'stock';
    my %none = (interim => '', handler => 'none', outcome => undef);
    my $kept_unless_waiting = $waits ? 'close' : 'keep';

    # Stock answers anything but 100-continue before any module runs, and
    # reads the body first (discarding it; a client that holds its body
    # back waits its second for nothing). A stalled body ends that read
    # with mod_reqtimeout's 408, "additionally" a 417 (before 2.4.54, the
    # 417 once the read has failed).
    if (($v->{html417} // '') eq 'first') {
        return { status => 408, ctype => $HTML, %none, conn => 'close',
                 body_like => qr/Additionally, a 417 Expectation Failed/ }
            if $n->{stall} && $DISCARD_ERRORS;
        return { status => 417, ctype => $HTML, %none, conn => 'close' };
    }

    # A status decided before the handler stays what it is, with no 100
    # (SPEC.md, "Connection safety"); the unsent body of a client that
    # waits closes the connection, a body that was sent is discarded.
    if ($n->{refuses}) {
        return { status => $n->{refuses}, ctype => $HTML, %none,
                 ($n->{location} ? (location => $n->{location}) : ()),
                 conn => $kept_unless_waiting };
    }

    # The body cannot be read (its declared length is over the limit, it
    # is found over the limit, or it stalls): a 417 goes out anyway, with
    # Connection: close.
    my $unreadable = $n->{over} || $n->{stall};
    if ($v->{refuse}) {
        my $body = $n->{errdoc} ? $ERRDOC{ $n->{errdoc} } : $FORMAT{ $n->{format} // 'JSON' };
        return { %none, outcome => 'rejected', %$body,
                 ($body->{unmet} ? (unmet => $v->{unmet}) : ()),
                 conn => $unreadable ? 'close' : $kept_unless_waiting };
    }
    # ExpectEngine Off: httpd's own 417 once access control has passed,
    # with the virtual host's configuration, as stock answers it (the
    # scope's ErrorDocument does not apply); the body is not read and the
    # connection closes.
    if ($v->{html417}) {
        return { %none, status => 417, ctype => $HTML, conn => 'close' };
    }

    # Served. 100 Continue when the handler reads, or before it; none
    # for a body httpd refuses for its declared length (Immediate then
    # says 'continue'). A body found over the limit, or one that stalls,
    # ends in 413 or 408 and a closed connection.
    my $outcome = $module ? $v->{outcome} : undef;
    my $hundred = $v->{hundred};
    if (($n->{over} // '') eq 'declared') {
        $outcome = 'continue' if $outcome && $outcome eq 'immediate';
        return { status => 413, ctype => $HTML, %none, outcome => $outcome, conn => 'close' };
    }
    my $interim = $hundred eq 'none' ? '' : '100';
    if ($n->{over}) {
        return { status => 413, ctype => $HTML, %none, interim => $interim,
                 outcome => $outcome, conn => 'close' };
    }
    if ($n->{stall}) {
        return { status => 408, ctype => $HTML, %none, interim => $interim,
                 outcome => $outcome, conn => 'close' };
    }
    # 100-continue deferred, so mod_proxy_http passes it to the backend and
    # waits for its 100 (README, "In front of a mod_proxy_http backend");
    # the backend gets the header block and never the body.
    if ($n->{exchange100} && $hundred eq 'read') {
        return { status => 503, ctype => $HTML, %none, outcome => $outcome,
                 handler => { bytes => 0, expect => $v->{seen} }, conn => 'close' };
    }
    my $payload = $n->{body} // $small;
    my %report = (bytes => length $payload, md5 => md5_hex($payload));
    if ($handler eq 'echo' || $handler eq 'php') {
        %report = (%report, expect => $v->{seen}, outcome => $outcome);
    }
    elsif ($handler eq 'backend') {
        # 100-continue is hop-by-hop; the accepted extensions go on
        $report{expect} = $PROXY_DROPS_EXPECT ? $v->{extensions} : $v->{seen};
    }
    return { status => $handler eq 'dav' ? 201 : 200, ctype => $HANDLER_CTYPE{$handler},
             interim => $interim, handler => \%report, outcome => $outcome, conn => 'keep' };
}

# A short text of an answer, for the rows' "stock" notes and the summary.
sub describe {
    my $w = shift;
    my $ctype = $w->{ctype} // '';
    $ctype =~ s/;.*//;
    return join ', ', "$w->{status} $ctype",
        ($w->{interim} ? '100 Continue' : ()),
        (ref $w->{handler} ? "handler got $w->{handler}{bytes} bytes" : ()),
        ($w->{conn} eq 'keep' ? 'connection kept' : 'connection closed');
}

# -------------------------------------------------------------------- rows

my @rows;       # the table, in order
my @groups;     # rows whose exchanges run one after the other
my $keys = 0;

sub new_key { return sprintf 'c%03d', ++$keys }

# The bytes of a request.
sub request_bytes {
    my ($method, $path, $key, $headers, $body) = @_;
    my $head = join "\r\n", "$method $path HTTP/1.1", 'Host: localhost', "X-Row: $key",
                            @$headers;
    return ("$head\r\n\r\n", $body // '');
}

for my $n (@NEIGHBOURS) {
    for my $kind (@KINDS) {
        my @set;
        for my $policy ('stock', @POLICIES) {
            my $key = new_key();
            my $payload = $n->{body} // $small;
            my $sent = $n->{gzip} ? gzipped($payload) : $payload;
            my @h = ("Expect: $KIND{$kind}{expect}");
            push @h, 'Content-Encoding: gzip' if $n->{gzip};
            push @h, 'Content-Type: application/octet-stream';
            push @h, "X-Test-Id: $key" if ($n->{handler} // '') eq 'backend';
            if ($n->{chunked}) {
                push @h, 'Transfer-Encoding: chunked';
                $sent = chunked($sent);
            }
            else {
                push @h, 'Content-Length: ' . length $sent;
            }
            my $path = $n->{path};
            $path .= "$key.bin" if ($n->{handler} // '') eq 'dav';
            $path .= $key if ($n->{handler} // '') eq 'backend';
            my ($head, $body) = request_bytes($n->{method} || 'POST', $path, $key, \@h, $sent);
            my $want = answer($n, $policy, $kind);
            # stock answers its 417 before post_read_request, where
            # mod_log_forensic logs (from 2.4.49; before, after it)
            $want->{forensic} = $policy eq 'stock' && $kind ne 'wait' && $CHECK_FIRST
                                ? 'none' : $KIND{$kind}{expect}
                if $n->{forensic};
            push @set, { key => $key, policy => $policy, neighbour => $n, kind => $kind,
                         name => "$n->{name}; $KIND{$kind}{text}; $POLICY_TEXT{$policy}",
                         head => $head, body => $body, waits => $KIND{$kind}{waits},
                         stall => $n->{stall}, handler => $n->{handler} || 'echo',
                         want => $want };
        }
        my $stock = describe($set[0]{want});
        $_->{stock} = $_->{policy} eq 'stock' ? 'this row' : $stock for @set;
        push @rows, @set;
        if ($n->{group}) {
            my $last = $groups[-1];
            if (($last->[0]{neighbour} // 0) == $n) { push @$last, @set }
            else                                     { push @groups, [@set] }
        }
        else {
            push @groups, map { [$_] } @set;
        }
    }
}

# mod_cache: a stored response, served by the quick handler before any
# per-directory hook, to a request with Expect. First a request without
# Expect stores the page; then Expect: x-foo must get the policy's answer
# (the module's 417, not the stored 200; a stored 200 where x-foo is
# accepted or ignored), and a bodiless 100-continue the stored page (the
# module keeps the connection; stock closes it).
my $page = '/compose/cache/page.txt';
for my $policy ('stock', @POLICIES) {
    my @group;
    my $v = verdict($policy, 'ext');
    my $module = $policy ne 'stock';
    my $stored = { status => 200, ctype => 'text/plain', interim => '',
                   body => "a page mod_cache keeps\n" };
    my $foo = $v->{refuse} ? { status => 417, ctype => 'application/json', interim => '',
                               unmet => ['x-foo'], outcome => 'rejected', conn => 'keep' }
            : $v->{html417} ? { status => 417, ctype => $HTML, interim => '', outcome => undef,
                                conn => 'close' }
            : { %$stored, cache => qr/^HIT\b/, outcome => $v->{outcome}, conn => 'keep' };
    my $cont = $policy eq 'Reject'
             ? { status => 417, ctype => 'application/json', interim => '',
                 unmet => ['100-continue'], outcome => 'rejected', conn => 'keep' }
             : { %$stored, cache => qr/^HIT\b/,
                 outcome => $module && $policy ne 'Off' ? 'ignored' : undef,
                 conn => $module && $policy ne 'Off' ? 'keep' : 'close' };
    for my $case (['stored by a request without Expect', [],
                   { %$stored, outcome => undef, conn => 'keep' }],
                  ['Expect: x-foo', ['Expect: x-foo'], $foo],
                  ['Expect: 100-continue without a body', ['Expect: 100-continue'], $cont]) {
        my ($what, $h, $want) = @$case;
        my $key = new_key();
        my ($head) = request_bytes('GET', $page, $key, $h);
        push @group, { key => $key, policy => $policy, head => $head, body => '',
                       name => "mod_cache quick handler, $what; $POLICY_TEXT{$policy}",
                       want => $want };
    }
    my $stock = describe($group[1]{want});
    $_->{stock} = $policy eq 'stock' ? 'this row' : "for x-foo: $stock" for @group;
    push @rows, @group;
    push @groups, \@group;
}

# OPTIONS * and TRACE with Expect: x-foo, and a request pipelined behind in
# the same write. httpd answers both in map_to_storage, before access
# control and fixups: they are judged there. Where x-foo is refused, the
# 417 keeps the connection (no body) and the next request is answered;
# stock and ExpectEngine Off answer their HTML 417 and close, the next
# request is lost.
my $pipelined = "GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
for my $method ('OPTIONS', 'TRACE') {
    my $target = $method eq 'OPTIONS' ? '*' : '/proto/index.txt';
    for my $policy ('stock', @POLICIES) {
        my $v = verdict($policy, 'ext');
        my $key = new_key();
        my ($head) = request_bytes($method, $target, $key, ['Expect: x-foo']);
        my $served = $method eq 'OPTIONS' ? { status => 200, ctype => undef }
                                          : { status => 200, ctype => 'message/http' };
        my $want = $v->{refuse} ? { status => 417, ctype => 'application/json',
                                    unmet => ['x-foo'], outcome => 'rejected',
                                    pipelined => 200, conn => 'keep' }
                 : $v->{html417} ? { status => 417, ctype => $HTML, outcome => undef,
                                     pipelined => 'none', conn => 'close' }
                 : { %$served, outcome => $v->{outcome}, pipelined => 200, conn => 'keep' };
        my $row = { key => $key, policy => $policy, head => $head . $pipelined, body => '',
                    pipeline => 1, head_only => 0,
                    name => "$method $target with Expect: x-foo, a request pipelined behind; "
                            . $POLICY_TEXT{$policy},
                    want => { interim => '', %$want } };
        push @rows, $row;
        push @groups, [$row];
    }
}
for my $r (grep { $_->{pipeline} } @rows) {
    my ($stock) = grep { $_->{pipeline} && $_->{policy} eq 'stock'
                         && substr($_->{name}, 0, 5) eq substr($r->{name}, 0, 5) } @rows;
    $r->{stock} = $r->{policy} eq 'stock' ? 'this row'
                : "$stock->{want}{status}, the pipelined request is lost, connection closed";
}

# ------------------------------------------------------------------ checks

define handler => sub {
    my $want = shift;
    if (!ref $want) {
        return { label => 'nothing of the handler reached the client (and nothing was '
                          . 'proxied or stored)',
                 want => 'none', got => sub { $_[0]{report} ? escape(json_text($_[0]{report}))
                                                            : 'none' } };
    }
    my %label = (bytes   => $want->{bytes} ? "the handler received all $want->{bytes} bytes"
                                           : 'the backend got the header block and no body',
                 md5     => '... the same bytes (MD5)',
                 expect  => 'the handler sees Expect: ' . ($want->{expect} // '(none)'),
                 outcome => 'the handler sees EXPECT_OUTCOME '
                            . ($want->{outcome} // '(not set)'));
    return map { my $k = $_;
                 +{ label => $label{$k}, want => $want->{$k},
                    got => sub { ($_[0]{report} || {})->{$k} } } }
           grep { exists $want->{$_} } qw(bytes md5 expect outcome);
};
define logged_outcome => sub {
    my $want = shift;
    return { label => 'EXPECT_OUTCOME ' . ($want // 'not set') . ' (access log)',
             want => $want // '-', got => sub { $_[0]{logged} } };
};
define unmet => sub {
    return { label => 'the 417 names what was unmet', want => $_[0],
             got => sub { json_object($_[0]{body})->{unmet} } };
};
define location => sub {
    return { label => "Location: $_[0]", want => $_[0],
             got => sub { scalar $_[0]{res}->header('Location') } };
};
define cache => sub {
    return { label => 'served by mod_cache', want => $_[0],
             got => sub { scalar $_[0]{res}->header('X-Cache') } };
};
define pipelined => sub {
    my $want = shift;
    return $want eq 'none'
        ? { label => 'the pipelined request is never answered', want => 'none',
            got => sub { $_[0]{pipelined} ? $_[0]{pipelined}->code : 'none' } }
        : { label => 'the pipelined request is answered', want => $want,
            got => sub { $_[0]{pipelined} ? $_[0]{pipelined}->code : 'none' } };
};
define forensic => sub {
    my $want = shift;
    return ({ label => $want eq 'none' ? 'mod_log_forensic logged no request'
                                       : "mod_log_forensic logged Expect:$want",
              want => $want, got => sub { $_[0]{forensic_expect} // 'none' } },
            { label => '... and nothing under a temporary name', want => '',
              got => sub { ($_[0]{forensic} // '') =~ /(Expec~[^|]*|\(mod_expect\)[^|]*)/
                           ? $1 : '' } });
};
# conn => 'keep': a request sent after the answer is answered on the same
# connection; 'close': it is not, and the server closes the connection.
define conn => sub {
    my $want = shift;
    return $want eq 'keep'
        ? ({ label => 'the connection stays: the next request is answered', want => 200,
             got => sub { $_[0]{next} ? $_[0]{next}->code : undef } },
           { label => '... with its own response', want => "hello\n",
             got => sub { $_[0]{next} ? $_[0]{next}->content : undef } })
        : ({ label => 'bytes sent after the answer are never answered', want => '',
             got => sub { $_[0]{next} ? escape($_[0]{next}->as_string) : escape($_[0]{rest}) } },
           { label => 'the server closes the connection', want => 1, cmp => 'ok',
             got => sub { $_[0]{eof} } });
};
define setup => sub {
    return map { my $what = $_;
                 +{ label => $what, want => 1, cmp => 'ok',
                    got => sub { $_[0]{$what} }, diag => sub { $_[0]{error} // '' } } }
           @{ $_[0] };
};

# -------------------------------------------------------------- exchanges

my %server;     # policy => [host, port]; 'stock' => the scratch httpd

# One row's request on a connection of its own, then a request after the
# answer: what came back.
sub exchange_row {
    my $row = shift;
    my ($host, $port) = @{ $server{ $row->{policy} } };
    my $c = ExpectClient->new($host, $port);
    my $body = $row->{stall} ? substr($row->{body}, 0, int(length($row->{body}) / 2))
                             : $row->{body};
    my (@interim, $final);
    $c->send($row->{head});
    if ($row->{waits}) {
        if ($c->readable(WAIT)) {
            my $first = $c->response;
            if ($first && ($first->code // '') =~ /^1\d\d$/) {
                push @interim, $first->code;
                $c->send($body);
            }
            else {
                $final = $first;        # a final answer: the body stays unsent
            }
        }
        else {
            $c->send($body);
        }
    }
    elsif (length $body) {
        $c->send($body);
    }
    if (!$final) {
        my @more;
        ($final, @more) = $c->final;
        push @interim, map { $_->code } @more;
    }
    my %r = (res => $final || HTTP::Response->parse(''), interim => [@interim]);
    $r{body} = $final ? $final->content : '';
    if ($row->{pipeline} && $final) {
        ($r{pipelined}) = $c->final;
    }
    # the request after the answer
    if ($final) {
        $c->send("GET /proto/index.txt HTTP/1.1\r\nHost: localhost\r\nX-Row: $row->{key}-next\r\n\r\n");
        ($r{next}) = $c->final;
    }
    $r{rest} = $r{next} ? '' : $c->rest;
    $r{eof} = $c->{eof};
    $c->close;
    return \%r;
}

# About how many seconds a row's exchange waits for a timeout: a stalled
# body (mod_reqtimeout), mod_proxy_http's wait for the backend's 100, a
# client's wait for a 100 that stock httpd never sends.
sub cost {
    my $row = shift;
    my $n = $row->{neighbour} || {};
    return 5 if $n->{stall};
    return 1.5 if $n->{group};
    return 1 if $row->{waits} && $row->{policy} eq 'stock' && $row->{kind} eq 'both';
    return 0.1;
}

# Every exchange, WORKERS at a time, the groups that wait longest first;
# returns key => record.
sub run_exchanges {
    my $dir = tempdir(CLEANUP => 1);
    my (%running, %records);
    my $deadline = time + RUN_GUARD;
    my %cost = map { my $g = $_; ($g => eval { my $c = 0; $c += cost($_) for @{ $groups[$g] }; $c }) }
               0 .. $#groups;
    my $reap = sub {
        for my $pid (keys %running) {
            delete $running{$pid} if waitpid($pid, POSIX::WNOHANG()) == $pid;
        }
    };
    for my $i (sort { $cost{$b} <=> $cost{$a} || $a <=> $b } 0 .. $#groups) {
        while (keys %running >= WORKERS && time < $deadline) {
            $reap->();
            select undef, undef, undef, 0.02 if keys %running >= WORKERS;
        }
        my $pid = fork // die "fork: $!\n";
        if (!$pid) {
            my %out;
            for my $row (@{ $groups[$i] }) {
                $out{ $row->{key} } = eval { exchange_row($row) }
                                      // { error => $@, res => HTTP::Response->parse(''),
                                           interim => [], body => '' };
            }
            nstore \%out, "$dir/$i";
            POSIX::_exit(0);    # no END blocks: they belong to the parent
        }
        $running{$pid} = 1;
    }
    while (keys %running && time < $deadline) {
        $reap->();
        select undef, undef, undef, 0.05 if keys %running;
    }
    for my $pid (keys %running) {       # still running after the guard time
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    for my $i (0 .. $#groups) {
        my $out = -f "$dir/$i" ? retrieve("$dir/$i") : {};
        %records = (%records, %$out);
    }
    return \%records;
}

# What the logs, the backend and the DAV store say about each row.
sub log_lines {
    my $file = shift;
    open my $fh, '<', $file or return ();
    return <$fh>;
}

sub add_findings {
    my ($records, $logs, $dav) = @_;
    my (%logged, %forensic);
    for my $dir (@$logs) {
        for (log_lines(catfile($dir, 'compose_access_log'))) {
            $logged{$1} = $2 if /^(c\d+) \d+ (\S+)$/;
        }
        for (log_lines(catfile($dir, 'compose_forensic_log'))) {
            chomp;
            $forensic{$1} = $_ if /^\+[^|]*\|.*\|X-Row:(c\d+)(?:\||$)/;
        }
    }
    my %backend = map { ($_->{test_id} // '') => $_ }
                  map { backend_records(catfile($state, $_)) } qw(backend.jsonl backend100.jsonl);
    for my $row (@rows) {
        my $r = $records->{ $row->{key} } ||= { res => HTTP::Response->parse(''), interim => [] };
        $r->{body} //= '';
        $r->{logged} = $logged{ $row->{key} };
        if (my $line = $forensic{ $row->{key} }) {
            $r->{forensic} = $line;
            my @expect = map { /^Expect:(.*)$/i ? $1 : () } split /\|/, $line;
            $r->{forensic_expect} = @expect ? join(', ', map { s/%2c/,/gir } @expect) : '';
        }
        my $handler = $row->{handler} // 'echo';
        if ($handler eq 'backend') {
            my $b = $backend{ $row->{key} };
            $r->{report} = $b ? { map { $_ => $b->{$_} } qw(bytes md5 expect) } : undef;
        }
        elsif ($handler eq 'dav') {
            my $file = catfile($dav->{ $row->{policy} eq 'stock' ? 'stock' : 'module' },
                               "$row->{key}.bin");
            if (open my $fh, '<:raw', $file) {
                local $/;
                my $content = <$fh>;
                $r->{report} = { bytes => length $content, md5 => md5_hex($content) };
            }
        }
        else {
            my $j = json_object($r->{body});
            $r->{report} = exists $j->{bytes} ? $j : undef;
        }
    }
}

# ------------------------------------------------------------------ servers

my ($fpm, $be, $be100, $stock_conf, $stock_dir, $stock_pid);

END {
    local $?;       # the test's exit status is Test::More's, not a stop's
    if ($stock_conf) {
        ExpectServer::ctl($stock_conf, 'stop');
        for (1 .. 100) { last unless $stock_pid && kill 0, $stock_pid; select undef, undef, undef, 0.1 }
    }
    fpm_stop($fpm) if $fpm;
    backend_stop($be) if $be;
    backend_stop($be100) if $be100;
    remove_tree($state) if -d $state;
}

# The user httpd's children (and PHP-FPM's workers) run as when started
# as root; the directories they write to are theirs.
my ($user, $group) = $> == 0 ? ('nobody', getgrnam('nogroup') ? 'nogroup' : 'nobody') : ();

sub writable_dir {
    my $dir = shift;
    make_path($dir);
    chmod 0755, $dir;
    if ($user) {
        my ($uid, $gid) = (getpwnam($user))[2, 3];
        chown $uid, $gid, $dir;
    }
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
                                  ReuseAddr => 1) or die "no free port: $!\n";
    return $s->sockport;
}

sub start_stock {
    $stock_dir = tempdir(CLEANUP => 1);
    chmod 0755, $stock_dir;
    make_path("$stock_dir/logs");
    writable_dir("$stock_dir/state/$_") for qw(dav cache);
    writable_dir("$stock_dir/state");
    my $port = free_port();
    $stock_conf = ExpectServer::config($stock_dir, expect => 0,
        modules => [qw(mime alias auth_basic authn_core authn_file authz_host authz_user
                       headers setenvif cgid rewrite reqtimeout deflate dav dav_fs
                       proxy proxy_http proxy_fcgi cache cache_disk log_forensic)],
        lines => [
            'ServerName 127.0.0.1',
            "Listen 127.0.0.1:$port",
            ($user ? ("User $user", "Group $group") : ()),
            'LogLevel info',
            'KeepAlive On',
            'TypesConfig "' . catfile(Apache::Test::vars('t_conf'), 'mime.types') . '"',
            qq{ScriptSock "$stock_dir/cgisock"},
            qq{Define COMPOSE_DOCS "$docs"},
            qq{Define COMPOSE_LOGS "$stock_dir/logs"},
            qq{Define COMPOSE_STATE "$stock_dir/state"},
            qq{Define COMPOSE_FPM "$fpm->{socket}"},
            "Define COMPOSE_BACKEND $be->{port}",
            "Define COMPOSE_BACKEND_100 $be100->{port}",
            "<VirtualHost 127.0.0.1:$port>",
            '    ServerName localhost',
            qq{    Include "$neighbours"},
            '</VirtualHost>',
        ]);
    ExpectServer::ctl($stock_conf, 'start') or die "stock httpd did not start: "
        . join('', log_lines("$stock_dir/error_log")) . "\n";
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port);
        if ($s) {
            close $s;
            my @pid = log_lines("$stock_dir/httpd.pid");
            ($stock_pid) = ($pid[0] // '') =~ /(\d+)/;
            return $port;
        }
        select undef, undef, undef, 0.1;
    }
    die "stock httpd does not listen on 127.0.0.1:$port: "
        . join('', log_lines("$stock_dir/error_log")) . "\n";
}

my %setup;
eval {
    remove_tree($state);
    writable_dir($state);
    writable_dir(catfile($state, $_)) for qw(dav cache);
    $setup{'php-fpm is installed'} = fpm_binary() ? 1 : 0;
    $fpm = fpm_start($state);
    $setup{'PHP-FPM listens on its own socket'} = -S $fpm->{socket} ? 1 : 0;
    $be = backend_start(catfile($state, 'backend.jsonl'), RUN_GUARD + 60,
                        backend_port('compose.conf', 'COMPOSE_BACKEND'));
    $be100 = backend_start(catfile($state, 'backend100.jsonl'), RUN_GUARD + 60,
                           backend_port('compose.conf', 'COMPOSE_BACKEND_100'));
    $setup{'the backends listen'} = 1;
    my $port = start_stock();
    $setup{'stock httpd (without the module) listens'} = 1;
    $server{stock} = ['127.0.0.1', $port];
    for my $p (@POLICIES) {
        my ($port) = (Apache::Test::config()->{vhosts}{ $VHOST{$p} }{hostport} // '') =~ /:(\d+)$/
            or die "no port for $VHOST{$p}\n";
        $server{$p} = ['127.0.0.1', $port];
    }
    1;
} or $setup{error} = $@;

my @setup_checks = ('php-fpm is installed', 'PHP-FPM listens on its own socket',
                    'the backends listen', 'stock httpd (without the module) listens');

# ------------------------------------------------------------------- run

my @cases = ({ name => 'setup', run => sub { \%setup }, want => { setup => \@setup_checks } });
my $records = {};
for my $row (@rows) {
    my %want = %{ $row->{want} };
    $want{logged_outcome} = delete $want{outcome} if exists $want{outcome};
    push @cases, { name => $row->{name}, stock => $row->{stock},
                   run => sub {
                       my $r = $records->{ $row->{key} };
                       Test::More::diag("$row->{name}: $r->{error}") if $r->{error};
                       return $r;
                   },
                   want => \%want };
}

# (Apache::Test's plan honours one condition: need() makes it one.)
plan tests => count_checks(@cases),
    need(need_module(qw(expect rewrite reqtimeout deflate dav dav_fs proxy_http proxy_fcgi
                        cache cache_disk log_forensic)), need_cgi);

if (!$setup{error}) {
    $records = run_exchanges();
    add_findings($records, [$t_logs, "$stock_dir/logs"],
                 { module => catfile($state, 'dav'), stock => "$stock_dir/state/dav" });
}
else {
    Test::More::diag("setup failed: $setup{error}");
}

run_cases(@cases);

# Where the module's answer differs from stock httpd's (with -v).
my %stock_of;
for my $row (@rows) {
    next unless $row->{neighbour};
    my $id = "$row->{neighbour}{name}; $KIND{ $row->{kind} }{text}";
    if ($row->{policy} eq 'stock') { $stock_of{$id} = describe($row->{want}); next }
    my $mine = describe($row->{want});
    Test::More::note("differs from stock: $row->{name}: $mine (stock: $stock_of{$id})")
        if $mine ne $stock_of{$id};
}
