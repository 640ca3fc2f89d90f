# JWTAuth Optional (a request without a token goes on anonymously, a
# present one is checked as under On), JWTAuthCORSPreflight (a CORS
# preflight skips the token check, never the Require rules), and the 400
# invalid_request of RFC 6750 section 3.1 (two different tokens, or
# malformed Bearer credentials).  The server config is
# t/conf/optional.conf.in.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $now = time;
my $tok = token();
my $other = token(sub => 'other');
my $admin = token(admin => JSON::PP::true);
my $expired = token(exp => $now - 100);
my %missing = (challenge => 'Bearer realm="jwtauth"',
               body => '{"message": "Token is missing!"}');
my %invalid = (challenge => 'Bearer realm="jwtauth", error="invalid_token"',
               body => '{"message": "Token is invalid!"}');
my $bad_challenge = 'Bearer realm="Bad", error="invalid_request"';

# the 400 rows: [what, headers, status]; a 400 has the invalid_request
# challenge, the others show that the same request is otherwise fine
my @bad = (
    ['x-access-token alone (the seed)', ['x-access-token' => $tok], 200],
    ['Authorization: Bearer alone', [Authorization => "Bearer $tok"], 200],
    ['both, the same token', ['x-access-token' => $tok,
                              Authorization => "Bearer $tok"], 200],
    ['both, different tokens', ['x-access-token' => $tok,
                                Authorization => "Bearer $other"], 400],
    ['both, the header an invalid token', ['x-access-token' => 'x.y.z',
                                           Authorization => "Bearer $tok"],
     400],
    ['"Bearer" alone', [Authorization => 'Bearer'], 400],
    ['"Bearer a b": two credentials', [Authorization => 'Bearer a b'], 400],
    ['"Bearer a\tb": a tab', [Authorization => "Bearer a\tb"], 400],
    ['"Bearer\ta": a tab for the space', [Authorization => "Bearer\ta"], 400],
    ['"Bearer ©": not a b64token', [Authorization => "Bearer \xc2\xa9"], 400],
    ['"Bearer a,b": a comma', [Authorization => 'Bearer a,b'], 400],
    ['"Bearer ==": padding alone', [Authorization => 'Bearer =='], 400],
    ['two Authorization headers', [Authorization => "Bearer $tok",
                                   Authorization => "Bearer $tok"], 400],
    ['malformed Bearer beside a good header',
     ['x-access-token' => $tok, Authorization => 'Bearer a b'], 400],
    ['lower-case "bearer": the scheme ignores case',
     [Authorization => "bearer $tok"], 200],
    ['"BEARER"', [Authorization => "BEARER $tok"], 200],
    ['two spaces after Bearer', [Authorization => "Bearer  $tok"], 200],
    ['"bearer a b" lower-case and malformed',
     [Authorization => 'bearer a b'], 400],
    ['a b64token that is no JWT: 401, not 400',
     [Authorization => 'Bearer abc~+/=='], 401],
    ['another scheme ("Bearerx")', [Authorization => "Bearerx $tok"], 401],
    ['Basic beside the header: not a second token',
     ['x-access-token' => $tok, Authorization => 'Basic ZGFlaGFuOng='], 200],
    ['an empty header and Bearer', ['x-access-token' => '',
                                    Authorization => "Bearer $tok"], 200],
);

# the Optional rows: [what, path, headers, status, REMOTE_USER or undef]
my @opt = (
    ['Optional, no token: anonymous', '/opt/env.cgi', [], 200, undef],
    ['Optional, an empty header: anonymous', '/opt/env.cgi',
     ['x-access-token' => ''], 200, undef],
    ['Optional, Basic credentials: anonymous', '/opt/env.cgi',
     [Authorization => 'Basic ZGFlaGFuOng='], 200, undef],
    ['Optional, a valid token', '/opt/env.cgi', ['x-access-token' => $tok],
     200, 'daehan'],
    ['Optional, a valid Bearer token', '/opt/env.cgi',
     [Authorization => "Bearer $tok"], 200, 'daehan'],
    ['Optional, an invalid token', '/opt/env.cgi',
     ['x-access-token' => 'x.y.z'], 401, undef],
    ['Optional, an expired token', '/opt/env.cgi',
     ['x-access-token' => $expired], 401, undef],
    ['Optional, malformed Bearer', '/opt/env.cgi',
     [Authorization => 'Bearer a b'], 400, undef],
    ['Optional + valid-user, no token', '/opt-user/hello.html', [], 401,
     undef],
    ['Optional + valid-user, a valid token', '/opt-user/env.cgi',
     ['x-access-token' => $tok], 200, 'daehan'],
    ['Optional + jwt-claim, no token', '/opt-claim/hello.html', [], 401,
     undef],
    ['Optional + jwt-claim, a token without the claim',
     '/opt-claim/hello.html', ['x-access-token' => $tok], 403, undef],
    ['Optional + jwt-claim, a token with it', '/opt-claim/env.cgi',
     ['x-access-token' => $admin], 200, 'daehan'],
);

# the CORS rows: [what, method, path, headers, status]
my @pre = (Origin => 'https://app.example',
           'Access-Control-Request-Method' => 'PUT');
my @cors = (
    ['preflight, no token', 'OPTIONS', '/cors/hello.html', [@pre], 200],
    ['preflight with a token: not read', 'OPTIONS', '/cors/hello.html',
     [@pre, 'x-access-token' => $tok], 200],
    ['preflight with a bad token: not read', 'OPTIONS', '/cors/hello.html',
     [@pre, 'x-access-token' => 'x.y.z'], 200],
    ['OPTIONS with Origin only', 'OPTIONS', '/cors/hello.html',
     [Origin => 'https://app.example'], 401],
    ['OPTIONS with Access-Control-Request-Method only', 'OPTIONS',
     '/cors/hello.html', ['Access-Control-Request-Method' => 'PUT'], 401],
    ['OPTIONS, neither header', 'OPTIONS', '/cors/hello.html', [], 401],
    ['GET with the preflight headers', 'GET', '/cors/hello.html', [@pre],
     401],
    ['GET with Origin and a token', 'GET', '/cors/hello.html',
     [Origin => 'https://app.example', 'x-access-token' => $tok], 200],
    ['JWTAuthCORSPreflight unset: preflight', 'OPTIONS',
     '/cors-off/hello.html', [@pre], 401],
    ['preflight, Require jwt-claim: still applies', 'OPTIONS',
     '/cors-claim/hello.html', [@pre], 401],
    ['preflight, RequireAny with the preflight expr', 'OPTIONS',
     '/cors-any/hello.html', [@pre], 200],
    ['RequireAny: GET without a token', 'GET', '/cors-any/hello.html', [],
     401],
    ['RequireAny: OPTIONS, not a preflight', 'OPTIONS',
     '/cors-any/hello.html', [Origin => 'https://app.example'], 401],
    ['RequireAny: GET, a token with the claim', 'GET',
     '/cors-any/hello.html', ['x-access-token' => $admin], 200],
);

# apache2 -t: [what, lines, expected output]
my @conf = (
    ['JWTAuth Maybe', ['<Location /x>', 'JWTAuth Maybe', '</Location>'],
     qr/JWTAuth: 'Maybe' is not On, Off or Optional/],
    ['JWTAuth optional (any case)',
     ['<Location /x>', 'JWTAuth optional', '</Location>'], qr/Syntax OK/],
    ['JWTAuth Optional without a key',
     ['<Location /x>', 'JWTAuth Optional', '</Location>'],
     qr/JWTAuth Optional but no key/],
    ['JWTAuthCORSPreflight Maybe', ['JWTAuthCORSPreflight Maybe'],
     qr/JWTAuthCORSPreflight must be On or Off/],
    ['JWTAuthCORSPreflight On server-wide', ['JWTAuthCORSPreflight On'],
     qr/Syntax OK/],
);

# the rows, then: the 400 (3), ErrorDocument 400 (4), JWTAuthHeader
# Authorization (2), the anonymous request (6), the seed's 401s (5), the
# preflight's answer (4), the counter (1), JWTAUTH_ERROR (2)
plan tests => 2 * @bad + 2 * @opt + @cors + @conf + 3 + 4 + 2 + 6 + 5 + 4
              + 1 + 2,
    need_module('mod_jwtauth.c', 'mod_headers.c', 'mod_cgid.c',
                'mod_authz_user.c', 'mod_log_config.c');

# the counter of the 400s, as the metrics page shows it
sub invalid_requests {
    my $page = GET('/metrics')->content;
    return $page =~ /^jwtauth_requests_total\{result="invalid_request"\} (\d+)$/m
           ? $1 : undef;
}
my $before = invalid_requests();

my $n400 = 0;
for my $r (@bad) {
    my ($what, $hdrs, $want) = @$r;
    my $res = GET('/badreq/hello.html', @$hdrs);
    is($res->code, $want, "$what: $want");
    $n400++ if $want == 400;
    if ($want == 400) {
        is($res->header('WWW-Authenticate'), $bad_challenge,
           "$what: the invalid_request challenge");
    }
    else {
        isnt($res->header('WWW-Authenticate') // '', $bad_challenge,
             "$what: no invalid_request challenge");
    }
}

# the 400 itself
my $res = GET('/badreq/hello.html', Authorization => 'Bearer a b');
$n400++;
is($res->content_type, 'application/json', '400: application/json');
is($res->content, '{"message": "Bad request!"}', '400: the body');
is($res->header('Cache-Control'), 'no-store', '400: Cache-Control no-store');

# an admin's ErrorDocument 400 wins; the challenge and no-store stay
$res = GET('/badreq-doc/hello.html', 'x-access-token' => $tok,
           Authorization => "Bearer $other");
is($res->code, 400, 'ErrorDocument 400: still 400');
$n400++;
is($res->content, 'custom bad request', 'ErrorDocument 400: its body');
like($res->header('WWW-Authenticate') // '', qr/error="invalid_request"/,
     'ErrorDocument 400: the challenge stays');
is($res->header('Cache-Control'), 'no-store',
   'ErrorDocument 400: Cache-Control no-store stays');

# JWTAuthHeader Authorization: the Bearer token, read once
is(GET('/badreq-authz/hello.html', Authorization => "Bearer $tok")->code,
   200, 'JWTAuthHeader Authorization: the Bearer token passes');
is(GET('/badreq-authz/hello.html', Authorization => 'Bearer a b')->code,
   400, 'JWTAuthHeader Authorization: malformed Bearer is 400');
$n400++;

for my $r (@opt) {
    my ($what, $path, $hdrs, $want, $user) = @$r;
    $res = GET($path, @$hdrs);
    is($res->code, $want, "$what: $want");
    if ($want == 200) {
        my $env = json_decode($res->content);
        is($env->{REMOTE_USER}, $user, "$what: REMOTE_USER "
           . ($user // 'unset'));
    }
    elsif ($want == 401) {
        my $why = $what =~ /invalid|expired/ ? \%invalid : \%missing;
        is($res->header('WWW-Authenticate'), $why->{challenge},
           "$what: the challenge");
    }
    elsif ($want == 403) {
        is($res->content, '{"message": "Access denied!"}',
           "$what: Access denied!");
    }
    else {
        is($res->header('WWW-Authenticate'),
           'Bearer realm="jwtauth", error="invalid_request"',
           "$what: the invalid_request challenge");
    }
}
$n400++;    # the Optional row with malformed Bearer

# what an anonymous request carries: nothing of a token
$res = GET('/opt/env.cgi');
is_deeply(json_decode($res->content), {},
          'Optional, no token: no REMOTE_USER, AUTH_TYPE or JWT_CLAIM_*');
$res = GET('/opt/env.cgi', 'x-access-token' => $admin);
my $env = json_decode($res->content);
is($env->{AUTH_TYPE}, 'Bearer', 'Optional, a valid token: AUTH_TYPE Bearer');
is($env->{JWT_CLAIM_admin}, 'true', 'Optional, a valid token: its claims');
$res = GET('/opt-user/hello.html');
is($res->content, $missing{body},
   'Optional + valid-user, no token: "Token is missing!"');
is($res->content_type, 'application/json',
   'Optional + valid-user, no token: application/json');
$res = GET('/opt/env.cgi', 'x-access-token' => 'x.y.z');
is($res->content, $invalid{body}, 'Optional, an invalid token: the body');

# the seed's 401s under On keep their challenges: no error code for a
# missing token (RFC 6750 section 3.1), invalid_token for a bad one
$res = GET('/badreq/hello.html');
is($res->code, 401, 'On, no token: 401');
is($res->header('WWW-Authenticate'), 'Bearer realm="Bad"',
   'On, no token: no error code in the challenge');
is($res->content, $missing{body}, 'On, no token: "Token is missing!"');
$res = GET('/badreq/hello.html', 'x-access-token' => 'x.y.z');
is($res->header('WWW-Authenticate'),
   'Bearer realm="Bad", error="invalid_token"',
   'On, an invalid token: error="invalid_token"');
is($res->content, $invalid{body}, 'On, an invalid token: "Token is invalid!"');

for my $r (@cors) {
    my ($what, $method, $path, $hdrs, $want) = @$r;
    no strict 'refs';
    $res = &{"Apache::TestRequest::$method"}($path, @$hdrs);
    is($res->code, $want, "$what: $want");
}

# the preflight's answer is the OPTIONS one, with the CORS header and no
# user, even when a token came with it
$res = OPTIONS('/cors/hello.html', @pre, 'x-access-token' => $tok);
like($res->header('Allow') // '', qr/\bOPTIONS\b/,
     'preflight: the OPTIONS answer (Allow)');
is($res->header('Access-Control-Allow-Origin'), '*',
   'preflight: the CORS header');
is($res->header('X-Remote-User'), '', 'preflight: no user');
$res = OPTIONS('/cors-claim/hello.html', @pre);
is($res->content, $missing{body},
   'preflight refused by Require: "Token is missing!"');

# the 400s counted as invalid_request
my $after = invalid_requests();
is(defined $before && defined $after ? $after - $before : undef, $n400,
   "jwtauth_requests_total{result=\"invalid_request\"}: +$n400");

# apache2 -t
for my $c (@conf) {
    my ($what, $lines, $pat) = @$c;
    my (undef, $out) = apache_t([],
        ($what =~ /without a key/ ? () : 'JWTAuthSecretFile '
                                         . fixture('secret')),
        @$lines);
    like($out, $pat, "apache2 -t: $what") or diag($out);
}

# JWTAUTH_ERROR: unset for an anonymous request, missing when a Require
# rule then refuses it, invalid_request for a 400
my $log = t_dir() . '/logs/optional_log';
my $start = -s $log // 0;
my @log_rows = (['anon', '/opt/hello.html', [], '200 -'],
                ['needuser', '/opt-user/hello.html', [], '401 missing'],
                ['bad', '/badreq/hello.html',
                 [Authorization => 'Bearer a b'], '400 invalid_request']);
GET($_->[1], @{ $_->[2] }, 'X-Opt-Row' => $_->[0]) for @log_rows;
my %seen = %{ logged_rows($log, $start, scalar @log_rows) };
is_deeply(\%seen, { map { $_->[0] => $_->[3] } @log_rows },
          'JWTAUTH_ERROR: unset anonymous, missing, invalid_request');
is($seen{bad}, '400 invalid_request', 'JWTAUTH_ERROR=invalid_request');
