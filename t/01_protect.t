# Protection: missing, invalid and valid tokens under JWTAuth On, what
# the client sees and what the application behind gets.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 56, need_cgi, need_module('mod_jwtauth.c', 'mod_headers.c',
                              'mod_include.c', 'mod_proxy_http.c');

my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';

sub is_missing {
    my ($res, $what) = @_;
    ok($res->code == 401, "$what: 401");
    ok($res->content eq $MISSING, "$what: 'Token is missing!' body");
    ok(($res->header('Content-Type') // '') =~ m{^application/json},
       "$what: JSON content type");
    ok(($res->header('WWW-Authenticate') // '') eq 'Bearer realm="jwtauth"',
       "$what: Bearer challenge without error");
}

sub is_invalid {
    my ($res, $what) = @_;
    ok($res->code == 401 && $res->content eq $INVALID,
       "$what: 401 'Token is invalid!'");
    ok(($res->header('WWW-Authenticate') // '')
       eq 'Bearer realm="jwtauth", error="invalid_token"',
       "$what: challenge says invalid_token");
}

# no token
is_missing(GET('/protected/hello.html'), 'no header');
is_missing(GET('/protected/hello.html', 'x-access-token' => ''),
           'empty x-access-token');
is_missing(GET('/protected/hello.html', Authorization => 'Bearer '),
           'Bearer with no token');
is_missing(GET('/protected/hello.html', Authorization => 'Basic ZGE6MTI='),
           'Basic credentials are not a token');

# invalid
is_invalid(GET('/protected/hello.html', 'x-access-token' => 'abc'),
           'garbage');
is_invalid(GET('/protected/hello.html',
               'x-access-token' => token(exp => time - 10)), 'expired');
is_invalid(GET('/protected/hello.html',
               'x-access-token' => token() . 'x'), 'tampered signature');

# valid, by x-access-token and by Authorization: Bearer
my $tok = token(admin => JSON::PP::true, id => 1, roles => ['a', 'b']);
my $res = GET('/protected/hello.html', 'x-access-token' => $tok);
ok($res->code == 200, 'valid token: 200');
ok($res->content =~ /Hello, you hold a valid token/, 'static page served');
ok(($res->header('X-Remote-User') // '') eq 'daehan',
   'REMOTE_USER from sub');
ok(($res->header('X-Auth-Type') // '') eq 'Bearer', 'AUTH_TYPE Bearer');
ok(($res->header('X-Claim-Admin') // '') eq 'true',
   'JWT_CLAIM_admin for mod_headers');
$res = GET('/protected/hello.html', Authorization => "Bearer $tok");
ok($res->code == 200, 'Authorization: Bearer accepted');
$res = GET('/protected/hello.html', Authorization => "bearer $tok");
ok($res->code == 200, 'Bearer scheme is case-insensitive (RFC 6750)');
$res = HEAD('/protected/hello.html', 'x-access-token' => $tok);
ok($res->code == 200, 'HEAD with a token: 200');
$res = HEAD('/protected/hello.html');
ok($res->code == 401 && $res->content eq '', 'HEAD without: 401, no body');

# what a CGI sees: the seed's current_user
my $VG = ($ENV{JWTAUTH_WRAP} // '') eq 'valgrind';
SKIP: {
    skip 'CGI scripts do not start under the one-process valgrind run', 9
        if $VG;
    $res = GET('/protected/env.cgi', 'x-access-token' => $tok);
    ok($res->code == 200, 'CGI behind the token runs');
    my $env = eval { json_decode($res->content) } || {};
    ok(($env->{REMOTE_USER} // '') eq 'daehan', 'CGI: REMOTE_USER');
    ok(($env->{AUTH_TYPE} // '') eq 'Bearer', 'CGI: AUTH_TYPE');
    ok(($env->{JWT_CLAIM_sub} // '') eq 'daehan', 'CGI: string claim raw');
    ok(($env->{JWT_CLAIM_id} // '') eq '1', 'CGI: number claim as JSON');
    ok(($env->{JWT_CLAIM_admin} // '') eq 'true', 'CGI: bool claim as JSON');
    ok(($env->{JWT_CLAIM_roles} // '') eq '["a","b"]', 'CGI: array as JSON');
    ok(($env->{JWT_CLAIM_exp} // '') =~ /^\d+$/, 'CGI: exp exported');
    ok(($env->{HTTP_X_USER_ID} // '') eq '1',
       'RequestHeader set X-User-Id "%{JWT_CLAIM_id}e" reaches the app');
}

# a proxied application gets the request and the claim header; without a
# token the proxy is never contacted
SKIP: {
    skip 'one process (valgrind run) cannot proxy to itself', 1
        if $VG;
    $res = GET('/proxied/env.cgi', 'x-access-token' => $tok);
    my $env = eval { json_decode($res->content) } || {};
    ok($res->code == 200 && ($env->{HTTP_X_USER_ID} // '') eq '1',
       'ProxyPass behind JWTAuth: backend sees X-User-Id from the claim');
}
$res = GET('/proxied/env.cgi');
ok($res->code == 401 && $res->content eq $MISSING,
   'ProxyPass behind JWTAuth: no token, 401 before the backend');

# a body sent with a refused request does not break the connection
$res = POST('/protected/env.cgi', content => 'x' x 1000);
ok($res->code == 401 && $res->content eq $MISSING,
   'POST without token: 401 JSON');

# the header name is configurable
$res = GET('/bearer-header/', 'X-Token' => $tok);
ok($res->code == 200, 'JWTAuthHeader X-Token: token read from it');
$res = GET('/bearer-header/', 'x-access-token' => $tok);
ok($res->code == 401 && $res->content eq $MISSING,
   'JWTAuthHeader X-Token: x-access-token no longer read');

# AuthName names the Bearer realm
$res = GET('/realm/');
ok(($res->header('WWW-Authenticate') // '') eq 'Bearer realm="Staff area"',
   'AuthName sets the Bearer realm');

# the seed's own token shape: {"id": 1, "exp": ...} with JWTAuthUserClaim id
my $seed = jws({ alg => 'HS256', typ => 'JWT' }, { id => 1, exp => time + 60 });
$res = GET('/seed/', 'x-access-token' => $seed);
ok($res->code == 200, "seed-shaped token accepted with JWTAuthUserClaim id");
ok(($res->header('X-Remote-User') // '') eq '1',
   'REMOTE_USER is the integer id as text');
$res = GET('/protected/hello.html', 'x-access-token' => $seed);
ok($res->code == 401 && $res->content eq $INVALID,
   'token without the user claim (sub) refused');

# .htaccess can switch protection on (AllowOverride AuthConfig)
ok(GET('/htdir/')->code == 401, '.htaccess JWTAuth On: 401 without token');
ok(GET('/htdir/', 'x-access-token' => $tok)->code == 200,
   '.htaccess JWTAuth On: 200 with token');

# unprotected pages stay unprotected
ok(GET('/index.html')->code == 200, 'unprotected page needs no token');

# subrequests reuse the result: one validation for a page that includes
# two parts from another section under the same policy
t_start_error_log_watch();
$res = GET('/protected/page.shtml', 'x-access-token' => $tok);
my @accepted = grep { /JWTAuth: token accepted/ } t_finish_error_log_watch();
ok($res->code == 200 && ($res->content =~ tr/\n//) >= 4
   && $res->content =~ /included part.*included part/s,
   'SSI page with two protected includes served');
ok(@accepted == 1, 'token validated once for a request and its '
   . 'subrequests (' . scalar(@accepted) . ')');

# the reason of a refusal is logged, the token is not
t_start_error_log_watch();
my $bad = token(exp => time - 100);
GET('/protected/hello.html', 'x-access-token' => $bad);
my @log = t_finish_error_log_watch();
ok((grep { /JWTAuth: token refused: token expired/ } @log),
   'reason logged at info');
my ($sig) = $bad =~ /\.([^.]+)$/;
ok(!(grep { index($_, $sig) >= 0 || index($_, $bad) >= 0 } @log),
   'neither token nor signature in the log');
