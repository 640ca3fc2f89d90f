# Configuration: every directive error stops `apache2 -t` with a message
# naming the directive (and for files the path and the OS error); values
# merge server -> Location with "set overrides, unset inherits".
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use File::Temp qw(tempdir);
use File::Copy qw(copy);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $httpd = Apache::Test::vars('httpd');
my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;
my $so = t_dir() . '/../.libs/mod_jwtauth.so';
my $dir = tempdir(CLEANUP => 1);
my ($s31, $s40, $s64) = map { fixture($_) } qw(secret31 secret40 secret);
copy($s64, "$dir/open-secret") or die "copy: $!";
my $fx = t_dir() . '/fixtures';
{
    open my $fh, '>', "$dir/bad.jwk" or die $!;
    print $fh '{"kty":"EC","crv":"P-384","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8'
        . 'Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}';
    close $fh;
    open $fh, '>', "$dir/enc.jwks" or die $!;
    print $fh '{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe'
        . '1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjK'
        . 'IWI5a0"},{"kty":"EC","use":"enc","crv":"P-256","x":"f83OJ3D2xF1Bg8'
        . 'vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCy'
        . 'StikYjKIWI5a0"}]}';
    close $fh;
}
chmod 0644, "$dir/open-secret";

# [name, directives, expected rc (0 ok, 1 refused), output pattern]
my @rows = (
    ['a sound configuration', "JWTAuthSecretFile $s64\n"
     . "<Location /x>\nJWTAuth On\nRequire jwt-claim admin true\n</Location>",
     0, qr/Syntax OK/],
    ['missing secret file', "JWTAuthSecretFile $dir/none", 1,
     qr{JWTAuthSecretFile: cannot read \Q$dir\E/none: No such file or directory}],
    ['secret file is a directory', "JWTAuthSecretFile $dir", 1,
     qr{JWTAuthSecretFile: cannot read \Q$dir\E: Is a directory}],
    ['31-byte secret', "JWTAuthSecretFile $s31", 1,
     qr{JWTAuthSecretFile: \Q$s31\E: HMAC key is 31 bytes; HS256 needs at least 32}],
    ['world-readable secret warns', "JWTAuthSecretFile $dir/open-secret", 0,
     qr{JWTAuthSecretFile: \Q$dir\E/open-secret is readable by every user}],
    ['alg none', 'JWTAuthAlgorithms HS256 none', 1,
     qr/JWTAuthAlgorithms: 'none' is never accepted/],
    ['alg NoNe', 'JWTAuthAlgorithms NoNe', 1,
     qr/JWTAuthAlgorithms: 'none' is never accepted/],
    ['unknown alg', 'JWTAuthAlgorithms HS256 XS999', 1,
     qr/JWTAuthAlgorithms: unknown algorithm 'XS999'/],
    ['HS512 with a 40-byte key', "JWTAuthSecretFile $s40\n"
     . "JWTAuthAlgorithms HS256 HS512", 1,
     qr/JWTAuthAlgorithms HS512: the HMAC key of this scope is shorter than its hash \(RFC 7518 section 3.2; last key file \Q$s40\E/],
    ['HS384 in a Location over a 40-byte server key',
     "JWTAuthSecretFile $s40\n<Location /y>\nJWTAuthAlgorithms HS384\n"
     . "</Location>", 1, qr{section for /y: JWTAuthAlgorithms HS384: the HMAC key}],
    ['JWTAuth On where no listed algorithm fits the keys',
     "JWTAuthAlgorithms RS256\n<Location /w>\nJWTAuth On\n"
     . "JWTAuthSecretFile $s64\n</Location>", 1,
     qr{section for /w: JWTAuth On, but no algorithm of JWTAuthAlgorithms}],
    ['JWTAuth On without any key', "<Location /z>\nJWTAuth On\n</Location>",
     1, qr{section for /z: JWTAuth On but no key}],
    ['JWTAuth at server level', 'JWTAuth On', 1,
     qr/JWTAuth not allowed here/],
    ['leeway negative', 'JWTAuthLeeway -1', 1,
     qr/JWTAuthLeeway: '-1' is not a whole number from 0 to 86400/],
    ['leeway not a number', 'JWTAuthLeeway 5s', 1,
     qr/JWTAuthLeeway: '5s' is not a whole number/],
    ['lifetime zero', 'JWTAuthTokenLifetime 0', 1,
     qr/JWTAuthTokenLifetime: '0' is not a whole number/],
    ['bad header name', 'JWTAuthHeader "x token"', 1,
     qr/JWTAuthHeader: 'x token' is not a header name/],
    ['unknown provider', "<Location /l>\nJWTAuthProvider nosuch\n</Location>",
     1, qr/JWTAuthProvider: unknown authn provider 'nosuch'/],
    ['provider at server level', 'JWTAuthProvider file', 1,
     qr/JWTAuthProvider not allowed here/],
    ['login claim reserved', "<Location /l>\nJWTAuthLoginClaim exp 1 int\n"
     . "</Location>", 1, qr/JWTAuthLoginClaim: 'exp' is set by the module/],
    ['login claim auth_time reserved', "<Location /l>\nJWTAuthLoginClaim "
     . "auth_time 1 int\n</Location>", 1,
     qr/JWTAuthLoginClaim: 'auth_time' is set by the module/],
    ['login claim bad type', "<Location /l>\nJWTAuthLoginClaim n 1 float\n"
     . "</Location>", 1, qr/JWTAuthLoginClaim: type 'float'/],
    ['login claim bad expression', "<Location /l>\n"
     . "JWTAuthLoginClaim n %{env:X int\n</Location>", 1,
     qr/JWTAuthLoginClaim: cannot parse/],
    ['RSA key of 1024 bits', "JWTAuthKeyFile $fx/rsa1024.pub", 1,
     qr{JWTAuthKeyFile: \Q$fx\E/rsa1024.pub: RSA key is 1024 bits; at least 2048}],
    ['EC key on P-224', "JWTAuthKeyFile $fx/ec224.pub", 1,
     qr{JWTAuthKeyFile: \Q$fx\E/ec224.pub: EC curve 'secp224r1' is none of}],
    ['JWK whose crv does not match its size', "JWTAuthKeyFile $dir/bad.jwk",
     1, qr{JWTAuthKeyFile: \Q$dir\E/bad.jwk: EC JWK x or y missing or not the curve's size}],
    # skipped with an info line (t/18_keysets.t), no longer refused
    ['JWK Set with a key for encryption',
     "LogLevel info\nJWTAuthKeyFile $dir/enc.jwks", 0,
     qr{JWTAuthKeyFile \Q$dir\E/enc.jwks: key #1 \(no kid\) skipped: JWK use}],
    ['a private key as a verification key', "JWTAuthKeyFile $fx/ec256.key",
     1, qr{JWTAuthKeyFile: .*ec256.key: a private key where a public one belongs}],
    ['a public key as the signing key', "JWTAuthSigningKeyFile $fx/ec256.pub",
     1, qr{JWTAuthSigningKeyFile: .*ec256.pub: no PEM private key found}],
    ['signing key that cannot run the first algorithm',
     "JWTAuthSigningKeyFile $fx/ec256.key\nJWTAuthAlgorithms RS256", 1,
     qr{JWTAuthAlgorithms RS256: the key in .*ec256.key \(JWTAuthSigningKeyFile\) cannot sign it}],
    ['every asymmetric key type loads', join("\n",
     (map { "JWTAuthKeyFile $fx/$_" } qw(rsa.pub rsa.crt ec256.pub ec384.pub
      ec521.pub k256.pub ed.pub rotate.jwks)),
     "JWTAuthSigningKeyFile $fx/ed.key"), 0, qr/Syntax OK/],
    ['unknown shared cache provider', 'JWTAuthSharedCache nosuch', 1,
     qr/JWTAuthSharedCache: unknown socache provider 'nosuch'/],
    ['shared cache secret too short',
     "JWTAuthSharedCacheSecretFile $s31", 1,
     qr{JWTAuthSharedCacheSecretFile: \Q$s31\E holds 31 bytes; 32 to 64}],
    ['shared cache in a Location', "<Location /s>\nJWTAuthSharedCache shmcb"
     . "\n</Location>", 1, qr/JWTAuthSharedCache not allowed in <Location>/],
    ['Require jwt-claim without a value', "<Location /r>\n"
     . "Require jwt-claim admin\n</Location>", 1,
     qr/Require jwt-claim needs a claim name and at least one value/],
);

plan tests => 2 * @rows + 15, need_module('mod_jwtauth.c');

for my $r (@rows) {
    my ($name, $directives, $want_rc, $pat) = @$r;
    my ($rc, $out) = apache_t([qw(authn_file auth_basic)], $directives);
    my $want = $want_rc ? 'refuses' : 'accepts';
    is($rc ? 'refuses' : 'accepts', $want, "$name: apache2 -t $want")
        or diag($out);
    like($out, $pat, "$name: message");
}

# conf/jwtauth.load names the place `make install` (apxs -i) puts the
# module; with that path pointing at the build, it and the annotated
# conf/jwtauth.conf load into a plain server
{
    my $conf_dir = t_dir() . '/../conf';
    open my $fh, '<', "$conf_dir/jwtauth.load" or die $!;
    my ($load) = grep { /^LoadModule/ } <$fh>;
    close $fh;
    like($load, qr{^LoadModule jwtauth_module \Q$libexec\E/mod_jwtauth\.so$},
         'jwtauth.load points at apxs -q LIBEXECDIR');
    $load =~ s{\S+$}{$so};
    my $conf = "$dir/stock.conf";
    open $fh, '>', $conf or die $!;
    print $fh join "\n", "ServerRoot $dir", "ServerName localhost",
        "PidFile $dir/pid", "ErrorLog $dir/error_log", "Listen 127.0.0.1:1",
        map({ "LoadModule ${_}_module $libexec/mod_$_.so" }
            qw(mpm_event authn_core authz_core)),
        $load, "Include $conf_dir/jwtauth.conf", '';
    close $fh;
    my $out = `$httpd -t -f $conf 2>&1`;
    is($?, 0, 'jwtauth.load + jwtauth.conf: Syntax OK: exit status')
        or diag($out);
    like($out, qr/Syntax OK/, 'jwtauth.load + jwtauth.conf: Syntax OK: output');
    $out = `$httpd -M -f $conf 2>&1`;
    like($out, qr/jwtauth_module \(shared\)/, 'the module is loaded');
}

# merging in the running server: the key and algorithms at server level
# reach every Location; a Location's own key and algorithms replace them
my $exp = time + 60;
my $P = { sub => 'daehan', exp => $exp };
is(GET('/short/', 'x-access-token' => jws({ alg => 'HS256' }, $P,
                                          secret('secret32')))->code, 200,
   '/short: its own 32-byte key verifies');
is(GET('/short/', 'x-access-token' => jws({ alg => 'HS256' }, $P))->code,
   401, '/short: the server key no longer does');
is(GET('/hs512/', 'x-access-token' => jws({ alg => 'HS512' }, $P))->code,
   200, '/hs512: inherited key, own algorithm list: HS512 accepted');
is(GET('/protected/hello.html',
       'x-access-token' => jws({ alg => 'HS384' }, $P))->code, 200,
   '/protected: server list HS256 HS384 HS512 inherited');
is(GET('/leeway/', 'x-access-token' => jws({ alg => 'HS256' },
       { sub => 'x', exp => time - 30 }))->code, 200,
   '/leeway: 60 s of leeway takes a token 30 s past exp');
is(GET('/protected/hello.html', 'x-access-token' => jws({ alg => 'HS256' },
       { sub => 'x', exp => time - 30 }))->code, 401,
   'no leeway elsewhere');

# server -> vhost -> Location: the vhost's header and algorithms reach its
# Locations, the server's key reaches the vhost, a Location overrides
my $vt = jws({ alg => 'HS384' }, $P);
Apache::TestRequest::module('jwtauth_vhost');
is(GET('/vh/', 'X-Vhost-Token' => $vt)->code, 200,
   'vhost: JWTAuthHeader and JWTAuthAlgorithms from the vhost, key from '
   . 'the server');
is(GET('/vh/', 'x-access-token' => $vt)->code, 401,
   'vhost: the server default header is replaced');
is(GET('/vh/',
       'X-Vhost-Token' => jws({ alg => 'HS256' }, $P))->code, 401,
   'vhost: HS256 no longer accepted there');
is(GET('/vh/own/', 'X-Own-Token' => $vt)->code, 200,
   'Location inside the vhost overrides the header again');
Apache::TestRequest::module('default');
is(GET('/protected/hello.html', 'x-access-token' => $vt)->code, 200,
   'main server unchanged by the vhost');
