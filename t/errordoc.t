# errordoc.t — ErrorDocument 417 takes precedence over the module's own body
# in every form httpd knows (string, local URL, remote URL), a local error
# document is served once (no decision after the internal redirect, no
# loop), and ExpectErrorFormat HTML gives httpd's stock 417 page. Hosts
# cfg_errdoc and cfg_errdoc_host in t/conf/extra.last.conf.in.

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

defaults(vhost => 'cfg_errdoc', body => "errordoc test body\n");

my $local_doc = do {
    my $file = Apache::Test::vars('documentroot') . '/cfg/errdoc/417.txt';
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    <$fh>;
};

my @cases = (
    { name => 'no ErrorDocument: the module\'s JSON body',
      req  => GET('/plain/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },

    ##
    ## string
    ##
    { name => 'ErrorDocument 417 "string" replaces the JSON body',
      req  => GET('/string/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: send it again without Expect',
                outcome => 'rejected' } },
    { name => 'ErrorDocument 417 "string" replaces the Problem body',
      req  => GET('/string-problem/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: string beats Problem' } },
    { name => 'ErrorDocument 417 "string" replaces the HTML page',
      req  => GET('/string-html/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc: string beats HTML' } },
    { name => 'ErrorDocument 417 "string" for a refused 100-continue',
      req  => POST('/string-reject/static', '100-continue'),
      want => { status => 417, interim => '', connection => 'close',
                body => 'cfg_errdoc: 100-continue refused here' } },
    { name => 'ErrorDocument 417 "string" for HEAD: headers only',
      req  => HEAD('/string/static', 'x-unk'),
      want => { status => 417, body => '' } },
    { name => 'ErrorDocument 417 "string" set for the host applies to its scopes',
      vhost => 'cfg_errdoc_host',
      req  => GET('/any/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc_host: host-wide text' } },
    { name => 'host-wide ErrorDocument beats a <Location> ExpectErrorFormat Problem',
      vhost => 'cfg_errdoc_host',
      req  => GET('/problem/static', 'x-unk'),
      want => { status => 417, body => 'cfg_errdoc_host: host-wide text' } },

    ##
    ## local URL: served once, the decision is not taken again
    ##
    { name => 'ErrorDocument 417 /local/url: the document, status kept',
      req  => GET('/local/static', 'x-unk'),
      want => { status => 417, body => $local_doc } },
    { name => 'ErrorDocument 417 /local/url for HEAD: headers only',
      req  => HEAD('/local/static', 'x-unk'),
      want => { status => 417, body => '' } },
    { name => 'ErrorDocument 417 to a CGI: runs once, sees the first request\'s outcome',
      req  => GET('/local-cgi/static', 'x-unk'),
      want => { status => 417,
                cgi_env => { REDIRECT_STATUS => '417',
                             REDIRECT_EXPECT_OUTCOME => 'rejected' } } },

    ##
    ## remote URL
    ##
    { name => 'ErrorDocument 417 http://remote/url: a redirect',
      req  => GET('/remote/static', 'x-unk'),
      want => { status => 302,
                header => [Location => 'http://errdoc.example.invalid/expect-help'] } },

    ##
    ## ExpectErrorFormat HTML without ErrorDocument
    ##
    { name => 'ExpectErrorFormat HTML: httpd\'s stock 417 page',
      req  => GET('/html/static', 'x-unk'),
      want => { status => 417, ctype => 'text/html; charset=iso-8859-1', clen => 1,
                body_like => qr{\A<!DOCTYPE HTML PUBLIC [^>]*>\n<html><head>\n<title>417 Expectation Failed</title>\n</head><body>\n<h1>Expectation Failed</h1>\n<p>The expectation given in the Expect request-header\nfield could not be met by this server\.\n}
      } },
);

plan tests => count_checks(@cases);

run_cases(@cases);
