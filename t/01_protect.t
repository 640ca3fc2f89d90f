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

plan tests => 67, need_cgi, need_module('mod_jwtauth.c', 'mod_headers.c',
                              'mod_include.c', 'mod_proxy_http.c');

my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';

sub is_missing {
    my ($res, $what) = @_;
    is($res->code, 401, "$what: 401");
    is($res->content, $MISSING, "$what: 'Token is missing!' body");
    like(scalar $res->header('Content-Type'), qr{^application/json},
         "$what: JSON content type");
    is(scalar $res->header('WWW-Authenticate'), 'Bearer realm="jwtauth"',
       "$what: Bearer challenge without error");
}

sub is_invalid {
    my ($res, $what) = @_;
    is($res->code, 401, "$what: 401 'Token is invalid!': status");
    is($res->content, $INVALID, "$what: 401 'Token is invalid!': body");
    is(scalar $res->header('WWW-Authenticate'),
       'Bearer realm="jwtauth", error="invalid_token"',
       "$what: challenge says invalid_token");
}

# no token
is_missing(GET('/protected/hello.html'), 'no header');
is_missing(GET('/protected/hello.html', 'x-access-token' => ''),
           'empty x-access-token');
# the Bearer scheme without credentials is malformed: RFC 6750 section
# 3.1's invalid_request (t/20_optional.t has the other malformed forms)
my $res = GET('/protected/hello.html', Authorization => 'Bearer ');
is($res->code, 400, 'Bearer with no token: 400');
is($res->content, '{"message": "Bad request!"}',
   "Bearer with no token: 'Bad request!' body");
like(scalar $res->header('Content-Type'), qr{^application/json},
     'Bearer with no token: JSON content type');
is(scalar $res->header('WWW-Authenticate'),
   'Bearer realm="jwtauth", error="invalid_request"',
   'Bearer with no token: challenge says invalid_request');
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
$res = GET('/protected/hello.html', 'x-access-token' => $tok);
is($res->code, 200, 'valid token: 200');
like($res->content, qr/Hello, you hold a valid token/, 'static page served');
is(scalar $res->header('X-Remote-User'), 'daehan', 'REMOTE_USER from sub');
is(scalar $res->header('X-Auth-Type'), 'Bearer', 'AUTH_TYPE Bearer');
is(scalar $res->header('X-Claim-Admin'), 'true',
   'JWT_CLAIM_admin for mod_headers');
$res = GET('/protected/hello.html', Authorization => "Bearer $tok");
is($res->code, 200, 'Authorization: Bearer accepted');
$res = GET('/protected/hello.html', Authorization => "bearer $tok");
is($res->code, 200, 'Bearer scheme is case-insensitive (RFC 6750)');
$res = HEAD('/protected/hello.html', 'x-access-token' => $tok);
is($res->code, 200, 'HEAD with a token: 200');
$res = HEAD('/protected/hello.html');
is($res->code, 401, 'HEAD without: 401, no body: status');
is($res->content, '', 'HEAD without: 401, no body: body');

# what a CGI sees: the seed's current_user
my $VG = ($ENV{JWTAUTH_WRAP} // '') eq 'valgrind';
SKIP: {
    skip 'CGI scripts do not start under the one-process valgrind run', 9
        if $VG;
    $res = GET('/protected/env.cgi', 'x-access-token' => $tok);
    is($res->code, 200, 'CGI behind the token runs');
    my $env = eval { json_decode($res->content) } || {};
    is($env->{REMOTE_USER}, 'daehan', 'CGI: REMOTE_USER');
    is($env->{AUTH_TYPE}, 'Bearer', 'CGI: AUTH_TYPE');
    is($env->{JWT_CLAIM_sub}, 'daehan', 'CGI: string claim raw');
    is($env->{JWT_CLAIM_id}, '1', 'CGI: number claim as JSON');
    is($env->{JWT_CLAIM_admin}, 'true', 'CGI: bool claim as JSON');
    is($env->{JWT_CLAIM_roles}, '["a","b"]', 'CGI: array as JSON');
    like($env->{JWT_CLAIM_exp}, qr/^\d+$/, 'CGI: exp exported');
    is($env->{HTTP_X_USER_ID}, '1',
       'RequestHeader set X-User-Id "%{JWT_CLAIM_id}e" reaches the app');
}

# a proxied application gets the request and the claim header; without a
# token the proxy is never contacted
SKIP: {
    skip 'one process (valgrind run) cannot proxy to itself', 2
        if $VG;
    $res = GET('/proxied/env.cgi', 'x-access-token' => $tok);
    my $env = eval { json_decode($res->content) } || {};
    is($res->code, 200,
       'ProxyPass behind JWTAuth: backend sees X-User-Id from the claim: '
       . 'status');
    is($env->{HTTP_X_USER_ID}, '1',
       'ProxyPass behind JWTAuth: backend sees X-User-Id from the claim: '
       . 'body');
}
$res = GET('/proxied/env.cgi');
is($res->code, 401,
   'ProxyPass behind JWTAuth: no token, 401 before the backend: status');
is($res->content, $MISSING,
   'ProxyPass behind JWTAuth: no token, 401 before the backend: body');

# a body sent with a refused request does not break the connection
$res = POST('/protected/env.cgi', content => 'x' x 1000);
is($res->code, 401, 'POST without token: 401 JSON: status');
is($res->content, $MISSING, 'POST without token: 401 JSON: body');

# the header name is configurable
$res = GET('/bearer-header/', 'X-Token' => $tok);
is($res->code, 200, 'JWTAuthHeader X-Token: token read from it');
$res = GET('/bearer-header/', 'x-access-token' => $tok);
is($res->code, 401,
   'JWTAuthHeader X-Token: x-access-token no longer read: status');
is($res->content, $MISSING,
   'JWTAuthHeader X-Token: x-access-token no longer read: body');

# AuthName names the Bearer realm
$res = GET('/realm/');
is(scalar $res->header('WWW-Authenticate'), 'Bearer realm="Staff area"',
   'AuthName sets the Bearer realm');

# the seed's own token shape: {"id": 1, "exp": ...} with JWTAuthUserClaim id
my $seed = jws({ alg => 'HS256', typ => 'JWT' }, { id => 1, exp => time + 60 });
$res = GET('/seed/', 'x-access-token' => $seed);
is($res->code, 200, "seed-shaped token accepted with JWTAuthUserClaim id");
is(scalar $res->header('X-Remote-User'), '1',
   'REMOTE_USER is the integer id as text');
$res = GET('/protected/hello.html', 'x-access-token' => $seed);
is($res->code, 401, 'token without the user claim (sub) refused: status');
is($res->content, $INVALID, 'token without the user claim (sub) refused: body');

# .htaccess can switch protection on (AllowOverride AuthConfig)
is(GET('/htdir/')->code, 401, '.htaccess JWTAuth On: 401 without token');
is(GET('/htdir/', 'x-access-token' => $tok)->code, 200,
   '.htaccess JWTAuth On: 200 with token');

# unprotected pages stay unprotected
is(GET('/index.html')->code, 200, 'unprotected page needs no token');

# subrequests reuse the result: one validation for a page that includes
# two parts from another section under the same policy
t_start_error_log_watch();
$res = GET('/protected/page.shtml', 'x-access-token' => $tok);
my @accepted = grep { /JWTAuth: token accepted/ } t_finish_error_log_watch();
is($res->code, 200, 'SSI page with two protected includes served: status');
cmp_ok(($res->content =~ tr/\n//), '>=', 4,
       'SSI page with two protected includes served: lines');
like($res->content, qr/included part.*included part/s,
     'SSI page with two protected includes served: body');
is(scalar @accepted, 1, 'token validated once for a request and its '
   . 'subrequests');

# the reason of a refusal is logged, the token is not
t_start_error_log_watch();
my $bad = token(exp => time - 100);
GET('/protected/hello.html', 'x-access-token' => $bad);
my @log = t_finish_error_log_watch();
ok((grep { /JWTAuth: token refused \(expired\): token expired/ } @log),
   'reason logged at info');
my ($sig) = $bad =~ /\.([^.]+)$/;
ok(!(grep { index($_, $sig) >= 0 || index($_, $bad) >= 0 } @log),
   'neither token nor signature in the log');
