#!/bin/bash
# Write the suite's fixtures into t/fixtures (never committed): HMAC
# secrets, an htpasswd file and the SQLite user table, all fresh per run.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf fixtures
mkdir -p fixtures
umask 077
# 64 bytes (HS256/384/512) with the trailing newline an editor leaves;
# root-only like a real key: httpd reads it before dropping privileges
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > fixtures/secret
echo >> fixtures/secret
# 32 bytes: HS256 only
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > fixtures/secret32
# 40 bytes: enough for HS256, too short for HS384 and HS512
head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' > fixtures/secret40
# 31 bytes: refused everywhere
printf '%s' 0123456789012345678901234567890 > fixtures/secret31
# asymmetric keys: private (0600) and public halves, one per algorithm
# family; rsa.crt is a self-signed certificate over the RSA key
gen() { openssl genpkey -quiet "$@"; }
gen -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out fixtures/rsa.key
gen -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out fixtures/rsa1024.key
gen -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out fixtures/rsa2.key
for c in P-256:ec256 P-384:ec384 P-521:ec521 secp256k1:k256 P-224:ec224 \
         P-256:rot1 P-256:rot2 P-256:rot3; do
    gen -algorithm EC -pkeyopt ec_paramgen_curve:${c%%:*} \
        -out fixtures/${c##*:}.key
done
gen -algorithm ED25519 -out fixtures/ed.key
for k in rsa rsa2 rsa1024 ec256 ec384 ec521 k256 ec224 rot1 rot2 rot3 ed; do
    openssl pkey -in fixtures/$k.key -pubout -out fixtures/$k.pub
done
openssl req -x509 -new -key fixtures/rsa.key -subj /CN=jwtauth-test \
    -days 2 -out fixtures/rsa.crt 2>/dev/null
umask 022
chmod 644 fixtures/*.pub fixtures/rsa.crt
# the rotation set: rot1 and rot2 now; the test drops rot1 and reloads
perl -MJSON::PP -MCrypt::PK::ECC -e '
    my @k = map { my $j = Crypt::PK::ECC->new("fixtures/$_.pub")
                           ->export_key_jwk("public", 1);
                  $j->{kid} = $_; $j } @ARGV;
    print JSON::PP->new->canonical->encode({ keys => \@k });
' rot1 rot2 > fixtures/rotate.jwks
# the RSA key again, as a JWK bound to PS256 alone and without kid
# (t/14_policy.t: the same material under other algorithms)
perl -MJSON::PP -MCrypt::PK::RSA -e '
    my $j = Crypt::PK::RSA->new("fixtures/rsa.pub")->export_key_jwk("public", 1);
    $j->{alg} = "PS256";
    print JSON::PP->new->canonical->encode($j);
' > fixtures/rsa_ps256.jwk
chmod 644 fixtures/rsa_ps256.jwk
htpasswd -cbB -C 5 fixtures/htpasswd daehan 1234 2>/dev/null
htpasswd -bB -C 5 fixtures/htpasswd alice wonderland 2>/dev/null
htpasswd -cbB -C 5 fixtures/htpasswd2 bob builder 2>/dev/null
hash=$(htpasswd -nbB -C 5 daehan 1234 | cut -d: -f2-)
hash2=$(htpasswd -nbB -C 5 carol 5678 | cut -d: -f2-)
sqlite3 fixtures/users.db <<SQL
CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT NOT NULL,
                    id INTEGER NOT NULL, admin INTEGER NOT NULL,
                    badid TEXT);
INSERT INTO users VALUES ('daehan', '$hash', 1, 1, '1x');
INSERT INTO users VALUES ('carol', '$hash2', 2, 0, '2');
INSERT INTO users VALUES ('dave', '$hash2', 3, 0, ' 3');
SQL
chmod 644 fixtures/htpasswd fixtures/htpasswd2 fixtures/users.db
chmod 755 fixtures
