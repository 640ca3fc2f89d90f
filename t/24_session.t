# JWTAuthSessionStore (shmcb in the shared test server): SetHandler
# jwtauth-logout (the token's jti refused from the next request on, on
# validated-token cache hits too; all=1 ends every token of the sub
# issued before; the cookie cleared; 303 to a local return_to for a
# form), jwtauth-refresh (a new token for the same login, the old one
# revoked, JWTAuthSessionLifetime) and JWTAuthLoginThrottle (429 with
# Retry-After, the password not checked, per user name and per address,
# the window).  The server config is t/conf/session.conf.in; the fleet
# (redis, memcached, two servers, the store going away) is t/25_fleet.t.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use HTTP::Request;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 105, need_module('mod_jwtauth.c', 'mod_socache_shmcb.c');

my $MISSING = '{"message": "Token is missing!"}';
my $INVALID = '{"message": "Token is invalid!"}';
my $OUT = '{"message": "Logged out"}';
my $THROTTLED = '{"message": "Too many failed logins!"}';
my $BAD = '{"message": "Bad request!"}';
my $CSRF = '{"message": "Cross-site request refused!"}';
my $own = 'http://' . Apache::TestRequest::hostport();
my $run = "$$-" . time;          # a run of its own: jti, sub, user names
my $CLEARED = qr/^jwt=; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=0$/;

# one request: method, path, headers, body (a Content-Type among the
# headers when there is one)
sub req {
    my ($method, $path, $h, $body) = @_;
    $body //= '';
    my $r = HTTP::Request->new($method,
                               Apache::TestRequest::resolve_url($path),
                               [@{ $h // [] },
                                'Content-Length' => length $body], $body);
    return Apache::TestRequest::user_agent()->request($r);
}

sub form { ('Content-Type' => 'application/x-www-form-urlencoded') }
sub jsonct { ('Content-Type' => 'application/json') }

# a token of this run: sub sess-<name>-<run>, a jti of its own, iat a
# little in the past
my $n = 0;
sub stok {
    my ($name, %c) = @_;
    $n++;
    return token(sub => "sess-$name-$run", jti => "sess-$run-$n",
                 iat => time - 30, %c);
}

sub get_page {
    my ($tok, $path) = @_;
    return req('GET', $path // '/sess/hello.html',
               ['x-access-token' => $tok]);
}

# a status and body as one string, to compare rows in one assertion
sub answer { my $r = shift; join ' ', $r->code, $r->content }

my $m0 = metrics();

# ---- logout by each way, each after the token was cached ----
my @ways = (
    ['header', sub { ['x-access-token' => $_[0]] }],
    ['Bearer', sub { [Authorization => "Bearer $_[0]"] }],
    ['cookie', sub { [Cookie => "jwt=$_[0]", Origin => $own] }],
);
for my $w (@ways) {
    my ($way, $hdr) = @$w;
    my $tok = stok("way-$way");
    t_start_error_log_watch();
    my @before = map { get_page($tok)->code } 1 .. 2;
    my $cached = grep { /token accepted .*sess-way-$way-$run, (?:cached|shared cache)\)/ }
                 t_finish_error_log_watch();
    is_deeply(\@before, [200, 200], "logout by $way: the token served twice "
              . 'first');
    cmp_ok($cached, '>=', 1, "logout by $way: the second answer came from a "
           . 'validated-token cache (thread or shared tier)');
    my $res = req('POST', '/sess-logout', $hdr->($tok));
    is(answer($res), "200 $OUT", "logout by $way: 200 Logged out");
    like($res->header('Set-Cookie') // '', $CLEARED,
         "logout by $way: the cookie cleared, its attributes kept");
    is($res->header('Cache-Control'), 'no-store',
       "logout by $way: Cache-Control: no-store");
    $res = get_page($tok);
    is(answer($res), "401 $INVALID", "logout by $way: the token refused on "
       . 'the very next request');
    like($res->header('WWW-Authenticate') // '', qr/error="invalid_token"/,
         "logout by $way: error=\"invalid_token\"");
    is(get_page($tok, '/sess-nocache/hello.html')->code, 401,
       "logout by $way: refused without the cache too");
}

# the refusal names its reason in the log and in JWTAUTH_ERROR
{
    my $tok = stok('reason');
    req('POST', '/sess-logout', ['x-access-token' => $tok]);
    t_start_error_log_watch();
    my $res = req('GET', '/sess/hello.html',
                  ['x-access-token' => $tok, 'X-Sess-Row' => "revoked-$run"]);
    my @log = t_finish_error_log_watch();
    is($res->code, 401, 'a revoked token: 401');
    ok((grep { /token refused \(revoked\): its jti was revoked .*user sess-reason-$run/ } @log),
       'a revoked token: its reason in the error log');
    is(row_reason("revoked-$run"), 'revoked', 'a revoked token: '
       . 'JWTAUTH_ERROR=revoked');
}

# ---- logout everywhere ----
{
    my $a = stok('all', iat => time - 20);
    my $b = stok('all', iat => time - 10);
    my $noiat = stok('all', iat => undef);
    my $other = stok('all-other');
    is(join(' ', map { get_page($_)->code } $a, $b, $noiat, $other),
       '200 200 200 200', 'logout everywhere: four tokens served before');
    my $res = req('POST', '/sess-logout', ['x-access-token' => $a, jsonct()],
                  '{"all": true}');
    is(answer($res), "200 $OUT", 'logout everywhere ({"all": true}): 200');
    is(join(' ', map { get_page($_)->code } $a, $b, $noiat, $other),
       '401 401 401 200', 'logout everywhere: the sub\'s tokens issued '
       . 'before (and one without iat) refused, another sub\'s served');
    my $fresh = token(sub => "sess-all-$run", jti => "sess-$run-fresh",
                      iat => time);
    is(get_page($fresh)->code, 200, 'logout everywhere: a token issued '
       . 'after it is served');

    # the form's all=1
    my $f1 = stok('allform', iat => time - 20);
    my $f2 = stok('allform', iat => time - 10);
    $res = req('POST', '/sess-logout', [Authorization => "Bearer $f1", form()],
               'all=1');
    is(answer($res), "200 $OUT", 'logout everywhere (all=1): 200');
    is(get_page($f2)->code, 401, 'logout everywhere (all=1): the sub\'s '
       . 'other token refused');
    # all=0 ends the one token only
    my $z1 = stok('allzero');
    my $z2 = stok('allzero');
    req('POST', '/sess-logout', ['x-access-token' => $z1, form()], 'all=0');
    is(join(' ', get_page($z1)->code, get_page($z2)->code), '401 200',
       'all=0: the token refused, the sub\'s other one served');
}

# ---- a form from a browser: 303 to a local return_to ----
my @return_to = (
    ['a local path', '%2Fsess%2Fhello.html%3Fa%3D1', '/sess/hello.html?a=1'],
    ['//host', '%2F%2Fevil.example%2F', '/'],
    ['a scheme', 'https%3A%2F%2Fevil.example%2F', '/'],
    ['a backslash', '%2F%5Cevil.example', '/'],
    ['/\\ first', '%5C%5Cevil.example', '/'],
    ['a control character', '%2Fa%0D%0ALocation%3A+x', '/'],
    ['empty', '', '/'],
);
for my $row (@return_to) {
    my ($what, $enc, $want) = @$row;
    my $tok = stok('form');
    my $res = req('POST', '/sess-logout',
                  [Cookie => "jwt=$tok", Origin => $own, form(),
                   Accept => 'text/html'], "return_to=$enc");
    is(join(' ', $res->code, $res->header('Location') // '-'), "303 $want",
       "logout form, return_to $what: 303 to $want");
}
{
    my $tok = stok('form-noret');
    my $res = req('POST', '/sess-logout',
                  [Cookie => "jwt=$tok", Origin => $own, form(),
                   Accept => 'text/html,application/xhtml+xml'], '');
    is(join(' ', $res->code, $res->header('Location') // '-'), '303 /',
       'logout form without return_to, Accept text/html: 303 to /');
    like($res->header('Set-Cookie') // '', $CLEARED,
         'logout form: the cookie cleared on the 303');
    is(get_page($tok)->code, 401, 'logout form: the token refused after');
}

# ---- refresh ----
{
    my $auth = time - 100;
    my $old = stok('ref', auth_time => $auth, role => 'editor',
                   exp => time + 200);
    my $res = req('POST', '/sess-refresh', [Authorization => "Bearer $old"]);
    is($res->code, 200, 'refresh: 200');
    my $body = eval { json_decode($res->content) } // {};
    my $new = $body->{token} // '';
    my $c = eval { json_decode(unb64u((split /\./, $new)[1])) } // {};
    my $oc = json_decode(unb64u((split /\./, $old)[1]));
    is_deeply([@$c{qw(sub role auth_time)}], [@$oc{qw(sub role auth_time)}],
              'refresh: sub, the login claims and auth_time kept');
    isnt($c->{jti} // '', $oc->{jti}, 'refresh: a new jti');
    cmp_ok(abs(($c->{iat} // 0) - time), '<=', 2, 'refresh: a new iat');
    is(($c->{exp} // 0) - ($c->{iat} // 0), 600,
       'refresh: exp is iat + JWTAuthTokenLifetime');
    is(join(' ', $body->{token_type} // '', $body->{expires_in} // ''),
       'Bearer 600', 'refresh: token_type and expires_in as /login');
    like($res->header('Set-Cookie') // '',
         qr/^jwt=\Q$new\E; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/,
         'refresh: the new token set as the cookie');
    is(get_page($new)->code, 200, 'refresh: the new token is served');
    is(answer(get_page($old)), "401 $INVALID",
       'refresh: the old token refused after');
    is(req('POST', '/sess-refresh', ['x-access-token' => $old])->code, 401,
       'refresh: the old token refreshes once only');
    # the new one refreshes in its turn
    is(req('POST', '/sess-refresh', ['x-access-token' => $new])->code, 200,
       'refresh: the refreshed token refreshes in its turn');
}
{
    # JWTAuthSessionLifetime 100 at /sess-refresh-short
    my $late = stok('late', auth_time => time - 200);
    my $res = req('POST', '/sess-refresh-short',
                  ['x-access-token' => $late, 'X-Sess-Row' => "late-$run"]);
    is(answer($res), "401 $INVALID",
       'refresh past auth_time + JWTAuthSessionLifetime: 401');
    is(row_reason("late-$run"), 'session_expired',
       'refresh past the session: JWTAUTH_ERROR=session_expired');
    my $auth = time - 50;
    my $near = stok('near', auth_time => $auth);
    my $body = eval {
        json_decode(req('POST', '/sess-refresh-short',
                        ['x-access-token' => $near])->content)
    } // {};
    my $c = eval { json_decode(unb64u((split /\./, $body->{token} // '')[1])) }
            // {};
    is($c->{exp} // 0, $auth + 100, 'refresh near the session\'s end: exp '
       . 'is auth_time + JWTAuthSessionLifetime');
    is(req('POST', '/sess-refresh', ['x-access-token' => stok('noauth')])
       ->code, 401, 'refresh of a token without auth_time: 401');
    is(answer(req('POST', '/sess-refresh',
                  ['x-access-token' => stok('exp', auth_time => time - 10,
                                            exp => time - 100)])),
       "401 $INVALID", 'refresh of an expired token: 401');
    my $rev = stok('rev', auth_time => time - 10);
    req('POST', '/sess-logout', ['x-access-token' => $rev]);
    is(answer(req('POST', '/sess-refresh', ['x-access-token' => $rev])),
       "401 $INVALID", 'refresh of a revoked token: 401');
    is(answer(req('POST', '/sess-refresh', [])), "401 $MISSING",
       'refresh without a token: 401');
}

# ---- bad inputs ----
{
    my $res = req('POST', '/sess-logout', []);
    is(answer($res), "401 $MISSING", 'logout without a token: 401');
    like($res->header('Set-Cookie') // '', $CLEARED,
         'logout without a token: the cookie cleared all the same');
    like($res->header('WWW-Authenticate') // '', qr/^Bearer realm=/,
         'logout without a token: the Bearer challenge');
    $res = req('POST', '/sess-logout',
               [Cookie => 'jwt=' . stok('x', exp => time - 100),
                Origin => $own]);
    is(answer($res), "401 $INVALID", 'logout with an expired cookie: 401');
    like($res->header('Set-Cookie') // '', $CLEARED,
         'logout with an expired cookie: the cookie cleared');

    my $tok = stok('bad');
    my @bad = (
        ['GET on logout', 'GET', '/sess-logout', [], '', 405],
        ['GET on refresh', 'GET', '/sess-refresh', [], '', 405],
        ['all=garbage', 'POST', '/sess-logout', [form()], 'all=yes', 400],
        ['all twice', 'POST', '/sess-logout', [form()], 'all=1&all=1', 400],
        ['{"all": "yes"}', 'POST', '/sess-logout', [jsonct()],
         '{"all": "yes"}', 400],
        ['a JSON array', 'POST', '/sess-logout', [jsonct()], '[true]', 400],
        ['JSON with a duplicate', 'POST', '/sess-logout', [jsonct()],
         '{"all": false, "all": true}', 400],
        ['text/plain', 'POST', '/sess-logout',
         ['Content-Type' => 'text/plain'], 'all=1', 415],
        ['an oversized body', 'POST', '/sess-logout', [form()],
         'return_to=' . ('a' x 9000), 413],
    );
    for my $row (@bad) {
        my ($what, $m, $path, $h, $body, $want) = @$row;
        is(req($m, $path, [@$h, 'x-access-token' => $tok], $body)->code,
           $want, "$what: $want");
    }
    is(get_page($tok)->code, 200, 'after the bad requests the token is '
       . 'still served (none of them logged out)');
    like(req('POST', '/sess-logout', ['x-access-token' => $tok, form()],
             'all=yes')->content, qr/^\Q$BAD\E$/, 'all=garbage: the JSON body');

    # a cookie-authenticated logout from another origin
    $res = req('POST', '/sess-logout',
               [Cookie => "jwt=$tok", Origin => 'https://evil.example']);
    is(answer($res), "403 $CSRF", 'logout by cookie from another origin: '
       . '403');
    is($res->header('Set-Cookie'), undef, 'logout from another origin: the '
       . 'cookie kept');
    is(get_page($tok)->code, 200, 'logout from another origin: the token '
       . 'still served');
}

# ---- JWTAuthLoginThrottle ----
sub login {
    my ($path, $user, $pw, $row) = @_;
    return req('POST', $path, [form(), ($row ? ('X-Sess-Row' => $row) : ())],
               "username=$user&password=$pw");
}
{
    # /sess-login: 3 failures per user name in 60 s (100 per address)
    my $user = "sess-u-$run";
    t_start_error_log_watch();
    my @codes = map { login('/sess-login', $user, "wrong$_")->code } 1 .. 3;
    my $res = login('/sess-login', $user, 'wrong4', "thr-$run");
    my @log = t_finish_error_log_watch();
    is_deeply(\@codes, [401, 401, 401], 'throttle: three failed logins, '
              . '401 each');
    is(answer($res), "429 $THROTTLED", 'throttle: the fourth attempt 429');
    my $ra = $res->header('Retry-After') // '';
    ok($ra =~ /^\d+$/ && $ra >= 1 && $ra <= 60,
       "throttle: Retry-After within the window ($ra)");
    is(scalar(grep { /JWTAuth login: user \Q$user\E: not verified/ } @log), 3,
       'throttle: the passwords of the three, not of the fourth, were '
       . 'checked');
    ok((grep { /throttled: 3 failed logins for the user name \Q$user\E/ } @log),
       'throttle: the refusal logged with its reason');
    is(row_reason("thr-$run"), 'throttled', 'throttle: '
       . 'JWTAUTH_ERROR=throttled');
    is(login('/sess-login', "sess-v-$run", 'wrong')->code, 401,
       'throttle: another user name is not throttled');
}
{
    # /sess-login-win: 2 failures per user name in 3 s: daehan's right
    # password is not even checked, then the window ends
    my $mark = time;
    my @codes = map { login('/sess-login-win', 'daehan', "no$_")->code }
                1 .. 2;
    t_start_error_log_watch();
    my $res = login('/sess-login-win', 'daehan', '1234');
    my @log = t_finish_error_log_watch();
    is(join(' ', @codes, $res->code), '401 401 429', 'throttle: the right '
       . 'password after two failures: 429');
    is(join(' ', scalar(grep { /JWTAuth login: user daehan: not verified/ }
                        @log),
            scalar(grep { /JWTAuth login: throttled: .* daehan / } @log)),
       '0 1', 'throttle: the throttle decided, no password was checked');
    my $ra = $res->header('Retry-After') // 3;
    sleep($ra + 0.3);
    $res = login('/sess-login-win', 'daehan', '1234');
    is($res->code, 200, "throttle: after the window (Retry-After $ra) the "
       . 'right password logs in');
    like($res->content, qr/"token"/, 'throttle: a token after the window');
}
{
    # /sess-login-addr: 3 failures per address in 5 s, 50 per user name
    my @codes = map { login('/sess-login-addr', "sess-a$_-$run", 'x')->code }
                1 .. 3;
    my $res = login('/sess-login-addr', "sess-a4-$run", 'x');
    is(join(' ', @codes, $res->code), '401 401 401 429', 'throttle per '
       . 'address: the fourth user name from the address 429');
    ok(($res->header('Retry-After') // '') =~ /^[1-5]$/,
       'throttle per address: Retry-After within the 5 s window');
    is(login('/sess-login-addr', 'daehan', '1234')->code, 429,
       'throttle per address: even a right password from the address');
}
{
    my $m1 = metrics();
    is(($m1->{'jwtauth_logins_total{result="throttled"}'} // 0)
       - ($m0->{'jwtauth_logins_total{result="throttled"}'} // 0), 4,
       'jwtauth_logins_total{result="throttled"}: +4');
    cmp_ok(($m1->{'jwtauth_requests_total{result="revoked"}'} // 0)
           - ($m0->{'jwtauth_requests_total{result="revoked"}'} // 0), '>=',
           15, 'jwtauth_requests_total{result="revoked"} counts the revoked '
           . 'tokens of this file');
}

# ---- startup ----
my @startup = (
    ['JWTAuthLoginThrottle without a store', ['socache_shmcb'],
     ['<Location /l>', 'JWTAuthLoginThrottle 3 60', '</Location>'],
     qr/JWTAuthLoginThrottle \(.*:\d+\) needs JWTAuthSessionStore/],
    ['JWTAuthLoginThrottle 0 failures', ['socache_shmcb'],
     ['JWTAuthSessionStore shmcb', '<Location /l>',
      'JWTAuthLoginThrottle 0 60', '</Location>'],
     qr/JWTAuthLoginThrottle: failures '0' is not a whole number/],
    ['JWTAuthLoginThrottle with four numbers', ['socache_shmcb'],
     ['JWTAuthSessionStore shmcb', '<Location /l>',
      'JWTAuthLoginThrottle 1 2 3 4', '</Location>'],
     qr/JWTAuthLoginThrottle takes failures, seconds/],
    ['JWTAuthSessionStoreFailure maybe', ['socache_shmcb'],
     ['JWTAuthSessionStoreFailure maybe'],
     qr/JWTAuthSessionStoreFailure: 'maybe' is neither open nor closed/],
    ['JWTAuthSessionStore of an unknown provider', [],
     ['JWTAuthSessionStore nosuch'],
     qr/JWTAuthSessionStore: unknown socache provider 'nosuch'/],
    ['JWTAuthSessionStore in a Location', ['socache_shmcb'],
     ['<Location /l>', 'JWTAuthSessionStore shmcb', '</Location>'],
     qr/JWTAuthSessionStore not allowed in <Location> context/],
    ['JWTAuthSessionLifetime 0', [],
     ['JWTAuthSessionLifetime 0'], qr/JWTAuthSessionLifetime/],
);
for my $row (@startup) {
    my ($what, $mods, $lines, $want) = @$row;
    my ($rc, $out) = apache_t($mods, @$lines);
    ok($rc != 0 && $out =~ $want, "startup refuses $what")
        or diag($out);
}
my ($rc, $out) = apache_t(['socache_shmcb'], 'JWTAuthSessionStore shmcb',
                          'JWTAuthSessionStoreFailure open',
                          '<Location /l>', 'SetHandler jwtauth-login',
                          'JWTAuthLoginThrottle 5 300 50', '</Location>');
is($rc, 0, 'startup takes a throttle with a store') or diag($out);

# the JWTAUTH_ERROR of the request named row, from session_log
sub row_reason {
    my $row = shift;
    my $log = t_dir() . '/logs/session_log';
    for (1 .. 20) {
        open my $fh, '<', $log or last;
        for (<$fh>) {
            return $1 if /^\Q$row\E \d+ (\S+)$/;
        }
        sleep 0.1;
    }
    return 'absent';
}

# the samples of /metrics, by name and labels as the page spells them
sub metrics {
    my %m;
    for (split /\n/, GET_BODY('/metrics')) {
        $m{$1} = $2 if /^(\w+\{[^}]*\}) (\d+)$/;
    }
    return \%m;
}
