# Authorization as identity providers shape tokens: Require jwt-claim on
# nested paths (Keycloak's realm_access.roles and resource_access, Auth0's
# namespaced names, arrays of objects), Require jwt-scope (Entra ID's scp
# string, Okta's scp array, scope) with its 403 and insufficient_scope
# challenge, the 403 of any other Require, the jwt_claim and jwt_claims
# expression functions, and `apache2 -t` refusing a bad path or scope.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $T = JSON::PP::true;

# the shapes of the issuers' access tokens
my %keycloak = (
    realm_access => { roles => ['offline_access', 'admin'] },
    resource_access => { account => { roles => ['manage-account'] },
                         api => { roles => ['writer'] } },
    scope => 'openid profile read',
);
my %entra = (scp => 'User.Read Files.Read', roles => ['Task.Write'],
             tid => 't1');
my %auth0 = ('https://example.com/roles' => ['editor'],
             'https://example' => { 'com/roles' => ['nested'] },
             scope => 'openid read write');
my %okta = (scp => ['read', 'email'], groups => ['Everyone']);

# [path, claims, expected status, what]
my @rows = (
    ['/az-realm/', \%keycloak, 200, 'Keycloak realm_access.roles holds admin'],
    ['/az-realm/', { realm_access => { roles => ['user'] } }, 403,
     'Keycloak realm_access.roles without admin'],
    ['/az-realm/', { realm_access => ['admin'] }, 403,
     'realm_access an array of strings: no roles member'],
    ['/az-realm/', { realm_access => 'admin' }, 403,
     'realm_access a string: nothing to walk'],
    ['/az-realm/', { 'realm_access.roles' => 'admin' }, 200,
     'a top-level name with the dots wins'],
    ['/az-client/', \%keycloak, 200,
     'Keycloak resource_access.account.roles'],
    ['/az-client/', { resource_access => { api => { roles =>
        ['manage-account'] } } }, 403, 'the role under another client'],
    ['/az-auth0/', \%auth0, 200, 'Auth0 namespaced claim by its exact name'],
    ['/az-auth0/', { 'https://example.com/roles' => ['viewer'],
                     'https://example' => { 'com/roles' => ['editor'] } },
     403, 'the exact name wins over the nested walk'],
    ['/az-auth0/', { 'https://example' => { 'com/roles' => ['editor'] } },
     200, 'the nested walk when no top-level name matches'],
    ['/az-groups/', { groups => [{ name => 'dev' }, { name => 'ops' }] }, 200,
     'an array of objects fans out'],
    ['/az-groups/', { groups => [{ name => 'dev' }] }, 403,
     'an array of objects without the name'],
    ['/az-roles/', \%entra, 200, 'Entra ID roles array'],
    ['/az-scope/', { scope => 'read write' }, 200, 'scope string grants both'],
    ['/az-scope/', \%auth0, 200, 'Auth0 scope string'],
    ['/az-scope/', { scp => 'write read' }, 200, 'Entra-style scp string'],
    ['/az-scope/', { scp => ['read', 'write'] }, 200, 'Okta scp array'],
    ['/az-scope/', { scope => 'read', scp => ['write'] }, 200,
     'scope and scp together: their union'],
    ['/az-scope/', \%okta, 403, 'Okta scp array without write'],
    ['/az-scope/', \%keycloak, 403, 'Keycloak scope without write'],
    ['/az-scope/', { scp => ['read write'] }, 403,
     'an scp element is one scope, not two'],
    ['/az-scope/', { scope => ['read', 'write'] }, 403,
     'scope as an array grants nothing'],
    ['/az-scope/', undef, 401, 'no token: still 401'],
    ['/az-scope-any/', {}, 200,
     'RequireAny: jwt-scope denies, jwt-claim grants'],
    ['/az-rewrite/', \%keycloak, 200,
     'RewriteCond expr with jwt_claims: an admin passes'],
    ['/az-rewrite/', { realm_access => { roles => ['user'] } }, 403,
     'RewriteCond expr with jwt_claims: [F] for another role'],
    ['/az-expr/', \%keycloak, 200, "Require expr 'admin' -in jwt_claims"],
    ['/az-expr/', { realm_access => { roles => ['user'] } }, 403,
     'Require expr: admin not in the list'],
    ['/az-expr-scp/', \%entra, 200,
     'Require expr on the words of scp and jwt_claim'],
    ['/az-expr-scp/', { %entra, tid => 't2' }, 403,
     'Require expr: jwt_claim differs'],
);

my $json_tests = 3 * 3 + 3;
plan tests => @rows + 2 + 6 + 4 + $json_tests + 5 + 6 + 2,
    need_module('mod_jwtauth.c', 'mod_headers.c', 'mod_rewrite.c',
                'mod_authz_user.c');

sub tok { my $c = shift; defined $c ? ('x-access-token' => token(%$c)) : () }

for my $r (@rows) {
    my ($path, $claims, $want, $what) = @$r;
    is(GET($path, tok($claims))->code, $want, "$what: $want");
}

# a granted RequireAny carries no challenge of the denying jwt-scope
my $res = GET('/az-scope-any/', tok({}));
is($res->header('WWW-Authenticate'), undef,
   'RequireAny granted: no insufficient_scope challenge left');
is($res->content, "authz ok\n", 'RequireAny granted: the page');

# the 403 of Require jwt-scope: RFC 6750 section 3.1
$res = GET('/az-scope/', tok(\%okta));
is($res->code, 403, 'insufficient scope: 403');
is($res->header('WWW-Authenticate'), 'Bearer realm="Reports", '
   . 'error="insufficient_scope", scope="read write"',
   'insufficient scope: the challenge names the scopes');
is($res->content_type, 'application/json',
   'insufficient scope: application/json');
is($res->content, '{"message": "Insufficient scope!"}',
   'insufficient scope: the body');
$res = GET('/az-scope-default/', tok({ scp => ['write'] }));
is($res->content, '{"message": "Insufficient scope!"}',
   'ErrorDocument 403 default: the JSON body');
like($res->header('WWW-Authenticate') // '',
     qr/^Bearer realm="jwtauth", error="insufficient_scope", scope="read"$/,
     'no AuthName: realm jwtauth');

# an admin's ErrorDocument 403 wins; the challenge stays
$res = GET('/az-scope-string/', tok({}));
is($res->content, 'custom forbidden', 'ErrorDocument 403 string wins');
like($res->header('WWW-Authenticate') // '', qr/insufficient_scope/,
     'ErrorDocument 403 string: the challenge stays');
$res = GET('/az-scope-page/', tok({}));
is($res->content, "forbidden page\n", 'ErrorDocument 403 page wins');
like($res->header('WWW-Authenticate') // '', qr/insufficient_scope/,
     'ErrorDocument 403 page: the challenge stays');

# any other Require that denies a valid token: 403 Access denied!, no
# challenge; a 403 after the Require rules passed is not ours
for my $d (['/az-realm/', {}, 'Require jwt-claim'],
           ['/az-user/', {}, 'Require user'],
           ['/az-expr/', {}, 'Require expr']) {
    my ($path, $claims, $what) = @$d;
    $res = GET($path, tok($claims));
    is($res->code, 403, "$what denied: 403");
    is($res->content_type, 'application/json', "$what denied: JSON");
    is($res->content, '{"message": "Access denied!"}', "$what denied: body");
}
$res = GET('/az-handler/', tok({}));
is($res->code, 403, 'a 403 after authz (RewriteRule [F]): 403');
unlike($res->content, qr/message/, 'a 403 after authz: httpd\'s own page');
is($res->header('WWW-Authenticate'), undef,
   'a 403 after authz: no challenge');

# SSI's <!--#if expr=--> sees them too
is(GET_BODY('/az-ssi/roles.shtml', tok(\%keycloak)), "ADMIN\n",
   'SSI #if expr with jwt_claims: the admin branch');
is(GET_BODY('/az-ssi/roles.shtml', tok({ realm_access => { roles =>
                                            ['user'] } })), "USER\n",
   'SSI #if expr with jwt_claims: the other branch');

# mod_headers' expr= sees the claims of a checked token; outside a
# checked scope, none
$res = GET('/az-header/', tok({ %keycloak, %auth0 }));
is($res->header('X-Roles'), '["offline_access","admin"]',
   'jwt_claim of an array: compact JSON');
is($res->header('X-Sub'), 'daehan', 'jwt_claim of a string: as it is');
is($res->header('X-Auth0'), '["editor"]', 'jwt_claim of a dotted name');
is(GET('/az-header/', tok({}))->header('X-Roles'), '',
   'jwt_claim of an absent claim: empty');
is(GET('/az-header-open/', tok({}))->header('X-Sub'), '[]',
   'jwt_claim outside JWTAuth On: no claims');

# apache2 -t refuses a bad path, scope or expression and names it
my $s64 = fixture('secret');
my @bad = (
    ['Require jwt-claim a..b x',
     qr/Require jwt-claim: claim path "a\.\.b" has an empty segment/],
    ['Require jwt-claim .roles x', qr/Require jwt-claim: .*empty segment/],
    ['Require jwt-scope "re\"ad"', qr/Require jwt-scope: .* is not a scope/],
    [q{Require expr "'a' -in jwt_claims('realm..roles')"},
     qr/jwt_claims: claim path "realm\.\.roles" has an empty segment/],
    [q{Header set X-A "expr=%{jwt_claim:a.}"},
     qr/jwt_claim: claim path "a\." has an empty segment/],
    ['Require jwt-claim realm_access.roles admin', qr/Syntax OK/],
);
for my $b (@bad) {
    my ($line, $pat) = @$b;
    my (undef, $out) = apache_t(['headers'], "JWTAuthSecretFile $s64",
                                '<Location /x>', 'JWTAuth On', $line,
                                '</Location>');
    like($out, $pat, "apache2 -t: $line") or diag($out);
}
