#!/bin/bash
# Regenerate the identity-provider-shaped JWK Sets of this directory
# (run by hand, never by the suite: the committed files are the vectors).
# Each set is written in the member layout and order its provider
# publishes; the keys are fresh RSA 2048 keys, and the private halves the
# tests sign with are kept as test-only-*.key: throwaway test keys, never
# used anywhere else.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name: the private keys kept (test-only-NAME.key) and those thrown away
kept="keycloak-sig entra-2 auth0 okta google-2"
gone="keycloak-enc entra-1 google-1"
for k in $kept $gone; do
    openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
        -out "$tmp/$k.key"
    openssl req -x509 -new -key "$tmp/$k.key" -subj "/CN=$k" -days 3650 \
        -outform DER -out "$tmp/$k.der" 2>/dev/null
done
for k in $kept; do
    cp "$tmp/$k.key" "test-only-$k.key"
done

TMP=$tmp perl -MJSON::PP -MCrypt::PK::RSA -MDigest::SHA=sha1,sha256 \
     -MMIME::Base64 -e '
my $tmp = $ENV{TMP};
sub b64u { MIME::Base64::encode_base64url($_[0]) }
sub der { my $f = "$tmp/$_[0].der"; open my $h, "<:raw", $f or die;
          local $/; <$h> }
# the members of a key in the order given; n and e from the key
sub key {
    my ($name, @m) = @_;
    my $j = Crypt::PK::RSA->new("$tmp/$name.key")->export_key_jwk("public", 1);
    my $d = der($name);
    my %v = (n => $j->{n}, e => $j->{e}, kty => "RSA",
             x5c => [MIME::Base64::encode_base64($d, "")],
             x5t => b64u(sha1($d)), "x5t#S256" => b64u(sha256($d)));
    my @out;
    while (my ($k, $val) = splice @m, 0, 2) {
        push @out, $k, defined $val ? $val : $v{$k};
    }
    return \@out;
}
# JSON with the members in their given order
sub obj {
    my $m = shift;
    my @p;
    for (my $i = 0; $i < @$m; $i += 2) {
        my $v = $m->[$i + 1];
        push @p, JSON::PP->new->encode($m->[$i]) . ":"
            . (ref $v eq "ARRAY" && @$v && ref $v->[0] eq "ARRAY"
               ? "[" . join(",", map { obj($_) } @$v) . "]"
               : JSON::PP->new->canonical->encode($v));
    }
    return "{" . join(",", @p) . "}";
}
sub set { my ($file, @keys) = @_;
          open my $h, ">", $file or die; print $h obj([keys => \@keys]), "\n" }
sub rnd { b64u(join "", map { chr int rand 256 } 1 .. $_[0]) }

# Keycloak, /realms/R/protocol/openid-connect/certs: the realm encryption
# key (RSA-OAEP, use enc) beside its signing key
set("keycloak.json",
    key("keycloak-enc", kid => rnd(32), kty => undef, alg => "RSA-OAEP",
        use => "enc", n => undef, e => undef, x5c => undef, x5t => undef,
        "x5t#S256" => undef),
    key("keycloak-sig", kid => rnd(32), kty => undef, alg => "RS256",
        use => "sig", n => undef, e => undef, x5c => undef, x5t => undef,
        "x5t#S256" => undef));
# Entra ID, /common/discovery/v2.0/keys: no alg, kid is the x5t, issuer
# a template
my @entra = map {
    my $d = der($_);
    key($_, kty => undef, use => "sig", kid => b64u(sha1($d)), x5t => undef,
        n => undef, e => undef, x5c => undef,
        cloud_instance_name => "microsoftonline.com",
        issuer => "https://login.microsoftonline.com/{tenantid}/v2.0")
} qw(entra-1 entra-2);
set("entra.json", @entra);
# Auth0, /.well-known/jwks.json
set("auth0.json", key("auth0", kty => undef, use => "sig", n => undef,
    e => undef, kid => rnd(16), x5t => undef, x5c => undef,
    alg => "RS256"));
# Okta, /oauth2/default/v1/keys
set("okta.json", key("okta", kty => undef, alg => "RS256", kid => rnd(32),
    use => "sig", e => undef, n => undef));
# Google, /oauth2/v3/certs: kids are 40 hex digits
set("google.json", map {
    key($_, e => undef, n => undef, use => "sig", kty => undef,
        kid => unpack("H*", join("", map { chr int rand 256 } 1 .. 20)),
        alg => "RS256")
} qw(google-1 google-2));
'
chmod 644 ./*.json test-only-*.key
