# Authorization: Require jwt-claim, valid-user and user under JWTAuth On,
# alone and inside RequireAll / RequireAny.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 30, need_module('mod_jwtauth.c', 'mod_authz_user.c');

my $T = JSON::PP::true;
my $F = JSON::PP::false;

# [path, claims, expected status, what]
my @rows = (
    ['/admin/', { admin => $T }, 200, 'admin true'],
    ['/admin/', { admin => $F }, 403, 'admin false'],
    ['/admin/', { admin => 'true' }, 200, 'admin "true" string spells the same'],
    ['/admin/', {}, 403, 'admin absent'],
    ['/admin/', { admin => [$F, $T] }, 200, 'admin array containing true'],
    ['/admin/', undef, 401, 'no token'],
    ['/valid-user/', {}, 200, 'valid-user with a token'],
    ['/valid-user/', undef, 401, 'valid-user without a token'],
    ['/only-daehan/', {}, 200, 'Require user daehan, sub daehan'],
    ['/only-daehan/', { sub => 'alice' }, 403, 'Require user daehan, sub alice'],
    ['/roles/', { roles => ['reader', 'publisher'] }, 200,
     'array claim holds one of the values'],
    ['/roles/', { roles => ['reader'] }, 403, 'array claim holds none'],
    ['/roles/', { roles => 'editor' }, 200, 'string claim equals one value'],
    ['/roles/', { roles => 'edit' }, 403, 'prefix of a value does not match'],
    ['/roles/', { roles => 'editors' }, 403, 'value plus suffix does not match'],
    ['/roles/', { roles => { editor => 1 } }, 403, 'object never matches'],
    ['/id1/', { id => 1 }, 200, 'integer claim 1'],
    ['/id1/', { id => 11 }, 403, 'integer claim 11'],
    ['/id1/', '"id":1.0', 403, 'real claim 1.0 is not the integer 1'],
    ['/id1/', '"id":"1"', 200, 'string claim "1" spells the same'],
    ['/all/', { admin => $T, roles => ['editor'] }, 200, 'RequireAll: both'],
    ['/all/', { admin => $T }, 403, 'RequireAll: one of two'],
    ['/any/', { roles => ['editor'] }, 200, 'RequireAny: one of two'],
    ['/any/', { admin => $F, roles => ['x'] }, 403, 'RequireAny: none'],
);

for my $r (@rows) {
    my ($path, $claims, $want, $what) = @$r;
    my $tok = !defined $claims ? undef
            : ref $claims ? token(%$claims)
            : jws({ alg => 'HS256' }, sprintf('{"sub":"daehan","exp":%d,%s}',
                                              time + 60, $claims));
    my @h = defined $tok ? ('x-access-token' => $tok) : ();
    my $res = GET($path, @h);
    is($res->code, $want, "$what: $want");
}

# Satisfy Any: the host check passes (no Allow rules), yet no token is
# still 401 with the seed's JSON, and a bad token is still refused
my $res = GET('/satisfy-any/');
is($res->code, 401, 'Satisfy Any: no token, 401 missing: status');
is($res->content, '{"message": "Token is missing!"}',
   'Satisfy Any: no token, 401 missing: body');
$res = GET('/satisfy-any/', 'x-access-token' => token(exp => time - 1));
is($res->code, 401, 'Satisfy Any: expired token, 401 invalid: status');
is($res->content, '{"message": "Token is invalid!"}',
   'Satisfy Any: expired token, 401 invalid: body');
$res = GET('/satisfy-any/', 'x-access-token' => token());
is($res->code, 200, 'Satisfy Any: valid token, host rule satisfies');

# Require jwt-claim without JWTAuth On: no token is ever looked at, so
# nothing can be granted
isnt(GET('/open/', 'x-access-token' => token(admin => $T))->code, 200,
     'jwt-claim outside JWTAuth On grants nothing');
