# JWTAuthIssuer iss [iss ...]: a token of any listed issuer is accepted,
# exactly; /login issues the first (t/conf/issuers.conf.in).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use MIME::Base64 qw(encode_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

# [what, claims, status]
my @rows = (
    ['the first issuer', { iss => 'https://a.example' }, 200],
    ['the second issuer', { iss => 'https://b.example' }, 200],
    ['another issuer', { iss => 'https://c.example' }, 401],
    ['a prefix of one', { iss => 'https://a.exampl' }, 401],
    ['one with a trailing slash', { iss => 'https://a.example/' }, 401],
    ['no iss', {}, 401],
);

plan tests => @rows + 2, need_module('mod_jwtauth.c', 'mod_alias.c');

for my $r (@rows) {
    my ($what, $claims, $want) = @$r;
    is(GET('/iss2/hello.html', 'x-access-token' => token(%$claims))->code,
       $want, "JWTAuthIssuer a b: $what");
}

my $res = GET('/iss2-login', Authorization => 'Basic '
              . encode_base64('daehan:1234', ''));
is($res->code, 200, '/login under two issuers');
my ($tok) = $res->content =~ /"token": "([^"]+)"/;
my $claims = $tok ? json_decode(unb64u((split /\./, $tok)[1])) : {};
is($claims->{iss}, 'https://a.example', '/login issues the first issuer');
