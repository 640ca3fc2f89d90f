# Browsers (issue 12): JWTAuthLoginPage sends a browser without a valid
# token to the login page (303 with return_to) where an API client keeps
# the JSON 401; jwtauth-login answers a browser's form with 303 to its
# local return_to (or to the login page with error=1); a cross-site login
# form is refused (login CSRF).  The server config is
# t/conf/browser.conf.in.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use HTTP::Request;
use LWP::UserAgent;
use MIME::Base64 qw(encode_base64);
use URI::Escape qw(uri_escape);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $tok = token();
my $expired = token(exp => time - 100);
my $own = 'http://' . Apache::TestRequest::hostport();
my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';
my $CSRF = '{"message": "Cross-site request refused!"}';
my $CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,'
           . 'image/avif,image/webp,image/apng,*/*;q=0.8,'
           . 'application/signed-exchange;v=b3;q=0.7';
my $FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,'
            . '*/*;q=0.8';
my $basic = 'Basic ' . encode_base64('daehan:1234', '');

# one request, redirects not followed
my $ua = LWP::UserAgent->new(max_redirect => 0, timeout => 20);
sub req {
    my ($method, $path, $h, $body) = @_;
    my @cl = defined $body ? () : ('Content-Length' => 0);
    return $ua->request(HTTP::Request->new(
        $method, Apache::TestRequest::resolve_url($path), [@$h, @cl],
        $body // ''));
}

# a form body of these fields, each value percent-encoded as a browser
# does (so that the server decodes exactly the value given)
sub form {
    my @kv = @_;
    my @p;
    while (my ($k, $v) = splice @kv, 0, 2) {
        push @p, "$k=" . uri_escape($v);
    }
    return join '&', @p;
}
my @FORM = ('Content-Type' => 'application/x-www-form-urlencoded');

# ---- JWTAuthLoginPage: [what, method, path, headers, status, Location
# (for a 303) or body]
my @page = (
    ["Chromium's navigation Accept", 'GET', '/bl/hello.html',
     [Accept => $CHROME], 303, '/bl-page.html?return_to=/bl/hello.html'],
    ["Firefox's navigation Accept", 'GET', '/bl/hello.html',
     [Accept => $FIREFOX], 303, '/bl-page.html?return_to=/bl/hello.html'],
    ['Accept: text/html', 'GET', '/bl/hello.html', [Accept => 'text/html'],
     303, '/bl-page.html?return_to=/bl/hello.html'],
    ['Accept: TEXT/HTML (no case)', 'GET', '/bl/hello.html',
     [Accept => 'TEXT/HTML'], 303, '/bl-page.html?return_to=/bl/hello.html'],
    ['Accept: text/*', 'GET', '/bl/hello.html', [Accept => 'text/*'], 303,
     '/bl-page.html?return_to=/bl/hello.html'],
    ["curl's Accept: */*", 'GET', '/bl/hello.html', [Accept => '*/*'], 401,
     $MISSING],
    ['Accept: application/json', 'GET', '/bl/hello.html',
     [Accept => 'application/json'], 401, $MISSING],
    ['no Accept', 'GET', '/bl/hello.html', [], 401, $MISSING],
    ['text/html;q=0.5 after application/json', 'GET', '/bl/hello.html',
     [Accept => 'text/html;q=0.5, application/json'], 401, $MISSING],
    ['application/json;q=0.5 after text/html', 'GET', '/bl/hello.html',
     [Accept => 'application/json; q=0.5, text/html'], 303,
     '/bl-page.html?return_to=/bl/hello.html'],
    ['text/html and application/json tie', 'GET', '/bl/hello.html',
     [Accept => 'text/html, application/json'], 401, $MISSING],
    ['text/html below */*', 'GET', '/bl/hello.html',
     [Accept => 'text/html;q=0.8, */*;q=0.9'], 401, $MISSING],
    ['text/html;q=0', 'GET', '/bl/hello.html', [Accept => 'text/html;q=0'],
     401, $MISSING],
    ['text/html with a q that is no qvalue', 'GET', '/bl/hello.html',
     [Accept => 'text/html;q=2, */*'], 401, $MISSING],
    ['application/json below */* still names JSON', 'GET', '/bl/hello.html',
     [Accept => 'text/html;q=0.5, application/json;q=0.1, */*;q=0.6'], 401,
     $MISSING],
    ['the query goes into return_to, encoded', 'GET',
     '/bl/hello.html?a=1&b=%2F', [Accept => $CHROME], 303,
     '/bl-page.html?return_to=/bl/hello.html%3Fa%3D1%26b%3D%252F'],
    ['an invalid token in the cookie', 'GET', '/bl/hello.html',
     [Accept => $CHROME, Cookie => 'jwt=a.b.c'], 303,
     '/bl-page.html?return_to=/bl/hello.html'],
    ['an expired token in the cookie', 'GET', '/bl/hello.html',
     [Accept => $CHROME, Cookie => "jwt=$expired"], 303,
     '/bl-page.html?return_to=/bl/hello.html'],
    ['an invalid token for an API client', 'GET', '/bl/hello.html',
     [Cookie => "jwt=$expired"], 401, $INVALID],
    ['two cookies of the name: 400, no login page', 'GET', '/bl/hello.html',
     [Accept => $CHROME, Cookie => "jwt=$tok; jwt=$tok"], 400, undef],
    ['a valid cookie: the page', 'GET', '/bl/hello.html',
     [Accept => $CHROME, Cookie => "jwt=$tok"], 200, undef],
    ['a valid cookie, cross-site POST: 403, no login page', 'POST',
     '/bl/env.cgi', [Accept => $CHROME, Cookie => "jwt=$tok",
                     Origin => 'https://evil.example'], 403, $CSRF],
    ['a login page URL with a query of its own', 'GET', '/bl-abs/hello.html',
     [Accept => $CHROME], 303,
     'https://login.example/page?lang=en&return_to=/bl-abs/hello.html'],
    ['ErrorDocument 401: a browser gets the login page', 'GET',
     '/bl-doc/hello.html', [Accept => $CHROME], 303,
     '/bl-page.html?return_to=/bl-doc/hello.html'],
    ['ErrorDocument 401: an API client gets it', 'GET', '/bl-doc/hello.html',
     [Accept => '*/*'], 401, 'custom unauthorized'],
    ['no JWTAuthCookie: no login page', 'GET', '/bl-nocookie/hello.html',
     [Accept => $CHROME], 401, $MISSING],
    ['JWTAuth Optional, Require valid-user, no token', 'GET',
     '/bl-opt/hello.html', [Accept => $CHROME], 303,
     '/bl-page.html?return_to=/bl-opt/hello.html'],
    ['JWTAuth Optional, an API client', 'GET', '/bl-opt/hello.html',
     [Accept => '*/*'], 401, $MISSING],
);

# ---- the browser's form login at /bl-login, from its own origin:
# [what, return_to (undef: none), Location]
my @return_to = (
    ['no return_to', undef, '/'],
    ['an empty return_to', '', '/'],
    ['a local path', '/bl/hello.html', '/bl/hello.html'],
    ['a local path with a query', '/bl/env.cgi?x=1&y=%2F',
     '/bl/env.cgi?x=1&y=%2F'],
    ['a local path with %2F inside', '/a/%2F%2Fb', '/a/%2F%2Fb'],
    ['//evil.example/', '//evil.example/', '/'],
    ['/\\evil.example', '/\\evil.example', '/'],
    ['a backslash further on', '/a\\b', '/'],
    ['https://evil.example', 'https://evil.example', '/'],
    ['a scheme: javascript:', 'javascript:alert(1)', '/'],
    ['a relative path', 'evil.example', '/'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example', '/'],
    ['/%2f/evil.example (lower case)', '/%2f/evil.example', '/'],
    ['/%5Cevil.example', '/%5Cevil.example', '/'],
    ['/%252F%252Fevil.example (twice encoded)', '/%252F%252Fevil.example',
     '/'],
    ['a tab: /<TAB>/evil.example', "/\t/evil.example", '/'],
    ['a newline', "/a\r\nSet-Cookie: x=1", '/'],
    ['an encoded tab: /%09/evil.example', '/%09/evil.example', '/'],
    ['a space', '/a b', '/'],
    ['a non-ASCII byte', "/caf\xc3\xa9", '/'],
    ['too long', '/' . ('a' x 3000), '/'],
);

# ---- the other answers of the login handler: [what, path, headers, body,
# status, Location or body pattern, Set-Cookie expected]
my $good = form(username => 'daehan', password => '1234');
my $bad = form(username => 'daehan', password => '4321');
my @login = (
    ['browser, wrong password: login page with error=1', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => $own], $bad, 303,
     '/bl-page.html?error=1', 0],
    ['browser, wrong password: error=1 keeps return_to', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => $own],
     "$bad&return_to=%2Fbl%2Fhello.html", 303,
     '/bl-page.html?error=1&return_to=/bl/hello.html', 0],
    ['browser, wrong password, no login page: 401', '/bl-login-nopage',
     [@FORM, Accept => $CHROME, Origin => $own], $bad, 401,
     qr/^Could not verify$/, 0],
    ['browser, no login page: success still 303', '/bl-login-nopage',
     [@FORM, Accept => $CHROME, Origin => $own], $good, 303, '/', 1],
    ['browser, a form without the password: error=1', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => $own], 'username=daehan', 303,
     '/bl-page.html?error=1', 0],
    ['browser navigates to the login URL: the login page', '/bl-login',
     [Accept => $CHROME], undef, 303, '/bl-page.html', 0],
    ['API: a form without text/html: the JSON token', '/bl-login',
     [@FORM, Accept => '*/*', Origin => $own], $good, 200,
     qr/^\{"token": "[\w-]+\.[\w-]+\.[\w-]+", "token_type": "Bearer"/, 1],
    ['API: Basic with text/html: the JSON token', '/bl-login',
     [Authorization => $basic, Accept => $CHROME], undef, 200,
     qr/^\{"token": /, 1],
    ['API: JSON with text/html: the JSON token', '/bl-login',
     ['Content-Type' => 'application/json', Accept => $CHROME],
     '{"username": "daehan", "password": "1234"}', 200, qr/^\{"token": /,
     1],
    ['API: a form, wrong password: 401', '/bl-login',
     [@FORM, Origin => $own], $bad, 401, qr/^Could not verify$/, 0],
    ['no JWTAuthCookie: a browser form gets JSON', '/bl-login-nocookie',
     [@FORM, Accept => $CHROME], $good, 200, qr/^\{"token": /, 0],
    ['no JWTAuthCookie: a browser failure gets 401', '/bl-login-nocookie',
     [@FORM, Accept => $CHROME], $bad, 401, qr/^Could not verify$/, 0],
);

# ---- login CSRF at /bl-login: [what, path, headers, body, status]
# (303 for a form that passes, 200 for an exempt API login)
my @csrf = (
    ['a foreign Origin', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => 'https://evil.example'], $good,
     403],
    ['Origin null', '/bl-login', [@FORM, Accept => $CHROME, Origin => 'null'],
     $good, 403],
    ['neither Origin nor Sec-Fetch-Site (curl -d: use Basic or JSON)',
     '/bl-login', [@FORM], $good, 403],
    ['Sec-Fetch-Site: cross-site', '/bl-login',
     [@FORM, Accept => $CHROME, 'Sec-Fetch-Site' => 'cross-site'], $good,
     403],
    ['a foreign Origin, wrong password: 403 before the password', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => 'https://evil.example'], $bad,
     403],
    ['the own Origin', '/bl-login', [@FORM, Accept => $CHROME, Origin => $own],
     $good, 303],
    ['Sec-Fetch-Site: same-origin, no Origin', '/bl-login',
     [@FORM, Accept => $CHROME, 'Sec-Fetch-Site' => 'same-origin'], $good,
     303],
    ['a JWTAuthTrustedOrigin', '/bl-login',
     [@FORM, Accept => $CHROME, Origin => 'https://app.example.com'], $good,
     303],
    ['JSON from a foreign Origin: exempt (needs a preflight)', '/bl-login',
     ['Content-Type' => 'application/json',
      Origin => 'https://evil.example'],
     '{"username": "daehan", "password": "1234"}', 200],
    ['Basic from a foreign Origin: exempt (no page can set it)', '/bl-login',
     [Authorization => $basic, Origin => 'https://evil.example'], undef, 200],
    ['no login page: still checked', '/bl-login-nopage',
     [@FORM, Accept => $CHROME, Origin => 'https://evil.example'], $good,
     403],
    ['no JWTAuthCookie: not checked (no cookie to plant)',
     '/bl-login-nocookie', [@FORM, Origin => 'https://evil.example'], $good,
     200],
);

# ---- apache2 -t: [what, directive, refused?, output pattern]
my @startup = (
    ['a local path', 'JWTAuthLoginPage /login.html', 0, qr/^Syntax OK\s*$/],
    ['a local path with a query', 'JWTAuthLoginPage /login.shtml?x=1', 0,
     qr/^Syntax OK\s*$/],
    ['an https URL', 'JWTAuthLoginPage https://login.example/page', 0,
     qr/^Syntax OK\s*$/],
    ['an http URL elsewhere', 'JWTAuthLoginPage http://login.example/', 1,
     qr/JWTAuthLoginPage: 'http:\/\/login.example\/' is not an absolute https/],
    ['//host', 'JWTAuthLoginPage //evil.example/', 1,
     qr/JWTAuthLoginPage: '\/\/evil.example\/' is not a local path/],
    ['a relative path', 'JWTAuthLoginPage login.html', 1,
     qr/JWTAuthLoginPage: 'login.html' is not an absolute https/],
    ['a quote', 'JWTAuthLoginPage \'/a"b\'', 1,
     qr/JWTAuthLoginPage: '\/a"b' is not a local path/],
    ['a backslash', 'JWTAuthLoginPage /a\\\\b', 1,
     qr/JWTAuthLoginPage: .* is not a local path/],
    ['a space', 'JWTAuthLoginPage "/a b"', 1,
     qr/JWTAuthLoginPage: '\/a b' is not a local path/],
    ['a fragment', 'JWTAuthLoginPage /login.html#x', 1,
     qr/JWTAuthLoginPage: '\/login.html#x' is not a local path/],
    ['a CR in a URL', qq{JWTAuthLoginPage "https://a.example/\rX"}, 1,
     qr/JWTAuthLoginPage: .* holds a blank, a control character/],
);

# ---- JWTAUTH_ERROR of the browser's answers, from the access log: [row,
# method, path, headers, body, "status reason"]
my @reasons = (
    ['page-missing', 'GET', '/bl/hello.html', [Accept => $CHROME], undef,
     '303 missing'],
    ['page-expired', 'GET', '/bl/hello.html',
     [Accept => $CHROME, Cookie => "jwt=$expired"], undef, '303 expired'],
    ['login-failed', 'POST', '/bl-login', [@FORM, Accept => $CHROME,
     Origin => $own], $bad, '303 credentials'],
    ['login-csrf', 'POST', '/bl-login', [@FORM, Accept => $CHROME,
     Origin => 'https://evil.example'], $good, '403 csrf'],
    ['login-ok', 'POST', '/bl-login', [@FORM, Accept => $CHROME,
     Origin => $own], $good, '303 -'],
);
# ---- apache2 -t: a login page under JWTAuth On is warned about (a loop):
# [what, lines, warned?]
my $secret = 'JWTAuthSecretFile "' . fixture('secret') . '"';
my @loop = (
    ['the page under JWTAuth On', [$secret, '<Location />', 'JWTAuth On',
     'JWTAuthCookie jwt', 'JWTAuthLoginPage /login.html', '</Location>'], 1],
    ['the page opened by JWTAuth Off', [$secret, '<Location />',
     'JWTAuth On', 'JWTAuthCookie jwt', 'JWTAuthLoginPage /login.html',
     '</Location>', '<Location /login.html>', 'JWTAuth Off', '</Location>'],
     0],
    ['server-wide, with a query, under JWTAuth On', [$secret,
     'JWTAuthCookie jwt', 'JWTAuthLoginPage /in/login.html?x=1',
     '<Location /in>', 'JWTAuth On', '</Location>'], 1],
    ['no JWTAuthCookie: the page is never used', [$secret, '<Location />',
     'JWTAuth On', 'JWTAuthLoginPage /login.html', '</Location>'], 0],
    ['an https page elsewhere', [$secret, '<Location />', 'JWTAuth On',
     'JWTAuthCookie jwt', 'JWTAuthLoginPage https://login.example/',
     '</Location>'], 0],
);

plan tests => 2 * @page + 3 * @return_to + 3 * @login + 2 * @csrf
              + 2 * @startup + 2 * @loop + @reasons + 5,
     need_cgi, need_module('mod_jwtauth.c');

for my $row (@page) {
    my ($what, $method, $path, $h, $status, $want) = @$row;
    my $res = req($method, $path, $h);
    is($res->code, $status, "login page: $what: status");
    if ($status == 303) {
        is($res->header('Location'), $want, "login page: $what: Location");
    }
    elsif (defined $want) {
        is($res->content, $want, "login page: $what: body");
    }
    else {
        is($res->header('Location'), undef, "login page: $what: no Location");
    }
}

for my $row (@return_to) {
    my ($what, $rt, $want) = @$row;
    my $body = $good . (defined $rt ? '&' . form(return_to => $rt) : '');
    my $res = req('POST', '/bl-login', [@FORM, Accept => $CHROME,
                                        Origin => $own], $body);
    is($res->code, 303, "return_to: $what: status");
    is($res->header('Location'), $want, "return_to: $what: Location");
    like($res->header('Set-Cookie') // '', qr/^jwt=[\w-]+\.[\w-]+\.[\w-]+; /,
         "return_to: $what: Set-Cookie");
}
{
    my $res = req('POST', '/bl-login', [@FORM, Accept => $CHROME,
                                        Origin => $own],
                  "$good&return_to=%2Fa&return_to=%2Fb");
    is($res->header('Location'), '/', 'return_to twice: Location /');
}

for my $row (@login) {
    my ($what, $path, $h, $body, $status, $want, $cookie) = @$row;
    my $res = req($body ? 'POST' : 'GET', $path, $h, $body);
    is($res->code, $status, "login: $what: status");
    if (ref $want) {
        like($res->content, $want, "login: $what: body");
    }
    else {
        is($res->header('Location'), $want, "login: $what: Location");
    }
    is(defined $res->header('Set-Cookie') ? 1 : 0, $cookie,
       "login: $what: Set-Cookie " . ($cookie ? 'set' : 'not set'));
}

for my $row (@csrf) {
    my ($what, $path, $h, $body, $status) = @$row;
    my $res = req('POST', $path, $h, $body);
    is($res->code, $status, "login CSRF: $what: status");
    if ($status == 403) {
        is($res->content, $CSRF, "login CSRF: $what: body");
    }
    else {
        isnt($res->content, $CSRF, "login CSRF: $what: not the CSRF body");
    }
}

# the log says why, never the password
t_start_error_log_watch();
req('POST', '/bl-login', [@FORM, Accept => $CHROME,
                          Origin => 'https://evil.example'],
    form(username => 'daehan', password => 'sekrit-1234'));
my @log = t_finish_error_log_watch();
like("@log", qr/cross-site login form refused \(csrf\): Origin https:\/\/evil\.example/,
     'login CSRF: the reason is logged');
unlike("@log", qr/sekrit/, 'login CSRF: the password is not logged');

my $blog = Apache::Test::vars('t_logs') . '/browser_log';
my $bstart = -s $blog // 0;
req($_->[1], $_->[2], [@{ $_->[3] }, 'X-Bl-Row' => $_->[0]], $_->[4])
    for @reasons;
my %logged;
for (1 .. 20) {
    open my $fh, '<', $blog or last;
    seek $fh, $bstart, 0;
    %logged = map { chomp; split / /, $_, 2 } <$fh>;
    last if keys %logged >= @reasons;
    select undef, undef, undef, 0.1;
}
is($logged{$_->[0]}, $_->[5], "JWTAUTH_ERROR: $_->[0]") for @reasons;

# the login a browser gets opens the protected page with its cookie
{
    my $res = req('POST', '/bl-login', [@FORM, Accept => $CHROME,
                                        Origin => $own],
                  "$good&return_to=%2Fbl%2Fhello.html");
    my ($jwt) = ($res->header('Set-Cookie') // '') =~ /^jwt=([^;]+)/;
    is(req('GET', $res->header('Location') // '/none',
           [Accept => $CHROME, Cookie => 'jwt=' . ($jwt // '')])->code, 200,
       'the cookie of the browser login opens its return_to');
    is($res->header('Cache-Control'), 'no-store',
       'the 303 of a login is not cached');
}

# apache2 -t
for my $row (@startup) {
    my ($what, $directive, $refused, $pattern) = @$row;
    my ($rc, $out) = apache_t([], $directive);
    is($rc != 0 ? 1 : 0, $refused, "JWTAuthLoginPage $what: apache2 -t "
       . ($refused ? 'refuses' : 'passes')) or diag($out);
    like($out, $pattern, "JWTAuthLoginPage $what: output") or diag($out);
}

for my $row (@loop) {
    my ($what, $lines, $warned) = @$row;
    my ($rc, $out) = apache_t([], @$lines);
    is($rc, 0, "login page loop: $what: apache2 -t passes") or diag($out);
    is($out =~ /JWTAuthLoginPage \S+ is itself under JWTAuth On: a browser/
       ? 1 : 0, $warned, "login page loop: $what: "
       . ($warned ? 'warned' : 'no warning')) or diag($out);
}
