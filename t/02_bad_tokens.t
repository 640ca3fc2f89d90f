# Bad tokens through the server, table-driven: every row must get 401
# with the seed's JSON, never a 200 or a 5xx, and the server must still
# answer afterwards.  (The core's unit tests check the reason of each.)
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $exp = time + 300;
my $H = { alg => 'HS256', typ => 'JWT' };
my $P = { sub => 'daehan', exp => $exp };
my $good = jws($H, $P);
my ($gh, $gp, $gs) = split /\./, $good;
my $key = secret();

# [name, token, expected message: 'invalid' or 'missing']
my @rows = (
    ['empty', '', 'missing'],
    ['blanks', '   ', 'missing'],
    ['one segment', 'abc', 'invalid'],
    ['two segments', "$gh.$gp", 'invalid'],
    ['four segments', "$good.x", 'invalid'],
    ['five segments', "$good.x.y", 'invalid'],
    ['empty signature', "$gh.$gp.", 'invalid'],
    ['only dots', '..', 'invalid'],
    ['characters outside base64url', "$gh.$gp.$gs!", 'invalid'],
    ['standard base64 characters', "$gh.$gp." . ($gs =~ tr/-_/+\//r) . '+/',
     'invalid'],
    ['= padding', "$good=", 'invalid'],
    ['== padding on the header', "$gh==.$gp.$gs", 'invalid'],
    ['non-canonical base64url tail',
     "$gh.$gp." . substr($gs, 0, -1) . chr(ord(substr($gs, -1)) ^ 1),
     'invalid'],
    ['header not JSON', jws('{alg:HS256}', $P), 'invalid'],
    ['header a JSON array', jws('["HS256"]', $P), 'invalid'],
    ['header a JSON string', jws('"HS256"', $P), 'invalid'],
    ['payload not JSON', jws($H, 'sub=daehan'), 'invalid'],
    ['payload a JSON array', jws($H, '[1,2]'), 'invalid'],
    ['payload a number', jws($H, '42'), 'invalid'],
    ['duplicate alg (valid, none)',
     jws('{"alg":"HS256","alg":"none"}', $P), 'invalid'],
    ['duplicate exp (valid first)',
     jws($H, qq({"sub":"daehan","exp":$exp,"exp":1})), 'invalid'],
    ['duplicate exp (valid last)',
     jws($H, qq({"sub":"daehan","exp":1,"exp":$exp})), 'invalid'],
    ['deep nesting', jws($H, '{"a":' . ('[' x 2100) . (']' x 2100) . '}'),
     'invalid'],
    ['alg missing', jws({ typ => 'JWT' }, $P), 'invalid'],
    ['alg a number', jws('{"alg":256}', $P), 'invalid'],
    ['alg none', jws({ alg => 'none' }, $P), 'invalid'],
    ['alg none, no signature', b64u('{"alg":"none"}') . ".$gp.", 'invalid'],
    ['alg None', jws({ alg => 'None' }, $P), 'invalid'],
    ['alg NONE', jws({ alg => 'NONE' }, $P), 'invalid'],
    ['alg none as JSON escape', jws('{"alg":"\u006eone"}', $P), 'invalid'],
    ['alg outside the allow-list (RS256)', jws({ alg => 'RS256' }, $P),
     'invalid'],
    ['alg HS512 at an HS512-only scope is fine, HS256 is not (see below)',
     jws({ alg => 'HS256' }, $P), 'invalid', '/hs512/'],
    ['signature of the wrong length', "$gh.$gp." . substr($gs, 0, 20),
     'invalid'],
    ['signature of HS384 length under HS256', jws($H, $P, $key, 'HS384'),
     'invalid'],
    ['right signature, payload changed',
     "$gh." . b64u(json_encode({ sub => 'root', exp => $exp })) . ".$gs",
     'invalid'],
    ['exp a string', jws($H, { sub => 'daehan', exp => "$exp" }), 'invalid'],
    ['exp a float in the past', jws($H, '{"sub":"daehan","exp":1.5}'),
     'invalid'],
    ['exp huge (1e400)', jws($H, '{"sub":"daehan","exp":1e400}'), 'invalid'],
    ['exp 2^63', jws($H, '{"sub":"daehan","exp":9223372036854775808}'),
     'invalid'],
    ['exp negative', jws($H, { sub => 'daehan', exp => -1 }), 'invalid'],
    ['exp null', jws($H, '{"sub":"daehan","exp":null}'), 'invalid'],
    ['exp missing', jws($H, { sub => 'daehan' }), 'invalid'],
    ['nbf in the future', jws($H, { %$P, nbf => time + 3600 }), 'invalid'],
    ['nbf a string', jws($H, { %$P, nbf => '0' }), 'invalid'],
    ['iat in the future', jws($H, { %$P, iat => time + 3600 }), 'invalid'],
    ['iat an array', jws($H, { %$P, iat => [1] }), 'invalid'],
    ['crit header', jws({ %$H, crit => ['exp'] }, $P), 'invalid'],
    ['kid a number', jws({ %$H, kid => 7 }, $P), 'invalid'],
    ['UTF-8 BOM before the header', jws("\xef\xbb\xbf" . json_encode($H), $P),
     'invalid'],
    ['trailing bytes after the payload JSON',
     jws($H, json_encode($P) . ' x'), 'invalid'],
    ['user claim an object', jws($H, { sub => { a => 1 }, exp => $exp }),
     'invalid'],
    ['user claim empty', jws($H, { sub => '', exp => $exp }), 'invalid'],
);

plan tests => 3 * @rows + 3, need_module('mod_jwtauth.c');

my %body = (invalid => '{"message": "Token is invalid!"}',
            missing => '{"message": "Token is missing!"}');
for my $r (@rows) {
    my ($name, $tok, $want, $path) = @$r;
    my $res = GET($path // '/protected/hello.html', 'x-access-token' => $tok);
    is($res->code, 401, "$name: 401");
    is($res->content, $body{$want}, "$name: $want");
    like(scalar $res->header('Content-Type'), qr{^application/json},
         "$name: JSON");
}

# Authorization: Bearer with the same bad token is no different
my $res = GET('/protected/hello.html', Authorization => 'Bearer ' . jws(
                  { alg => 'none' }, $P));
is($res->code, 401, 'Bearer alg none: 401 invalid: status');
is($res->content, $body{invalid}, 'Bearer alg none: 401 invalid: body');
# and after all of that the server still serves a good token
is(GET('/protected/hello.html', 'x-access-token' => $good)->code, 200,
   'server still answers a valid token');
