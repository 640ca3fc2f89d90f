# Every algorithm through the server: tokens made by Crypt::JWT and PyJWT
# are accepted, tokens issued by /login verify in both, the published
# JWK Set works in PyJWT, the algorithm-confusion attacks fail closed, and
# a key removed from a JWK Set stops working after a graceful restart
# while requests in flight do not fail.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Crypt::JWT qw(encode_jwt decode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(sleep);
use LWP::UserAgent;
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

# alg => [private key fixture, kid or undef]
my %algs = (
    RS256 => ['rsa', 'rsa-1'], RS384 => ['rsa', 'rsa-1'],
    RS512 => ['rsa', 'rsa-1'], PS256 => ['rsa', 'rsa-1'],
    PS384 => ['rsa', 'rsa-1'], PS512 => ['rsa', 'rsa-1'],
    ES256 => ['ec256', 'ec256-1'], ES384 => ['ec384', undef],
    ES512 => ['ec521', undef], ES256K => ['k256', undef],
    EdDSA => ['ed', 'ed-1'],
);
my @algs = sort keys %algs;
my @issuers = @algs;

my @node_algs = grep { $_ ne 'ES256K' } @algs;   # jose 6 dropped ES256K
my $NODE = -e t_dir() . '/node/node_modules/jose/package.json'
           && `node --version 2>/dev/null` =~ /^v(\d+)/ && $1 >= 20;

plan tests => 3 * @algs + 6 * @issuers + 21 + 2 * @node_algs + 1,
    need_module('mod_jwtauth.c');

my $PY = '/usr/bin/python3';
my $basic = 'Basic ' . encode_base64('daehan:1234', '');

sub pk {
    my ($name, $pub) = @_;
    my $file = fixture("$name." . ($pub ? 'pub' : 'key'));
    return $name =~ /^rsa/ ? Crypt::PK::RSA->new($file)
         : $name eq 'ed'   ? Crypt::PK::Ed25519->new($file)
         :                   Crypt::PK::ECC->new($file);
}

sub cj_token {
    my ($alg, %o) = @_;
    my ($key, $kid) = @{ $algs{$alg} };
    return encode_jwt(payload => { sub => 'daehan', exp => time + 300 },
                      alg => $alg, key => pk($key),
                      extra_headers => { typ => 'JWT',
                          (defined $kid && !$o{nokid}) ? (kid => $kid) : () });
}

# PyJWT: argv[1] is a key file, argv[2..] as given
sub pyjwt {
    my ($code, @args) = @_;
    open my $fh, '-|', $PY, '-c', "import sys, time, json, jwt\n$code", @args
        or die "python3: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\n\z//;
    return ($? >> 8, $out);
}

sub status { GET($_[0], 'x-access-token' => $_[1])->code }

# Crypt::JWT and PyJWT make, we check
for my $alg (@algs) {
    ok(status('/alg/', cj_token($alg)) == 200,
       "Crypt::JWT $alg (kid " . ($algs{$alg}[1] // 'none') . ') accepted');
    ok(status('/alg/', cj_token($alg, nokid => 1)) == 200,
       "Crypt::JWT $alg without kid accepted (keys of its type tried)");
    my ($rc, $tok) = pyjwt("key = open(sys.argv[1], 'rb').read()\n"
        . "print(jwt.encode({'sub': 'daehan', 'exp': int(time.time()) + 60}, "
        . "key, algorithm='$alg'))", fixture("$algs{$alg}[0].key"));
    ok($rc == 0 && status('/alg/', $tok) == 200, "PyJWT $alg accepted");
}

# /login makes, Crypt::JWT, PyJWT and the module check
for my $alg (@issuers) {
    my $path = '/login-' . lc $alg;
    my ($key) = @{ $algs{$alg} };
    my $res = GET($path, Authorization => $basic);
    my $tok = eval { json_decode($res->content)->{token} } // '';
    my ($h) = split /\./, $tok;
    my $hdr = eval { json_decode(unb64u($h)) } || {};
    ok($res->code == 200 && ($hdr->{alg} // '') eq $alg,
       "$path issues an $alg token");
    ok(defined $hdr->{kid}, "$alg token carries a kid");
    my $c = eval { decode_jwt(token => $tok, key => pk($key, 1),
                              accepted_alg => $alg) } || {};
    ok(($c->{sub} // '') eq 'daehan', "Crypt::JWT verifies the $alg token");
    my ($rc, $out) = pyjwt("key = open(sys.argv[1], 'rb').read()\n"
        . "print(jwt.decode(sys.argv[2], key, algorithms=['$alg'])['sub'])",
        fixture("$key.pub"), $tok);
    ok($rc == 0 && $out eq 'daehan', "PyJWT verifies the $alg token");
    ok(status('/alg/', $tok) == 200, "the module accepts its own $alg token");
    # a changed payload with the signature kept fails
    my ($hh, $pp, $ss) = split /\./, $tok;
    my $forged = join '.', $hh, b64u(json_encode({ sub => 'root',
                                                   exp => time + 300 })), $ss;
    ok(status('/alg/', $forged) == 401, "$alg: payload changed, refused");
}

# node jose, a third implementation: it makes, we check; we make, it checks
sub node_jose { my $out = `node @{[ t_dir() ]}/node/jose-check.mjs @_ 2>&1`;
                $out =~ s/\n\z//; return ($? >> 8, $out) }
SKIP: {
    skip 'node jose not installed (npm registry unreachable or no node 20)',
        2 * @node_algs + 1 unless $NODE;
    for my $alg (@node_algs) {
        my ($key, $kid) = @{ $algs{$alg} };
        my ($rc, $t) = node_jose('sign', $alg, fixture("$key.key"),
                                 $kid // '');
        ok($rc == 0 && status('/alg/', $t) == 200,
           "node jose $alg token accepted");
      SKIP: {
            skip "/login does not issue $alg in this suite", 1
                unless grep { $_ eq $alg } @issuers;
            my $tok = json_decode(GET_BODY('/login-' . lc $alg,
                                           Authorization => $basic))->{token};
            my ($vrc, $sub) = node_jose('verify', $alg, fixture("$key.pub"),
                                        $tok);
            ok($vrc == 0 && $sub eq 'daehan',
               "node jose verifies the /login $alg token");
        }
    }
    my $set = t_dir() . '/fixtures/published.jwks';
    open my $fh, '>', $set or die $!;
    print $fh GET_BODY('/jwks');
    close $fh;
    my $tok = json_decode(GET_BODY('/login-rs256',
                                   Authorization => $basic))->{token};
    my ($rc, $sub) = node_jose('jwks', $set, $tok);
    ok($rc == 0 && $sub eq 'daehan',
       'node jose verifies a /login token with the published JWK Set');
}

# the published key set loads in PyJWT and verifies a /login token
my $res = GET('/jwks');
my $jwks = eval { json_decode($res->content) } || { keys => [] };
ok($res->code == 200
   && ($res->header('Content-Type') // '') eq 'application/jwk-set+json',
   'jwtauth-jwks answers application/jwk-set+json');
ok(($res->header('Cache-Control') // '') =~ /public, max-age=\d+/,
   'and may be cached');
ok(@{ $jwks->{keys} } == 3
   && "@{[ map { $_->{kid} } @{ $jwks->{keys} } ]}" eq 'rsa-1 ec256-1 ed-1',
   'signing key first, then the other public keys, each once');
ok(!(grep { exists $_->{d} || exists $_->{k} || exists $_->{p}
            || $_->{kty} eq 'oct' } @{ $jwks->{keys} }),
   'no private member and no HMAC key published');
my $rs = json_decode(GET_BODY('/login-rs256', Authorization => $basic))->{token};
my ($rc, $out) = pyjwt("ks = jwt.PyJWKSet.from_json(sys.argv[1])\n"
    . "kid = jwt.get_unverified_header(sys.argv[2])['kid']\n"
    . "key = [k for k in ks.keys if k.key_id == kid][0]\n"
    . "print(jwt.decode(sys.argv[2], key.key, algorithms=['RS256'])['sub'])",
    $res->content, $rs);
ok($rc == 0 && $out eq 'daehan',
   'PyJWT verifies a /login token with the published JWK Set');

# a certificate as the key file
ok(status('/alg-cert/', cj_token('RS256')) == 200,
   'PEM certificate as JWTAuthKeyFile: RS256 accepted');

# typ pinned
ok(status('/alg-typ/', cj_token('ES256')) == 200, 'JWTAuthType JWT: typ JWT');
my $nt = encode_jwt(payload => { sub => 'x', exp => time + 60 }, alg => 'ES256',
                    key => pk('ec256'), extra_headers => { typ => 'at+jwt' });
ok(status('/alg-typ/', $nt) == 401, 'JWTAuthType JWT: typ at+jwt refused');
$nt = encode_jwt(payload => { sub => 'x', exp => time + 60 }, alg => 'ES256',
                 key => pk('ec256'), extra_headers => {
                     typ => 'application/JWT' });
ok(status('/alg-typ/', $nt) == 200, 'typ application/JWT matches JWT');

# algorithm confusion: HS256 keyed with the public key's PEM or DER bytes
my $pem = do { local (@ARGV, $/) = fixture('rsa.pub'); <> };
(my $b64 = $pem) =~ s/-----[^-]+-----|\s//g;
for my $k (['PEM', $pem], ['DER', decode_base64($b64)]) {
    my $in = b64u('{"alg":"HS256","typ":"JWT"}') . '.'
           . b64u(json_encode({ sub => 'admin', exp => time + 60 }));
    my $t = "$in." . b64u(hmac_sha256($in, $k->[1]));
    ok(status('/alg/', $t) == 401 && status('/alg-rs-only/', $t) == 401,
       "HS256 keyed with the RSA public key's $k->[0] bytes refused");
}
# ES256 with r = s = 0 (CVE-2022-21449), and a DER-encoded signature
{
    my $in = b64u('{"alg":"ES256","kid":"ec256-1"}') . '.'
           . b64u(json_encode({ sub => 'admin', exp => time + 60 }));
    ok(status('/alg/', "$in." . b64u("\0" x 64)) == 401,
       'ES256 with r = s = 0 refused (CVE-2022-21449)');
    my $der = pk('ec256')->sign_message($in, 'SHA256');
    ok(length($der) != 64 && status('/alg/', "$in." . b64u($der)) == 401,
       'ES256 with a DER signature refused');
    my $rs = pk('ec256')->sign_message_rfc7518($in, 'SHA256');
    ok(status('/alg/', "$in." . b64u($rs)) == 200,
       'the same signature as R||S accepted (the check can pass)');
}
# a jku/x5u/jwk header changes nothing and is never fetched: embedding
# the attacker's own key (CVE-2018-0114) does not make it trusted
{
    my $evil = Crypt::PK::ECC->new;
    $evil->generate_key('secp256r1');
    my $t = encode_jwt(payload => { sub => 'admin', exp => time + 60 },
                       alg => 'ES256', key => $evil, extra_headers => {
                           jwk => $evil->export_key_jwk('public', 1),
                           jku => 'http://127.0.0.1:9/keys' });
    ok(status('/alg/', $t) == 401, 'embedded jwk and jku ignored: refused');
}

# rotation: rot1 and rot2 are listed; rot1 leaves the set, graceful
sub rot_token {
    my $kid = shift;
    return encode_jwt(payload => { sub => 'daehan', exp => time + 300 },
                      alg => 'ES256', key => pk($kid),
                      extra_headers => { kid => $kid });
}
my ($t1, $t2, $t3) = map { rot_token($_) } qw(rot1 rot2 rot3);
ok(status('/alg-jwks/', $t1) == 200 && status('/alg-jwks/', $t2) == 200,
   'rotation: tokens under rot1 and rot2 accepted');
ok(status('/alg-jwks/', $t3) == 401, 'rotation: rot3 not yet listed');

my $set = fixture('rotate.jwks');
my $doc = json_decode(do { local (@ARGV, $/) = $set; <> });
my %pub = map { $_->{kid} => $_ } @{ $doc->{keys} };
my $r3 = Crypt::PK::ECC->new(fixture('rot3.pub'))->export_key_jwk('public', 1);
$r3->{kid} = 'rot3';
open my $fh, '>', "$set.new" or die $!;
print $fh json_encode({ keys => [$pub{rot2}, $r3] });
close $fh;
rename "$set.new", $set or die $!;

# requests keep flowing while the server reloads
my $pid_file = Apache::Test::vars('t_pid_file');
my $ppid = do { local (@ARGV, $/) = $pid_file; <> };
chomp $ppid;
my $url = Apache::TestRequest::resolve_url('/alg-jwks/');
pipe my $rd, my $wr or die $!;
my $kid = fork // die "fork: $!";
if (!$kid) {
    close $rd;
    # a new connection per request: an idle keep-alive connection that the
    # old generation closes is no request in flight
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 10);
    my ($n, $bad, %why) = (0, 0);
    my $until = time + 3;
    while (time < $until && $n < 5000) {
        my $r = $ua->get($url, 'x-access-token' => $t2);
        $n++;
        if ($r->code != 200) {
            $bad++;
            $why{$r->code . ' ' . ($r->header('Client-Warning') // '')}++;
        }
    }
    print $wr "$n $bad " . join(',', map { "$_=$why{$_}" } sort keys %why)
        . "\n";
    exit 0;
}
close $wr;
sleep 0.5;
t_start_error_log_watch();
kill 'USR1', $ppid;
my ($gone, $in) = (0, 0);
for (1 .. 100) {
    sleep 0.1;
    last if ($gone = status('/alg-jwks/', $t1) == 401)
            && ($in = status('/alg-jwks/', $t3) == 200);
}
my ($n, $bad, $why) = split ' ', scalar <$rd>, 3;
waitpid $kid, 0;
t_finish_error_log_watch();
ok($gone, 'rotation: rot1 refused after the graceful restart');
ok($in, 'rotation: rot3 accepted after the graceful restart');
ok(status('/alg-jwks/', $t2) == 200, 'rotation: rot2 still accepted');
ok($n > 20 && $bad == 0,
   "rotation: $n requests during the reload, $bad failed")
    or diag("failures: $why");
