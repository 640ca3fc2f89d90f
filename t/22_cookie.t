# JWTAuthCookie: the token may come from a cookie (after JWTAuthHeader and
# Authorization: Bearer), /login sets it (JWTAuthCookieAttributes), and a
# POST, PUT, PATCH or DELETE that the cookie alone authenticates must come
# from the server's own origin or a JWTAuthTrustedOrigin (Origin, else
# Sec-Fetch-Site: same-origin), else 403.  The server config is
# t/conf/cookie.conf.in.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use HTTP::Request;
use MIME::Base64 qw(encode_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $tok = token();
my $other = token(sub => 'other');
my $expired = token(exp => time - 100);
my $own = 'http://' . Apache::TestRequest::hostport();
my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';
my $CSRF = '{"message": "Cross-site request refused!"}';

# any method; an empty body (env.cgi reads none: a body it leaves unread
# may make mod_cgid answer 500)
sub req {
    my ($method, $path, @h) = @_;
    my $r = HTTP::Request->new($method, Apache::TestRequest::resolve_url($path),
                               [@h, 'Content-Length' => 0], '');
    return Apache::TestRequest::user_agent()->request($r);
}

# the token rows: [what, method, path, headers, status, body (undef: any),
# JWTAUTH_ERROR ('-': none)]
my @rows = (
    ['GET, the token in the cookie', 'GET', '/ck/hello.html',
     [Cookie => "jwt=$tok"], 200, undef, '-'],
    ['GET, the cookie among others', 'GET', '/ck/hello.html',
     [Cookie => "a=b; jwt=$tok; c=d"], 200, undef, '-'],
    ['GET, only a cookie of a longer name', 'GET', '/ck/hello.html',
     [Cookie => "jwtx=$tok"], 401, $MISSING, 'missing'],
    ['GET, the name differs in case', 'GET', '/ck/hello.html',
     [Cookie => "JWT=$tok"], 401, $MISSING, 'missing'],
    ['GET, an empty cookie is no token', 'GET', '/ck/hello.html',
     [Cookie => "jwt="], 401, $MISSING, 'missing'],
    ['GET, no JWTAuthCookie here: a cookie is no token', 'GET',
     '/ck-none/hello.html', [Cookie => "jwt=$tok"], 401, $MISSING,
     'missing'],
    ['GET, a cookie that is no JWS', 'GET', '/ck/hello.html',
     [Cookie => 'jwt=abc~def'], 401, $INVALID, 'malformed'],
    ['GET, a cookie quoted', 'GET', '/ck/hello.html',
     [Cookie => qq{jwt="$tok"}], 401, $INVALID, 'malformed'],
    ['GET, an expired token in the cookie', 'GET', '/ck/hello.html',
     [Cookie => "jwt=$expired"], 401, $INVALID, 'expired'],
    ['GET, two cookies of the name: 400', 'GET', '/ck/hello.html',
     [Cookie => "jwt=$tok; jwt=$tok"], 400, undef, 'invalid_request'],
    ['GET, the header wins over a bad cookie', 'GET', '/ck/hello.html',
     ['x-access-token' => $tok, Cookie => 'jwt=abc~def'], 200, undef, '-'],
    ['GET, Bearer wins over an expired cookie', 'GET', '/ck/hello.html',
     [Authorization => "Bearer $tok", Cookie => "jwt=$expired"], 200, undef,
     '-'],
    ['GET, the cookie with a foreign Origin: safe method', 'GET',
     '/ck/hello.html', [Cookie => "jwt=$tok", Origin => 'https://evil.example'],
     200, undef, '-'],
    # CSRF
    ['POST, the cookie, no Origin, no Sec-Fetch-Site', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok"], 403, $CSRF, 'csrf'],
    ['POST, the cookie, the own Origin', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => $own], 200, undef, '-'],
    ['POST, the cookie, the own Origin in upper case', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => uc $own], 200, undef, '-'],
    ['POST, the cookie, a trusted Origin', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://app.example.com'], 200, undef,
     '-'],
    ['POST, the cookie, the second trusted Origin', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'http://other.example:8080'], 200,
     undef, '-'],
    ['POST, the cookie, a trusted host on another port', 'POST',
     '/ck/env.cgi', [Cookie => "jwt=$tok",
                     Origin => 'http://other.example:8081'], 403, $CSRF,
     'csrf'],
    ['POST, the cookie, another Origin', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://evil.example'], 403, $CSRF,
     'csrf'],
    ['POST, the cookie, the own origin with a path', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => "$own/"], 403, $CSRF, 'csrf'],
    ['POST, the cookie, Origin null', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'null'], 403, $CSRF, 'csrf'],
    ['POST, the cookie, Sec-Fetch-Site same-origin, no Origin', 'POST',
     '/ck/env.cgi', [Cookie => "jwt=$tok", 'Sec-Fetch-Site' => 'same-origin'],
     200, undef, '-'],
    ['POST, the cookie, Sec-Fetch-Site same-site', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", 'Sec-Fetch-Site' => 'same-site'], 403, $CSRF,
     'csrf'],
    ['POST, the cookie, Sec-Fetch-Site cross-site', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", 'Sec-Fetch-Site' => 'cross-site'], 403, $CSRF,
     'csrf'],
    ['POST, Origin decides over Sec-Fetch-Site', 'POST', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://evil.example',
      'Sec-Fetch-Site' => 'same-origin'], 403, $CSRF, 'csrf'],
    ['PUT, the cookie, another Origin', 'PUT', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://evil.example'], 403, $CSRF,
     'csrf'],
    ['PATCH, the cookie, another Origin', 'PATCH', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://evil.example'], 403, $CSRF,
     'csrf'],
    ['DELETE, the cookie, another Origin', 'DELETE', '/ck/env.cgi',
     [Cookie => "jwt=$tok", Origin => 'https://evil.example'], 403, $CSRF,
     'csrf'],
    ['POST, the token in the header, another Origin: exempt', 'POST',
     '/ck/env.cgi', ['x-access-token' => $tok, Cookie => "jwt=$tok",
                     Origin => 'https://evil.example'], 200, undef, '-'],
    ['POST, Bearer, another Origin: exempt', 'POST', '/ck/env.cgi',
     [Authorization => "Bearer $tok", Origin => 'https://evil.example'], 200,
     undef, '-'],
    ['POST, an invalid cookie, another Origin: 401 first', 'POST',
     '/ck/env.cgi', [Cookie => "jwt=$expired",
                     Origin => 'https://evil.example'], 401, $INVALID,
     'expired'],
    ['POST, cross-site: an ErrorDocument 403 wins', 'POST',
     '/ck-doc/env.cgi', [Cookie => "jwt=$tok",
                         Origin => 'https://evil.example'], 403,
     'custom forbidden', 'csrf'],
);

# the login rows: [what, path, Set-Cookie expected (undef: none)]
my $basic = 'Basic ' . encode_base64('daehan:1234', '');
my @login = (
    ['default attributes, Max-Age the lifetime', '/ck-login',
     qr/^jwt=([\w-]+\.[\w-]+\.[\w-]+); Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/],
    ['JWTAuthCookieAttributes replaces them', '/ck-login-attrs',
     qr/^jwt=([\w-]+\.[\w-]+\.[\w-]+); Path=\/app; HttpOnly; SameSite=Strict; Max-Age=1800$/],
    ['no JWTAuthCookie: no cookie', '/login', undef],
);

# JWTAuthForwardToken: [what, path, headers, the HTTP_COOKIE the backend
# gets (undef: none)].  Two Cookie headers (which RFC 6265 section 5.4
# forbids a browser) are no cookie token (httpd joins them with ", "):
# the token comes from x-access-token there.
my @fwd = (
    ['Off: the token cookie alone', '/ck-fwd-off', [Cookie => "jwt=$tok"],
     undef],
    ['Off: the other cookies go on', '/ck-fwd-off',
     [Cookie => "a=b; jwt=$tok; c=d"], 'a=b; c=d'],
    ['Off: a cookie of a longer name goes on', '/ck-fwd-off',
     [Cookie => "jwtx=1; jwt=$tok"], 'jwtx=1'],
    ['Off: the cookie in a second Cookie header', '/ck-fwd-off',
     ['x-access-token' => $tok, Cookie => 'a=b', Cookie => "jwt=$tok"],
     'a=b'],
    ['On: the cookie goes on', '/ck-fwd-on', [Cookie => "a=b; jwt=$tok"],
     "a=b; jwt=$tok"],
);

# apache2 -t: [what, directive, refused?, output pattern]
my @startup = (
    ['attributes with a CR', qq{JWTAuthCookieAttributes "Path=/\rX: y; HttpOnly"},
     1, qr/JWTAuthCookieAttributes: a control character/],
    ['attributes with a tab', qq{JWTAuthCookieAttributes "Path=/;\tHttpOnly"},
     1, qr/JWTAuthCookieAttributes: a control character/],
    ['attributes without HttpOnly: a warning', 'JWTAuthCookieAttributes '
     . '"Path=/; Secure"', 0, qr/JWTAuthCookieAttributes without HttpOnly/],
    ['attributes with HttpOnly: no warning', 'JWTAuthCookieAttributes '
     . '"Path=/; HttpOnly"', 0, qr/^Syntax OK\s*$/],
    ['a cookie name with "="', 'JWTAuthCookie a=b', 1,
     qr/JWTAuthCookie: 'a=b' is not a cookie name/],
    ['a cookie name with ";"', 'JWTAuthCookie "a;b"', 1,
     qr/JWTAuthCookie: 'a;b' is not a cookie name/],
    ['a good cookie name', 'JWTAuthCookie __Host-jwt', 0, qr/^Syntax OK\s*$/],
    ['a trusted origin with a path', 'JWTAuthTrustedOrigin https://a.example/x',
     1, qr/JWTAuthTrustedOrigin: "https:\/\/a.example\/x" is not an origin/],
    ['a trusted origin "null"', 'JWTAuthTrustedOrigin null', 1,
     qr/JWTAuthTrustedOrigin: "null" is not an origin/],
    ['a trusted origin with a port', 'JWTAuthTrustedOrigin '
     . 'https://a.example:8443', 0, qr/^Syntax OK\s*$/],
);

plan tests => 3 * @rows + 2 * @login + 2 * @startup + 2 * @fwd + 3,
     need_cgi, need_module('mod_jwtauth.c');

my $log = t_dir() . '/logs/cookie_log';
my $start = -s $log // 0;
my $n = 0;
for my $row (@rows) {
    my ($what, $method, $path, $h, $status, $body, $reason) = @$row;
    my $res = req($method, $path, @$h, 'X-Ck-Row' => ++$n);
    is($res->code, $status, "$what: status");
    if (defined $body) {
        is($res->content, $body, "$what: body");
    }
    else {
        isnt($res->content, $CSRF, "$what: not the CSRF body");
    }
}
# each request's JWTAUTH_ERROR, from the access log
my %seen = %{ logged_rows($log, $start, scalar @rows) };
$n = 0;
for my $row (@rows) {
    ++$n;
    is($seen{$n}, "$row->[4] $row->[6]", "$row->[0]: JWTAUTH_ERROR");
}

# the csrf counter of jwtauth-metrics
sub csrf_count {
    my $m = GET_BODY('/metrics');
    return $m =~ /^jwtauth_requests_total\{result="csrf"\} (\d+)$/m ? $1 : -1;
}
my $before = csrf_count();
ok($before >= 0, 'metrics: a csrf counter');
req('POST', '/ck/env.cgi', Cookie => "jwt=$tok", Origin => 'null');
is(csrf_count(), $before + 1, 'metrics: a CSRF refusal counts as csrf');

# /login sets the cookie; the cookie it sets is accepted
for my $row (@login) {
    my ($what, $path, $want) = @$row;
    my $res = GET($path, Authorization => $basic);
    my @sc = $res->header('Set-Cookie');
    if ($want) {
        like(join("\n", @sc), $want, "$what: Set-Cookie");
        my ($jwt) = (join("\n", @sc) =~ $want);
        is($jwt, JWTTest::json_decode($res->content)->{token},
           "$what: the cookie is the token of the body");
    }
    else {
        is(scalar @sc, 0, "$what: Set-Cookie");
        is($res->code, 200, "$what: status");
    }
}
{
    my $res = GET('/ck-login', Authorization => $basic);
    my ($jwt) = ($res->header('Set-Cookie') // '') =~ /^jwt=([^;]+)/;
    is(GET('/ck/hello.html', Cookie => "jwt=" . ($jwt // ''))->code, 200,
       'the cookie /login set opens /ck');
}

# JWTAuthForwardToken Off removes the token cookie from the backend's
# request
for my $row (@fwd) {
    my ($what, $path, $h, $want) = @$row;
    my $res = GET("$path/echo.cgi", @$h);
    is($res->code, 200, "$what: status");
    is(eval { JWTTest::json_decode($res->content)->{HTTP_COOKIE} }, $want,
       "$what: the backend's Cookie");
}

# apache2 -t
for my $row (@startup) {
    my ($what, $directive, $refused, $pattern) = @$row;
    my ($rc, $out) = apache_t([], $directive);
    is($rc != 0 ? 1 : 0, $refused, "$what: apache2 -t "
       . ($refused ? 'refuses' : 'passes')) or diag($out);
    like($out, $pattern, "$what: output") or diag($out);
}
