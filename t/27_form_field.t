# The one reader of a form field (glue/browser.c jwtauth_form_field)
# through its two users: the browser's login form at jwtauth-login (its
# return_to) and the logout form at jwtauth-logout (all and return_to).
# Rows the tests of those handlers (t/26_browser_login.t, t/24_session.t)
# do not have: '+' and %XX, a bad escape, %00, a raw NUL byte, a field
# twice (a bare "name" counts), names compared as sent (no prefix, no
# decoding), empty fields, '=' inside a value.  A field twice: neither
# wins; the login then goes to "/", the logout is a 400.  No token is
# needed: the logout reads its body first, and a browser's form without
# a token gets the 303 to its return_to.  The Locations are those of
# t/conf/browser.conf.in and t/conf/session.conf.in.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use HTTP::Request;
use LWP::UserAgent;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $own = 'http://' . Apache::TestRequest::hostport();
my @FORM = ('Content-Type' => 'application/x-www-form-urlencoded',
            Accept => 'text/html', Origin => $own);
my $good = 'username=daehan&password=1234';

# [what, body after the credentials, Location of the 303]
my @login = (
    ['%XX decoded', 'return_to=%2Fbl%2Fhello.html', '/bl/hello.html'],
    ["'+' is a space (no space in a return_to)", 'return_to=/bl/a+b', '/'],
    ['%2B is a plus', 'return_to=/bl/a%2Bb', '/bl/a+b'],
    ['a bad escape (%2 at the end)', 'return_to=/bl/a%2', '/'],
    ['a bad escape (%zz)', 'return_to=/bl/a%zzb', '/'],
    ['%00', 'return_to=/bl/a%00b', '/'],
    ['twice', 'return_to=%2Fa&return_to=%2Fb', '/'],
    ['a bare return_to and a value: twice',
     'return_to&return_to=/bl/hello.html', '/'],
    ['a raw NUL byte ends the form: the field after it is not read',
     "return_to=/bl/hello.html\0&return_to=/x", '/bl/hello.html'],
    ['a longer name is another field',
     'return_to=/bl/hello.html&return_tox=/x', '/bl/hello.html'],
    ['a name is not decoded', 'return%5Fto=/bl/hello.html', '/'],
    ['empty fields around it', '&&return_to=/bl/hello.html&&',
     '/bl/hello.html'],
    ["'=' in the value", 'return_to=/bl/env.cgi%3Fa=b', '/bl/env.cgi?a=b'],
);

# [what, body, "status Location"]
my @logout = (
    ['%XX decoded', 'return_to=%2Fsess%2F', '303 /sess/'],
    ["'+' is a space (no space in a return_to)", 'return_to=/sess/a+b',
     '303 /'],
    ['%2B is a plus', 'return_to=/sess/a%2Bb', '303 /sess/a+b'],
    ['a bad escape (%2 at the end)', 'return_to=/sess/a%2', '400 -'],
    ['a bad escape (%zz)', 'return_to=/sess/a%zzb', '400 -'],
    ['%00', 'return_to=/sess/a%00b', '400 -'],
    ['a raw NUL byte', "return_to=/sess/a\0b", '400 -'],
    ['a raw NUL byte in another field', "x=\0&return_to=/sess/", '400 -'],
    ['return_to twice', 'return_to=%2Fa&return_to=%2Fb', '400 -'],
    ['a bare all: the value ""', 'all', '400 -'],
    ['all and a bare all: twice', 'all=1&all', '400 -'],
    ['all=%31 is all=1', 'all=%31&return_to=/sess/', '303 /sess/'],
    ['a name is not decoded: %61ll is not all',
     '%61ll=yes&return_to=/sess/', '303 /sess/'],
    ['longer and shorter names are other fields',
     'allx=yes&xall=yes&al=yes&return_to=/sess/', '303 /sess/'],
    ['empty fields around them', '&&all=0&&return_to=/sess/&',
     '303 /sess/'],
    ["'=' in the value", 'return_to=/sess/%3Fa=b', '303 /sess/?a=b'],
);

plan tests => 2 * @login + @logout,
     need_module('mod_jwtauth.c', 'mod_socache_shmcb.c');

my $ua = LWP::UserAgent->new(max_redirect => 0, timeout => 20);
sub post {
    my ($path, $body) = @_;
    return $ua->request(HTTP::Request->new(
        'POST', Apache::TestRequest::resolve_url($path),
        [@FORM, 'Content-Length' => length $body], $body));
}

for my $row (@login) {
    my ($what, $fields, $want) = @$row;
    my $res = post('/bl-login', "$good&$fields");
    is($res->code, 303, "login: $what: 303");
    is($res->header('Location') // '-', $want, "login: $what: Location");
}

for my $row (@logout) {
    my ($what, $body, $want) = @$row;
    my $res = post('/sess-logout', $body);
    is(join(' ', $res->code, $res->header('Location') // '-'), $want,
       "logout: $what: $want");
}
