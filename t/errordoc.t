# errordoc.t — ErrorDocument 417 takes precedence over the module's own body
# in every form httpd knows (string, local URL, remote URL), a local error
# document is served once (no decision after the internal redirect, no
# loop), and ExpectErrorFormat HTML gives httpd's stock 417 page. Hosts
# cfg_errdoc and cfg_errdoc_host in t/conf/extra.last.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Response ();
use IO::Select ();
use JSON::PP ();

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectCfg;

my $BODY = "errordoc test body\n";

sub get  { my ($path, @lines) = @_;
           return { vhost => 'cfg_errdoc', path => $path, expect => \@lines } }

my $local_doc = do {
    my $file = Apache::Test::vars('documentroot') . '/cfg/errdoc/417.txt';
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    <$fh>;
};

my @cases = (
    { name => 'no ErrorDocument: the module\'s JSON body',
      req  => get('/plain/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },

    ##
    ## string
    ##
    { name => 'ErrorDocument 417 "string" replaces the JSON body',
      req  => get('/string/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: send it again without Expect',
                outcome => 'rejected' } },
    { name => 'ErrorDocument 417 "string" replaces the Problem body',
      req  => get('/string-problem/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: string beats Problem' } },
    { name => 'ErrorDocument 417 "string" replaces the HTML page',
      req  => get('/string-html/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: string beats HTML' } },
    { name => 'ErrorDocument 417 "string" for a refused 100-continue',
      req  => { vhost => 'cfg_errdoc', method => 'POST', path => '/string-reject/static',
                expect => ['100-continue'], body => $BODY },
      want => { status => 417, interim => '', connection => 'close',
                body => 'cfg_errdoc: 100-continue refused here' } },
    { name => 'ErrorDocument 417 "string" for HEAD: headers only',
      req  => { %{ get('/string/static', 'x-unk') }, method => 'HEAD' },
      want => { status => 417, body => '' } },
    { name => 'ErrorDocument 417 "string" set for the host applies to its scopes',
      req  => { vhost => 'cfg_errdoc_host', path => '/any/static', expect => ['x-unk'] },
      want => { status => 417, body => 'cfg_errdoc_host: host-wide text' } },
    { name => 'host-wide ErrorDocument beats a <Location> ExpectErrorFormat Problem',
      req  => { vhost => 'cfg_errdoc_host', path => '/problem/static', expect => ['x-unk'] },
      want => { status => 417, body => 'cfg_errdoc_host: host-wide text' } },

    ##
    ## local URL: served once, the decision is not taken again
    ##
    { name => 'ErrorDocument 417 /local/url: the document, status kept',
      req  => get('/local/static', 'x-unk'),
      want => { status => 417, body => $local_doc } },
    { name => 'ErrorDocument 417 /local/url for HEAD: headers only',
      req  => { %{ get('/local/static', 'x-unk') }, method => 'HEAD' },
      want => { status => 417, body => '' } },
    { name => 'ErrorDocument 417 to a CGI: runs once, sees the first request\'s outcome',
      req  => get('/local-cgi/static', 'x-unk'),
      want => { status => 417,
                cgi_env => { REDIRECT_STATUS => '417',
                             REDIRECT_EXPECT_OUTCOME => 'rejected' } } },

    ##
    ## remote URL
    ##
    { name => 'ErrorDocument 417 http://remote/url: a redirect',
      req  => get('/remote/static', 'x-unk'),
      want => { status => 302,
                header => [Location => 'http://errdoc.example.invalid/expect-help'] } },

    ##
    ## ExpectErrorFormat HTML without ErrorDocument
    ##
    { name => 'ExpectErrorFormat HTML: httpd\'s stock 417 page',
      req  => get('/html/static', 'x-unk'),
      want => { status => 417, ctype => 'text/html; charset=iso-8859-1', clen => 1,
                body_like => qr{\A<!DOCTYPE HTML PUBLIC [^>]*>\n<html><head>\n<title>417 Expectation Failed</title>\n</head><body>\n<h1>Expectation Failed</h1>\n<p>The expectation given in the Expect request-header\nfield could not be met by this server\.\n}
      } },
);

plan tests => count_checks(@cases);

run_case($_) for @cases;
