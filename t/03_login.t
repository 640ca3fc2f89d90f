# The login handler: credentials by Basic, form and JSON through the
# authn providers, the token it issues, and every way to get it wrong.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use MIME::Base64 qw(encode_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 98, need_module('mod_jwtauth.c', 'mod_authn_file.c',
                              'mod_authn_dbd.c');

sub basic { 'Basic ' . encode_base64(join(':', @_), '') }

sub claims_of {
    my $tok = shift;
    my (undef, $p) = split /\./, $tok;
    return json_decode(unb64u($p));
}

sub refused {
    my ($res, $what, $realm) = @_;
    $realm //= 'Login required!';
    is($res->code, 401, "$what: 401");
    is($res->content, 'Could not verify', "$what: 'Could not verify'");
    is(scalar $res->header('WWW-Authenticate'), qq{Basic realm="$realm"},
       "$what: Basic challenge, realm '$realm'");
}

# the seed's flow: GET /login with Basic
my $t0 = time;
my $res = GET('/login', Authorization => basic('daehan', '1234'));
is($res->code, 200, 'Basic login: 200');
like(scalar $res->header('Content-Type'), qr{^application/json},
     'login answers JSON');
is(scalar $res->header('Cache-Control'), 'no-store',
   'Cache-Control: no-store');
my $body = eval { json_decode($res->content) } || {};
is($body->{token_type}, 'Bearer', 'token_type Bearer');
is($body->{expires_in}, 1800, 'expires_in 1800 (the seed\'s 30 minutes)');
my $tok = $body->{token} // '';
like($tok, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'token is a compact JWS');
my ($h) = split /\./, $tok;
my $hdr = eval { json_decode(unb64u($h)) } || {};
is($hdr->{alg}, 'HS256', 'signed with the first JWTAuthAlgorithms');
is($hdr->{typ}, 'JWT', 'typ JWT');
my $c = claims_of($tok);
is($c->{sub}, 'daehan', 'sub is the user');
cmp_ok($c->{iat}, '>=', $t0 - 1, 'iat is now: not before the request');
cmp_ok($c->{iat}, '<=', time + 1, 'iat is now: not after it');
is($c->{exp}, $c->{iat} + 1800, 'exp = iat + 1800');
is($c->{auth_time}, $c->{iat}, 'auth_time: the login, now (= iat)');
like($c->{jti}, qr/^[\w-]{22}$/, 'jti: 128 random bits');
ok(!exists $c->{iss} && !exists $c->{aud}, 'no iss/aud unless configured');
my $c2 = claims_of(json_decode(GET_BODY('/login',
    Authorization => basic('daehan', '1234')))->{token});
isnt($c2->{jti}, $c->{jti}, 'jti differs between tokens');

# the issued token opens the protected pages and carries the MAC we expect
is(GET('/protected/hello.html', 'x-access-token' => $tok)->code, 200,
   'issued token accepted by the protected page');
my ($hh, $pp, $ss) = split /\./, $tok;
is(jws(unb64u($hh), unb64u($pp)), $tok,
   'signature is HMAC-SHA256 of header.payload under the file\'s key');

# form and JSON bodies
$res = POST('/login', content => 'username=daehan&password=1234',
            'Content-Type' => 'application/x-www-form-urlencoded');
is($res->code, 200, 'form login: 200: status');
like($res->content, qr/"token"/, 'form login: 200: body');
$res = POST('/login', content => '{"username": "daehan", "password": "1234"}',
            'Content-Type' => 'application/json; charset=utf-8');
is($res->code, 200, 'JSON login: 200: status');
like($res->content, qr/"token"/, 'JSON login: 200: body');

# failures all look alike
refused(GET('/login'), 'no credentials');
refused(GET('/login', Authorization => basic('daehan', 'wrong')),
        'wrong password');
refused(GET('/login', Authorization => basic('nobody-here', '1234')),
        'unknown user');
refused(GET('/login', Authorization => 'Bearer abc'), 'other scheme');
refused(GET('/login', Authorization => 'Basic %%%%'), 'bad base64');
refused(GET('/login', Authorization => 'Basic ' . encode_base64('daehan', '')),
        'no colon');
refused(GET('/login', Authorization => basic('', '1234')), 'empty user');
refused(GET('/login', Authorization => basic('daehan', '')),
        'empty password');
refused(POST('/login', content => 'username=daehan',
             'Content-Type' => 'application/x-www-form-urlencoded'),
        'form without password');
refused(POST('/login', content => '{"username": "daehan"',
             'Content-Type' => 'application/json'), 'broken JSON');
refused(GET('/login-realm'), 'AuthName', 'Members');

$res = POST('/login', content => 'username=daehan&password=1234',
            'Content-Type' => 'text/plain');
is($res->code, 415, 'wrong content type: 415');
my $ua = Apache::TestRequest::user_agent();
my $url = Apache::TestRequest::resolve_url('/login');
$res = $ua->request(HTTP::Request->new(POST => $url, [],
                                       'username=daehan&password=1234'));
is($res->code, 415, 'no content type: 415');
$res = POST('/login', content => 'username=daehan&password=' . ('x' x 9000),
            'Content-Type' => 'application/x-www-form-urlencoded');
is($res->code, 413, 'oversized body: 413');
$res = PUT('/login', content => 'x', Authorization => basic('daehan', '1234'));
is($res->code, 405, 'PUT: 405');
like(scalar $res->header('Allow'), qr/GET/,
     '405 names GET and POST in Allow: GET');
like(scalar $res->header('Allow'), qr/POST/,
     '405 names GET and POST in Allow: POST');
is($ua->request(HTTP::Request->new(DELETE => $url))->code, 405,
   'DELETE: 405');

# iss, aud and lifetime go into the token; HS384 signs there
$res = GET('/login-issaud', Authorization => basic('daehan', '1234'));
$body = eval { json_decode($res->content) } || {};
$c = claims_of($body->{token} // 'x.e30.x');
is($res->code, 200, 'login with iss/aud: 200');
is($c->{iss}, 'https://login.example', 'iss issued');
is(ref $c->{aud}, 'ARRAY', 'aud issued as an array: an array');
is(ref $c->{aud} eq 'ARRAY' ? "@{$c->{aud}}" : undef, 'api web',
   'aud issued as an array: api web');
is($c->{exp} - $c->{iat}, 60, 'JWTAuthTokenLifetime 60: exp - iat');
is($body->{expires_in}, 60, 'JWTAuthTokenLifetime 60: expires_in');
($h) = split /\./, $body->{token};
is(json_decode(unb64u($h))->{alg}, 'HS384',
   'first of JWTAuthAlgorithms HS384 HS256 signs');
is(GET('/issaud/', 'x-access-token' => $body->{token})->code, 200,
   'token with iss/aud accepted where they are required');
is(GET('/issaud/', 'x-access-token' => $tok)->code, 401,
   'token without iss/aud refused there');

# several providers: the first that knows the user decides
is(GET('/login-two', Authorization => basic('bob', 'builder'))->code, 200,
   'second provider (AuthnProviderAlias) knows bob');
is(GET('/login-two', Authorization => basic('daehan', '1234'))->code, 200,
   'first provider knows daehan');
refused(GET('/login-two', Authorization => basic('bob', 'wrong')),
        'second provider, wrong password');

# mod_authn_dbd with extra columns: the seed's id and admin claims
$res = GET('/login-dbd', Authorization => basic('daehan', '1234'));
is($res->code, 200, 'dbd login: 200');
$c = claims_of(json_decode($res->content)->{token});
is($c->{id}, '1', 'id claim is the integer 1: value');
is(ref $c->{id}, '', 'id claim is the integer 1: not a reference');
unlike($res->content, qr/"id":"1"/, 'id claim is the integer 1: not a string');
ok(JSON::PP::is_bool($c->{admin}), 'admin claim is true: a JSON boolean');
ok($c->{admin}, 'admin claim is true: true');
is($c->{via}, 'dbd', 'string claim from a literal expression');
$res = GET('/login-dbd', Authorization => basic('carol', '5678'));
$c = claims_of(json_decode($res->content)->{token});
ok(JSON::PP::is_bool($c->{admin}), 'carol: admin false, id 2: a boolean');
ok(!$c->{admin}, 'carol: admin false, id 2: admin false');
is($c->{id}, 2, 'carol: admin false, id 2: id');
refused(GET('/login-dbd', Authorization => basic('daehan', '4321')),
        'dbd wrong password');

# a claim that does not convert fails the login, never a wrong claim
t_start_error_log_watch();
$res = GET('/login-badclaim', Authorization => basic('daehan', '1234'));
my @log = t_finish_error_log_watch();
is($res->code, 500, '"1x" as int: 500: status');
unlike($res->content, qr/token/, '"1x" as int: 500: no token in the body');
ok((grep { /JWTAuthLoginClaim id: value is not a whole number/ } @log),
   'the log names the claim');
$res = GET('/login-badclaim', Authorization => basic('carol', '5678'));
is($res->code, 200, '"2" as int: the integer 2: status');
is(eval { claims_of(json_decode($res->content)->{token})->{id} }, 2,
   '"2" as int: the integer 2: claim');
$res = GET('/login-badclaim', Authorization => basic('dave', '5678'));
is($res->code, 500, '" 3" as int (leading blank): 500');
$res = GET('/login-badbool', Authorization => basic('daehan', '1234'));
is($res->code, 500, '"maybe" as bool: 500');

# a login scope without a user file is a server error, logged
t_start_error_log_watch();
$res = GET('/login-nofile', Authorization => basic('daehan', '1234'));
@log = t_finish_error_log_watch();
is($res->code, 500, 'no AuthUserFile: 500');

# passwords never reach the log
ok(!(grep { /1234|wonderland/ } @log), 'no password in the log');
