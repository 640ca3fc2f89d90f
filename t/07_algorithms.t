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

plan tests => 4 * @algs + 8 * @issuers + 29 + 4 * @node_algs + 2,
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
    is(status('/alg/', cj_token($alg)), 200,
       "Crypt::JWT $alg (kid " . ($algs{$alg}[1] // 'none') . ') accepted');
    is(status('/alg/', cj_token($alg, nokid => 1)), 200,
       "Crypt::JWT $alg without kid accepted (keys of its type tried)");
    my ($rc, $tok) = pyjwt("key = open(sys.argv[1], 'rb').read()\n"
        . "print(jwt.encode({'sub': 'daehan', 'exp': int(time.time()) + 60}, "
        . "key, algorithm='$alg'))", fixture("$algs{$alg}[0].key"));
    is($rc, 0, "PyJWT $alg accepted: PyJWT ran");
    is(status('/alg/', $tok), 200, "PyJWT $alg accepted: status");
}

# /login makes, Crypt::JWT, PyJWT and the module check
for my $alg (@issuers) {
    my $path = '/login-' . lc $alg;
    my ($key) = @{ $algs{$alg} };
    my $res = GET($path, Authorization => $basic);
    my $tok = eval { json_decode($res->content)->{token} } // '';
    my ($h) = split /\./, $tok;
    my $hdr = eval { json_decode(unb64u($h)) } || {};
    is($res->code, 200, "$path issues an $alg token: status");
    is($hdr->{alg}, $alg, "$path issues an $alg token: alg");
    isnt($hdr->{kid}, undef, "$alg token carries a kid");
    my $c = eval { decode_jwt(token => $tok, key => pk($key, 1),
                              accepted_alg => $alg) } || {};
    is($c->{sub}, 'daehan', "Crypt::JWT verifies the $alg token");
    my ($rc, $out) = pyjwt("key = open(sys.argv[1], 'rb').read()\n"
        . "print(jwt.decode(sys.argv[2], key, algorithms=['$alg'])['sub'])",
        fixture("$key.pub"), $tok);
    is($rc, 0, "PyJWT verifies the $alg token: exit status");
    is($out, 'daehan', "PyJWT verifies the $alg token: sub");
    is(status('/alg/', $tok), 200, "the module accepts its own $alg token");
    # a changed payload with the signature kept fails
    my ($hh, $pp, $ss) = split /\./, $tok;
    my $forged = join '.', $hh, b64u(json_encode({ sub => 'root',
                                                   exp => time + 300 })), $ss;
    is(status('/alg/', $forged), 401, "$alg: payload changed, refused");
}

# node jose, a third implementation: it makes, we check; we make, it checks
sub node_jose { my $out = `node @{[ t_dir() ]}/node/jose-check.mjs @_ 2>&1`;
                $out =~ s/\n\z//; return ($? >> 8, $out) }
SKIP: {
    skip 'node jose not installed (npm registry unreachable or no node 20)',
        4 * @node_algs + 2 unless $NODE;
    for my $alg (@node_algs) {
        my ($key, $kid) = @{ $algs{$alg} };
        my ($rc, $t) = node_jose('sign', $alg, fixture("$key.key"),
                                 $kid // '');
        is($rc, 0, "node jose $alg token accepted: node ran");
        is(status('/alg/', $t), 200, "node jose $alg token accepted: status");
      SKIP: {
            skip "/login does not issue $alg in this suite", 2
                unless grep { $_ eq $alg } @issuers;
            my $tok = json_decode(GET_BODY('/login-' . lc $alg,
                                           Authorization => $basic))->{token};
            my ($vrc, $sub) = node_jose('verify', $alg, fixture("$key.pub"),
                                        $tok);
            is($vrc, 0, "node jose verifies the /login $alg token: "
               . 'exit status');
            is($sub, 'daehan', "node jose verifies the /login $alg token: "
               . 'sub');
        }
    }
    my $set = t_dir() . '/fixtures/published.jwks';
    open my $fh, '>', $set or die $!;
    print $fh GET_BODY('/jwks');
    close $fh;
    my $tok = json_decode(GET_BODY('/login-rs256',
                                   Authorization => $basic))->{token};
    my ($rc, $sub) = node_jose('jwks', $set, $tok);
    is($rc, 0, 'node jose verifies a /login token with the published JWK '
       . 'Set: exit status');
    is($sub, 'daehan', 'node jose verifies a /login token with the published '
       . 'JWK Set: sub');
}

# the published key set loads in PyJWT and verifies a /login token
my $res = GET('/jwks');
my $jwks = eval { json_decode($res->content) } || { keys => [] };
is($res->code, 200, 'jwtauth-jwks answers application/jwk-set+json: status');
is(scalar $res->header('Content-Type'), 'application/jwk-set+json',
   'jwtauth-jwks answers application/jwk-set+json: type');
like(scalar $res->header('Cache-Control'), qr/public, max-age=\d+/,
     'and may be cached');
is(scalar @{ $jwks->{keys} }, 3,
   'signing key first, then the other public keys, each once: count');
is(@{ $jwks->{keys} } == 3
   ? "@{[ map { $_->{kid} } @{ $jwks->{keys} } ]}" : undef,
   'rsa-1 ec256-1 ed-1',
   'signing key first, then the other public keys, each once: kids');
ok(!(grep { exists $_->{d} || exists $_->{k} || exists $_->{p}
            || $_->{kty} eq 'oct' } @{ $jwks->{keys} }),
   'no private member and no HMAC key published');
my $rs = json_decode(GET_BODY('/login-rs256', Authorization => $basic))->{token};
my ($rc, $out) = pyjwt("ks = jwt.PyJWKSet.from_json(sys.argv[1])\n"
    . "kid = jwt.get_unverified_header(sys.argv[2])['kid']\n"
    . "key = [k for k in ks.keys if k.key_id == kid][0]\n"
    . "print(jwt.decode(sys.argv[2], key.key, algorithms=['RS256'])['sub'])",
    $res->content, $rs);
is($rc, 0, 'PyJWT verifies a /login token with the published JWK Set: '
   . 'exit status');
is($out, 'daehan',
   'PyJWT verifies a /login token with the published JWK Set: sub');

# a certificate as the key file
is(status('/alg-cert/', cj_token('RS256')), 200,
   'PEM certificate as JWTAuthKeyFile: RS256 accepted');

# typ pinned
is(status('/alg-typ/', cj_token('ES256')), 200, 'JWTAuthType JWT: typ JWT');
my $nt = encode_jwt(payload => { sub => 'x', exp => time + 60 }, alg => 'ES256',
                    key => pk('ec256'), extra_headers => { typ => 'at+jwt' });
is(status('/alg-typ/', $nt), 401, 'JWTAuthType JWT: typ at+jwt refused');
$nt = encode_jwt(payload => { sub => 'x', exp => time + 60 }, alg => 'ES256',
                 key => pk('ec256'), extra_headers => {
                     typ => 'application/JWT' });
is(status('/alg-typ/', $nt), 200, 'typ application/JWT matches JWT');

# algorithm confusion: HS256 keyed with the public key's PEM or DER bytes
my $pem = do { local (@ARGV, $/) = fixture('rsa.pub'); <> };
(my $b64 = $pem) =~ s/-----[^-]+-----|\s//g;
for my $k (['PEM', $pem], ['DER', decode_base64($b64)]) {
    my $in = b64u('{"alg":"HS256","typ":"JWT"}') . '.'
           . b64u(json_encode({ sub => 'admin', exp => time + 60 }));
    my $t = "$in." . b64u(hmac_sha256($in, $k->[1]));
    is(status('/alg/', $t), 401,
       "HS256 keyed with the RSA public key's $k->[0] bytes refused: /alg/");
    is(status('/alg-rs-only/', $t), 401,
       "HS256 keyed with the RSA public key's $k->[0] bytes refused: "
       . '/alg-rs-only/');
}
# ES256 with r = s = 0 (CVE-2022-21449), and a DER-encoded signature
{
    my $in = b64u('{"alg":"ES256","kid":"ec256-1"}') . '.'
           . b64u(json_encode({ sub => 'admin', exp => time + 60 }));
    is(status('/alg/', "$in." . b64u("\0" x 64)), 401,
       'ES256 with r = s = 0 refused (CVE-2022-21449)');
    my $der = pk('ec256')->sign_message($in, 'SHA256');
    isnt(length($der), 64, 'ES256 with a DER signature refused: not R||S');
    is(status('/alg/', "$in." . b64u($der)), 401,
       'ES256 with a DER signature refused: status');
    my $rs = pk('ec256')->sign_message_rfc7518($in, 'SHA256');
    is(status('/alg/', "$in." . b64u($rs)), 200,
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
    is(status('/alg/', $t), 401, 'embedded jwk and jku ignored: refused');
}

# rotation: rot1 and rot2 are listed; rot1 leaves the set, graceful
sub rot_token {
    my $kid = shift;
    return encode_jwt(payload => { sub => 'daehan', exp => time + 300 },
                      alg => 'ES256', key => pk($kid),
                      extra_headers => { kid => $kid });
}
my ($t1, $t2, $t3) = map { rot_token($_) } qw(rot1 rot2 rot3);
is(status('/alg-jwks/', $t1), 200,
   'rotation: tokens under rot1 and rot2 accepted: rot1');
is(status('/alg-jwks/', $t2), 200,
   'rotation: tokens under rot1 and rot2 accepted: rot2');
is(status('/alg-jwks/', $t3), 401, 'rotation: rot3 not yet listed');

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
is(status('/alg-jwks/', $t2), 200, 'rotation: rot2 still accepted');
cmp_ok($n, '>', 20, 'rotation: requests during the reload: more than 20');
is($bad, 0, "rotation: $n requests during the reload, $bad failed")
    or diag("failures: $why");
