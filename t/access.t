# access.t — authentication and authorization answer before the 417: a
# client without credentials gets 401, a denied path 403, whatever its Expect
# field says; with credentials the Expect decision follows. Host cfg_access
# in t/conf/extra.last.conf.in (user cfguser, t/htdocs/cfg/htpasswd).
# (Stock httpd answers every Expect but 100-continue with its 417 before
# access control runs, so there a client without credentials gets a 417.)

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);
use MIME::Base64 qw(encode_base64);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $BODY = "access test body\n";
my $LEN  = length $BODY;
my $GOOD = { headers => [['Authorization' => 'Basic ' . encode_base64('cfguser:cfg-secret', '')]] };
my $BAD  = { headers => [['Authorization' => 'Basic ' . encode_base64('cfguser:wrong', '')]] };
defaults(vhost => 'cfg_access', body => $BODY);

my @cases = (
    ##
    ## authentication
    ##
    { name => 'no credentials, unknown Expect member: 401',
      req  => GET('/auth/static', 'x-unk'),
      want => { status => 401, has_header => 'WWW-Authenticate', outcome => undef } },
    { name => 'wrong password, unknown Expect member: 401',
      req  => GET('/auth/static', 'x-unk', $BAD),
      want => { status => 401, has_header => 'WWW-Authenticate', outcome => undef } },
    { name => 'no credentials, 100-continue under Reject: 401, no 100 Continue',
      req  => POST('/auth-reject/static', '100-continue'),
      want => { status => 401, interim => '', outcome => undef } },
    { name => 'credentials, unknown Expect member: the 417 after access control',
      req  => GET('/auth/static', 'x-unk', $GOOD),
      want => { status => 417, outcome => 'rejected',
                json => json_417(expect => 'x-unk', unmet => ['x-unk'],
                                 supported => ['100-continue']) } },
    { name => 'credentials, 100-continue under Reject: 417',
      req  => POST('/auth-reject/static', '100-continue', $GOOD),
      want => { status => 417, interim => '', outcome => 'rejected' } },
    { name => 'credentials, 100-continue under Defer: served',
      req  => POST('/auth/echo', '100-continue', $GOOD),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_bytes => $LEN } },
    { name => 'credentials, no Expect: served',
      req  => GET('/auth/static', $GOOD),
      want => { status => 200, outcome => undef } },

    ##
    ## authorization
    ##
    { name => 'Require all denied, unknown Expect member: 403',
      req  => GET('/denied/static', 'x-unk'),
      want => { status => 403, outcome => undef } },
    { name => 'Require all denied, malformed Expect member: 403',
      req  => GET('/denied/static', 'x@y'),
      want => { status => 403 } },
    { name => 'Require ip of another host, unknown Expect member: 403',
      req  => GET('/denied-ip/static', 'x-unk'),
      want => { status => 403, outcome => undef } },
    { name => 'Require all denied, 100-continue under Reject: 403, no 100 Continue',
      req  => POST('/denied-reject/static', '100-continue'),
      want => { status => 403, interim => '', outcome => undef } },
    { name => 'Require all denied, no Expect: 403',
      req  => GET('/denied/static'),
      want => { status => 403 } },
);

plan tests => count_checks(@cases);

run_cases(@cases);
