# merge.t — inheritance and replacement across nested <VirtualHost>,
# <Location>, <Directory>, <Files> and .htaccess: a nested scope inherits
# every directive it does not set; ExpectAllow replaces the inherited list;
# None clears it; unset is not default. Hosts cfg_merge (document tree
# t/htdocs/cfg/merge) and cfg_merge_b in t/conf/extra.last.conf.in.
#
# cfg_merge sets: ExpectContinue Reject, ExpectAllow x-outer,
#   ExpectUnknown Ignore, ExpectErrorFormat Problem,
#   ExpectErrorMessage "Outer message".
# cfg_merge_b sets: ExpectContinue Immediate, ExpectAllow x-b1 x-b2,
#   ExpectUnknown Reject, ExpectErrorFormat Problem,
#   ExpectErrorMessage "Message of cfg_merge_b".

use strict;
use warnings FATAL => 'all';

use Apache::Test qw(-withtestmore);

use FindBin;
use lib "$FindBin::Bin/lib";
use ExpectTable;

my $BODY = "merge test body\n";
my $LEN  = length $BODY;
my $HTML_TYPE = 'text/html; charset=iso-8859-1';

defaults(vhost => 'cfg_merge', body => $BODY);

my $OUTER = 'Outer message';
my $B     = 'Message of cfg_merge_b';
my $B_SUP = ['100-continue', 'x-b1', 'x-b2'];

# cfg_merge: 100-continue is refused (ExpectContinue Reject)
sub refused_100 {
    my ($name, $path, %json) = @_;
    return { name => "$name: 100-continue refused",
             req  => POST($path, '100-continue'),
             want => { status => 417, interim => '', outcome => 'rejected',
                       json => ($json{format} || 'problem') eq 'json'
                           ? json_417(error => $json{message} || $OUTER,
                                      expect => '100-continue', unmet => ['100-continue'],
                                      supported => $json{supported})
                           : problem_417(detail => $json{message} || $OUTER,
                                         expect => '100-continue', unmet => ['100-continue'],
                                         supported => $json{supported}) } };
}
sub accepted {
    my ($name, $vhost, $path, $token) = @_;
    return { name => "$name: $token accepted", vhost => $vhost,
             req  => GET($path, $token),
             want => { status => 200, outcome => 'accepted', seen => $token } };
}
sub ignored {
    my ($name, $vhost, $path, $token) = @_;
    return { name => "$name: $token ignored", vhost => $vhost,
             req  => GET($path, $token),
             want => { status => 200, outcome => 'ignored', seen => undef } };
}

my @cases = (
    ##
    ## cfg_merge itself
    ##
    refused_100('host', '/ok.txt', supported => ['x-outer']),
    accepted('host', cfg_merge => '/ok.txt', 'x-outer'),
    ignored('host', cfg_merge => '/ok.txt', 'x-unk'),

    ##
    ## <Location> setting one directive
    ##
    refused_100('<Location> with only ExpectUnknown Reject',
                '/loc-unknown/ok.txt', supported => ['x-outer']),
    { name => '<Location> with only ExpectUnknown Reject: unknown member refused',
      req  => GET('/loc-unknown/ok.txt', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $OUTER, expect => 'x-unk',
                                    unmet => ['x-unk'], supported => ['x-outer']) } },
    accepted('<Location> with only ExpectUnknown Reject', cfg_merge => '/loc-unknown/ok.txt', 'x-outer'),

    { name => '<Location> with only ExpectContinue Defer: 100-continue honoured',
      req  => POST('/loc-continue/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'continue',
                seen => '100-continue' } },
    accepted('<Location> with only ExpectContinue Defer', cfg_merge => '/loc-continue/ok.txt', 'x-outer'),
    ignored('<Location> with only ExpectContinue Defer', cfg_merge => '/loc-continue/ok.txt', 'x-unk'),

    ##
    ## <Directory>: ExpectAllow replaces, None clears
    ##
    accepted('<Directory> ExpectAllow x-inner', cfg_merge => '/dir-allow/ok.txt', 'x-inner'),
    ignored('<Directory> ExpectAllow x-inner replaces x-outer', cfg_merge => '/dir-allow/ok.txt', 'x-outer'),
    refused_100('<Directory> ExpectAllow x-inner', '/dir-allow/ok.txt', supported => ['x-inner']),
    ignored('<Directory> ExpectAllow None clears x-outer', cfg_merge => '/dir-none/ok.txt', 'x-outer'),
    refused_100('<Directory> ExpectAllow None', '/dir-none/ok.txt', supported => []),

    ##
    ## <Files>
    ##
    refused_100('<Files> with only ExpectErrorFormat JSON', '/files/json.txt',
                format => 'json', supported => ['x-outer']),
    accepted('<Files> with only ExpectErrorFormat JSON', cfg_merge => '/files/json.txt', 'x-outer'),
    ignored('<Files> with only ExpectErrorFormat JSON', cfg_merge => '/files/json.txt', 'x-unk'),
    refused_100('file outside the <Files> sections', '/files/ok.txt', supported => ['x-outer']),
    refused_100('<Files> with only ExpectEngine On', '/files/engine.txt', supported => ['x-outer']),
    accepted('<Files> with only ExpectEngine On', cfg_merge => '/files/engine.txt', 'x-outer'),

    ##
    ## .htaccess setting one directive
    ##
    refused_100('.htaccess with only ExpectErrorMessage', '/ht-message/ok.txt',
                message => 'Message of merge/ht-message/.htaccess', supported => ['x-outer']),
    accepted('.htaccess with only ExpectErrorMessage', cfg_merge => '/ht-message/ok.txt', 'x-outer'),
    ignored('.htaccess with only ExpectErrorMessage', cfg_merge => '/ht-message/ok.txt', 'x-unk'),
    refused_100('.htaccess with only ExpectEngine On', '/ht-engine/ok.txt', supported => ['x-outer']),
    ignored('.htaccess with only ExpectEngine On', cfg_merge => '/ht-engine/ok.txt', 'x-unk'),

    ##
    ## nested: <Directory nest> (ExpectAllow x-nest, <Files imm.txt>
    ## ExpectContinue Immediate), nest/sub/.htaccess (ExpectUnknown Reject),
    ## nest/sub/deeper/.htaccess (ExpectErrorFormat JSON),
    ## nest/clear/.htaccess (ExpectAllow None), <Location
    ## /nest/sub/loc.txt> (ExpectAllow x-loc)
    ##
    accepted('<Directory nest>', cfg_merge => '/nest/ok.txt', 'x-nest'),
    ignored('<Directory nest>', cfg_merge => '/nest/ok.txt', 'x-outer'),
    refused_100('<Directory nest>', '/nest/ok.txt', supported => ['x-nest']),

    accepted('nest/sub/.htaccess under <Directory nest>', cfg_merge => '/nest/sub/ok.txt', 'x-nest'),
    { name => 'nest/sub/.htaccess ExpectUnknown Reject: x-outer refused',
      req  => GET('/nest/sub/ok.txt', 'x-outer'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-outer',
                                    unmet => ['x-outer'], supported => ['x-nest']) } },
    refused_100('nest/sub/.htaccess', '/nest/sub/ok.txt', supported => ['x-nest']),

    { name => '<Files imm.txt> in <Directory nest>: 100 Continue at once',
      req  => POST('/nest/sub/imm.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => 'immediate', seen => undef } },
    { name => '<Files imm.txt> keeps the .htaccess and <Directory> settings',
      req  => GET('/nest/sub/imm.txt', 'x-outer'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-outer', unmet => ['x-outer'],
                                    supported => ['100-continue', 'x-nest']) } },

    accepted('<Location> inside the nested tree', cfg_merge => '/nest/sub/loc.txt', 'x-loc'),
    { name => '<Location> ExpectAllow replaces the <Directory> list',
      req  => GET('/nest/sub/loc.txt', 'x-nest'),
      want => { status => 417,
                json => problem_417(detail => $OUTER, expect => 'x-nest', unmet => ['x-nest'],
                                    supported => ['x-loc']) } },

    { name => 'nest/sub/deeper/.htaccess ExpectErrorFormat JSON keeps the rest',
      req  => GET('/nest/sub/deeper/ok.txt', 'x-outer'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(error => $OUTER, expect => 'x-outer', unmet => ['x-outer'],
                                 supported => ['x-nest']) } },
    accepted('nest/sub/deeper/.htaccess', cfg_merge => '/nest/sub/deeper/ok.txt', 'x-nest'),

    ignored('nest/clear/.htaccess ExpectAllow None clears x-nest', cfg_merge => '/nest/clear/ok.txt', 'x-nest'),
    refused_100('nest/clear/.htaccess ExpectAllow None', '/nest/clear/ok.txt', supported => []),

    ##
    ## ExpectEngine Off is inherited too
    ##
    { name => '<Directory off>: httpd\'s HTML 417 for an unknown member',
      req  => GET('/off/ok.txt', 'x-unk'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => '<Directory off>: 100-continue honoured although the host says Reject',
      req  => POST('/off/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef } },
    { name => 'off/inner/.htaccess without ExpectEngine: still off, x-foo refused by httpd',
      req  => GET('/off/inner/ok.txt', 'x-foo'),
      want => { status => 417, ctype => $HTML_TYPE, outcome => undef } },
    { name => 'off/inner/.htaccess without ExpectEngine: still off, 100-continue honoured',
      req  => POST('/off/inner/ok.txt', '100-continue'),
      want => { status => 200, interim => '100', outcome => undef } },
    refused_100('off/on/.htaccess ExpectEngine On', '/off/on/ok.txt', supported => ['x-outer']),
    accepted('off/on/.htaccess ExpectEngine On', cfg_merge => '/off/on/ok.txt', 'x-outer'),

    ##
    ## cfg_merge_b: the other values, one directive per <Location>
    ##
    { name => 'host b: unknown member refused',
      vhost => 'cfg_merge_b',
      req  => GET('/base/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    { name => 'host b: 100 Continue at once',
      vhost => 'cfg_merge_b',
      req  => POST('/base/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate',
                cgi_expect => undef, cgi_bytes => $LEN } },

    { name => '<Location> with only ExpectContinue Defer: deferred',
      vhost => 'cfg_merge_b',
      req  => POST('/only-continue/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'continue',
                cgi_expect => '100-continue', cgi_bytes => $LEN } },
    { name => '<Location> with only ExpectContinue Defer: the rest kept',
      vhost => 'cfg_merge_b',
      req  => GET('/only-continue/static', 'x-unk'),
      want => { status => 417,
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    accepted('<Location> with only ExpectContinue Defer', cfg_merge_b => '/only-continue/static', 'x-b1'),

    { name => '<Location> with only ExpectAllow x-b3: x-b1 no longer allowed',
      vhost => 'cfg_merge_b',
      req  => GET('/only-allow/static', 'x-b1'),
      want => { status => 417,
                json => problem_417(detail => $B, expect => 'x-b1', unmet => ['x-b1'],
                                    supported => ['100-continue', 'x-b3']) } },
    accepted('<Location> with only ExpectAllow x-b3', cfg_merge_b => '/only-allow/static', 'x-b3'),
    { name => '<Location> with only ExpectAllow x-b3: still Immediate',
      vhost => 'cfg_merge_b',
      req  => POST('/only-allow/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },
    ignored('nested <Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-allow/deeper/static', 'x-b1'),
    accepted('nested <Location> keeps the outer <Location> list', cfg_merge_b => '/only-allow/deeper/static', 'x-b3'),

    ignored('<Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-unknown/static', 'x-unk'),
    accepted('<Location> with only ExpectUnknown Ignore', cfg_merge_b => '/only-unknown/static', 'x-b2'),
    { name => '<Location> with only ExpectUnknown Ignore: still Immediate',
      vhost => 'cfg_merge_b',
      req  => POST('/only-unknown/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectErrorFormat JSON: message and list kept',
      vhost => 'cfg_merge_b',
      req  => GET('/only-format/static', 'x-unk'),
      want => { status => 417, ctype => 'application/json',
                json => json_417(error => $B, expect => 'x-unk', unmet => ['x-unk'],
                                 supported => $B_SUP) } },
    { name => '<Location> with only ExpectErrorFormat JSON: still Immediate',
      vhost => 'cfg_merge_b',
      req  => POST('/only-format/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectErrorMessage: format and list kept',
      vhost => 'cfg_merge_b',
      req  => GET('/only-message/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => 'Inner message of cfg_merge_b', expect => 'x-unk',
                                    unmet => ['x-unk'], supported => $B_SUP) } },
    { name => '<Location> with only ExpectErrorMessage: still Immediate',
      vhost => 'cfg_merge_b',
      req  => POST('/only-message/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },

    { name => '<Location> with only ExpectEngine On: everything kept',
      vhost => 'cfg_merge_b',
      req  => GET('/only-engine/static', 'x-unk'),
      want => { status => 417, ctype => 'application/problem+json',
                json => problem_417(detail => $B, expect => 'x-unk', unmet => ['x-unk'],
                                    supported => $B_SUP) } },
    { name => '<Location> with only ExpectEngine On: still Immediate',
      vhost => 'cfg_merge_b',
      req  => POST('/only-engine/echo', '100-continue'),
      want => { status => 200, interim => '100', cgi_outcome => 'immediate' } },
    accepted('<Location> with only ExpectEngine On', cfg_merge_b => '/only-engine/static', 'x-b2'),
);

plan tests => count_checks(@cases);

run_cases(@cases);
