# JWK Sets as identity providers publish them (t/vectors/idp): each
# loads under JWTAuthKeyFile and a token in the shape its provider
# issues verifies, the key chosen by kid.  Keycloak's set holds an
# RSA-OAEP key with "use": "enc" beside its signing key: that key is
# skipped with one info line, the set loads.  A set with no usable key
# is refused at startup, naming the reason.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Crypt::PK::RSA;
use File::Temp qw(tempdir);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $idp = t_dir() . '/vectors/idp';

sub set_of {
    my $name = shift;
    open my $fh, '<', "$idp/$name.json" or die "$name.json: $!";
    local $/;
    return json_decode(<$fh>);
}

# header: a JSON text with the members in the provider's order (%s: kid)
sub rs256 {
    my ($signer, $header, $kid, $claims) = @_;
    my $n = () = $header =~ /%s/g;
    my $in = b64u(sprintf $header, ($kid) x $n) . '.'
           . b64u(json_encode($claims));
    my $pk = Crypt::PK::RSA->new("$idp/test-only-$signer.key");
    return "$in." . b64u($pk->sign_message($in, 'SHA256', 'v1.5'));
}

my $now = time;
my %base = (iat => $now, exp => $now + 300);
# [provider, signing key, its place in the set, header, claims]
my @idps = (
    ['keycloak', 'keycloak-sig', 1,
     '{"alg":"RS256","typ":"JWT","kid":"%s"}',
     { %base, iss => 'https://kc.example/realms/demo', aud => 'account',
       sub => '5f0c6a2e-8b1d-4c3a-9e7f-0a1b2c3d4e5f', typ => 'Bearer',
       azp => 'web', scope => 'openid profile' }],
    ['entra', 'entra-2', 1,
     '{"typ":"JWT","alg":"RS256","x5t":"%s","kid":"%s"}',
     { %base, nbf => $now, ver => '2.0',
       iss => 'https://login.microsoftonline.com/'
            . '72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
       aud => '6e74172b-be56-4843-9ff4-e66a39bb12e3',
       sub => 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
       tid => '72f988bf-86f1-41af-91ab-2d7cd011db47' }],
    ['auth0', 'auth0', 0, '{"alg":"RS256","typ":"at+jwt","kid":"%s"}',
     { %base, iss => 'https://tenant.eu.auth0.com/',
       sub => 'auth0|64b7f0c2a1e3d4f5a6b7c8d9',
       aud => ['https://api.example', 'https://tenant.eu.auth0.com/userinfo'],
       scope => 'openid profile', client_id => 'q1w2e3r4t5y6u7i8o9p0' }],
    ['okta', 'okta', 0, '{"kid":"%s","alg":"RS256"}',
     { %base, ver => 1, iss => 'https://dev-1234.okta.com/oauth2/default',
       aud => 'api://default', cid => '0oa1b2c3d4', scp => ['openid'],
       sub => 'daehan@example.com' }],
    ['google', 'google-2', 1, '{"alg":"RS256","kid":"%s","typ":"JWT"}',
     { %base, iss => 'https://accounts.google.com',
       aud => '1234-abc.apps.googleusercontent.com',
       sub => '110169484474386276334', email_verified => JSON::PP::true }],
);

my $dir = tempdir(CLEANUP => 1);

# `apache2 -t` of a server with LogLevel info and directives
sub config_test {
    my ($name, @directives) = @_;
    return apache_t([], 'LogLevel info', @directives);
}

plan tests => 4 * @idps + 8, need_module('mod_jwtauth.c', 'mod_alias.c');

my $kc = set_of('keycloak');
my $enc_kid = $kc->{keys}[0]{kid};
my $skip = qr{\[jwtauth:info\].*JWTAuthKeyFile\ \Q$idp\E/keycloak\.json:
              \ key\ \#0\ \(kid\ \Q$enc_kid\E\)\ skipped:
              \ JWK\ use\ is\ not\ \\+"sig\\+"}x;

for my $r (@idps) {
    my ($name, $signer, $at, $header, $claims) = @$r;
    my $set = set_of($name);
    my $kid = $set->{keys}[$at]{kid};
    my $url = "/keysets/$name/hello.html";

    # the set alone, under apache2 -t: loads, and logs only what it skips
    my ($rc, $out) = config_test($name, "JWTAuthKeyFile $idp/$name.json");
    is($rc, 0, "$name: apache2 -t accepts its JWK Set") or diag($out);
    my @skips = grep { /skipped:/ } split /\n/, $out;
    is(scalar @skips, $name eq 'keycloak' ? 1 : 0,
       "$name: " . ($name eq 'keycloak' ? 'one info line (the enc key)'
                                        : 'no key skipped'))
        or diag($out);

    my $tok = rs256($signer, $header, $kid, $claims);
    is(GET($url, 'x-access-token' => $tok)->code, 200,
       "$name: a token as it issues them verifies (kid $kid)");
    # another key's kid of the set (Keycloak: the skipped enc key's)
    my $other = $set->{keys}[1 - $at]{kid} // 'no-such-kid';
    is(GET($url, 'x-access-token' => rs256($signer, $header, $other,
                                           $claims))->code,
       401, "$name: the same signature under kid $other is refused");
}

my ($rc, $out) = config_test('kc', "JWTAuthKeyFile $idp/keycloak.json");
like($out, $skip, 'keycloak: the info line names the key, its kid and why');

# a set with no usable key is refused, naming the first reason
open my $fh, '>', "$dir/enc-only.json" or die "enc-only.json: $!";
print $fh json_encode({ keys => [$kc->{keys}[0]] });
close $fh;
($rc, $out) = config_test('enc', "JWTAuthKeyFile $dir/enc-only.json");
is($rc, 1, 'a set of the enc key alone: apache2 -t refuses it');
my $why = 'JWK Set has no usable key (1 skipped; key #0: JWK use is not '
        . '"sig")';
like($out, qr{JWTAuthKeyFile: \Q$dir\E/enc-only\.json: \Q$why\E},
     'a set of the enc key alone: the reason');
like($out, qr{key #0 \(kid \Q$enc_kid\E\) skipped}, 'a set of the enc key '
     . 'alone: its skip is logged too');

# a kid that is not printable is logged escaped
open $fh, '>', "$dir/ctl.json" or die "ctl.json: $!";
print $fh json_encode({ keys => [{ %{$kc->{keys}[0]}, kid => "a\nb\x1b" },
                                 $kc->{keys}[1]] });
close $fh;
($rc, $out) = config_test('ctl', "JWTAuthKeyFile $dir/ctl.json");
like($out, qr{\(kid a\\+nb\\+x1b\) skipped}, 'a kid with control characters '
     . 'is logged escaped');

# a set of many junk keys: 16 lines and a count, not a line a key
open $fh, '>', "$dir/junk.json" or die "junk.json: $!";
print $fh json_encode({ keys => [(map { { %{$kc->{keys}[0]}, kid => "j$_" } }
                                  1 .. 20), $kc->{keys}[1]] });
close $fh;
($rc, $out) = config_test('junk', "JWTAuthKeyFile $dir/junk.json");
is($rc, 0, 'a set of 20 unusable keys and one good one loads');
is(scalar(grep { /skipped:/ } split /\n/, $out), 16,
   '16 skip lines for 20 skipped keys');
like($out, qr{junk\.json: 4 more keys skipped}, 'and a count of the rest');
