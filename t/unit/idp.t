#!/usr/bin/perl
# Self-test of the test identity provider (t/idp/idp.py through
# t/lib/TestIdP.pm) that issue 10's tests fetch keys from: its
# certificates verify (or fail to) as each port promises, its documents
# are what a client expects, its tokens verify against its JWKS with two
# independent verifiers (PyJWT, Crypt::JWT), rotation and removal change
# the set, every failure mode does what it says, the counts are exact and
# stop leaves no process.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::SSL;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);
use Crypt::JWT qw(decode_jwt);
use TestIdP;

my $json = JSON::PP->new->canonical;
my $tmp = tempdir(CLEANUP => !$ENV{IDP_KEEP});
my $t_start = time;
my $idp = TestIdP->start(dir => "$tmp/idp", issuers => 2);
my $ca = $idp->ca;
my %port = map { $_ => $idp->port($_) } qw(https wronghost untrusted control);

# --- the server: ports, pid, CA -------------------------------------
is(scalar(keys %{ { reverse %port } }), 4, 'four distinct ports');
for (sort keys %port) {
    like($port{$_}, qr/^\d+$/, "port $_ is a number");
}
{
    open my $fh, '<', "$tmp/idp/pid" or die $!;
    chomp(my $p = <$fh>);
    is($p, $idp->pid, 'DIR/pid holds the pid of the process started');
}
my $ca_text = `openssl x509 -in $ca -noout -text 2>&1`;
like($ca_text, qr/CA:TRUE/, 'ca.pem is a CA certificate');
like($ca_text, qr/prime256v1|P-256/, 'ca.pem has an EC P-256 key');

# curl(args...): (exit code, stdout, stderr)
sub curl {
    my @args = @_;
    my $cmd = join ' ', 'curl', '-sS', '--max-time', '10',
        map { "'$_'" } @args;
    my $out = `$cmd 2>$tmp/curl.err`;
    my $rc = $? >> 8;
    open my $fh, '<', "$tmp/curl.err";
    local $/;
    my $err = <$fh> // '';
    return ($rc, $out, $err);
}

# --- certificates --------------------------------------------------
my $disc0 = $idp->discovery_url(0);
(my $path0 = $disc0) =~ s{^https://[^/]+}{};
{
    my ($rc, $out, $err) = curl('--cacert', $ca, $disc0);
    is($rc, 0, 'https port: curl --cacert ca.pem verifies') or diag $err;
    ($rc) = curl('--cacert', $ca,
                 "https://localhost:$port{https}$path0");
    is($rc, 0, 'https port: the name localhost verifies too');
    ($rc, $out, $err) = curl($disc0);
    is($rc, 60, 'https port: the system trust store does not know the CA');
    ($rc, $out, $err) = curl('--cacert', $ca,
                             "https://127.0.0.1:$port{wronghost}$path0");
    is($rc, 60, 'wronghost port fails verification');
    like($err, qr/subject name|host name|does not match/i,
         'wronghost port: because of the host name');
    ($rc, $out, $err) = curl('--cacert', $ca,
                             "https://127.0.0.1:$port{untrusted}$path0");
    is($rc, 60, 'untrusted port fails verification');
    like($err, qr/self[- ]signed|unknown ca|local issuer/i,
         'untrusted port: because of the issuer');
    # HTTP/1.1 keep-alive, as libcurl reuses a connection: the second
    # request of one curl makes no new connection
    ($rc, $out) = curl('--cacert', $ca, '-o', '/dev/null', '-o',
                       '/dev/null', '-w', '%{num_connects} ', $disc0,
                       $disc0);
    is($out, '1 0 ', 'https port: a kept-alive connection serves twice');
    ($rc, $out) = curl('-k', "https://127.0.0.1:$port{wronghost}$path0");
    is($rc, 0, 'wronghost port serves the documents (unverified)');
    is(eval { JSON::PP->new->decode($out)->{issuer} }, $idp->issuer(0),
       'wronghost port: the same discovery document');
}

# a verifying client of the test CA; max_redirect 0 to see the 302s
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, verify_SSL => 1,
                         keep_alive => 0,
                         SSL_options => { SSL_ca_file => $ca });
sub get_json {
    my ($url) = @_;
    my $r = $ua->get($url);
    return ($r, scalar eval { JSON::PP->new->decode($r->{content}) });
}

# --- discovery -----------------------------------------------------
for my $i (0, 1) {
    my ($r, $d) = get_json($idp->discovery_url($i));
    is($r->{status}, 200, "r$i: discovery answers 200");
    is($d->{issuer}, "https://127.0.0.1:$port{https}/realms/r$i",
       "r$i: discovery issuer");
    is($d->{jwks_uri}, "https://127.0.0.1:$port{https}/realms/r$i/certs",
       "r$i: discovery jwks_uri");
    is($d->{jwks_uri}, $idp->jwks_url($i), "r$i: jwks_url() agrees");
    for (qw(authorization_endpoint token_endpoint userinfo_endpoint
            id_token_signing_alg_values_supported response_types_supported
            subject_types_supported)) {
        ok(defined $d->{$_}, "r$i: discovery has $_");
    }
    my ($r2, $d2) = get_json($idp->rfc8414_url($i));
    is($r2->{status}, 200, "r$i: RFC 8414 metadata answers 200");
    is($d2->{issuer}, $d->{issuer}, "r$i: RFC 8414 issuer");
    is($d2->{jwks_uri}, $d->{jwks_uri}, "r$i: RFC 8414 jwks_uri");
}

# --- JWKS, tokens, two verifiers ------------------------------------
sub fetch_jwks {
    my ($i) = @_;
    my ($r, $d) = get_json($idp->jwks_url($i));
    die "jwks r$i: $r->{status}" unless $r->{status} == 200;
    return $d;
}
# pyjwt(jwks, token): the claims as PyJWT verifies them, or undef
sub pyjwt {
    my ($jwks, $token) = @_;
    my $f = "$tmp/jwks.json";
    open my $fh, '>', $f or die $!;
    print $fh $json->encode($jwks);
    close $fh;
    my $py = <<'PY';
import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
tok = sys.argv[2]
kid = jwt.get_unverified_header(tok)['kid']
m = [k for k in jwks['keys'] if k.get('kid') == kid and k.get('use') == 'sig']
if not m:
    sys.exit(3)
key = jwt.PyJWK(m[0])
alg = m[0].get('alg', 'RS256')     # Entra ID publishes no alg
print(json.dumps(jwt.decode(tok, key.key, algorithms=[alg],
                            options={'verify_aud': False})))
PY
    unless (-e "$tmp/verify.py") {
        open my $ph, '>', "$tmp/verify.py" or die $!;
        print $ph $py;
        close $ph;
    }
    my $out = `/usr/bin/python3 $tmp/verify.py $f '$token' 2>$tmp/py.err`;
    return undef if $?;
    return JSON::PP->new->decode($out);
}
# cjwt(jwks, token): the claims as Crypt::JWT verifies them, or undef
sub cjwt {
    my ($jwks, $token) = @_;
    my $sig = { keys => [ grep { $_->{use} eq 'sig' } @{ $jwks->{keys} } ] };
    return eval {
        decode_jwt(token => $token, kid_keys => $sig, verify_exp => 1,
                   accepted_alg => [qw(RS256 ES256 EdDSA PS256)]);
    };
}

my $jwks0 = fetch_jwks(0);
is(scalar @{ $jwks0->{keys} }, 2, 'r0 JWKS: two keys at start');
is($jwks0->{keys}[0]{use}, 'enc', 'r0 JWKS: key #0 is the enc key');
is($jwks0->{keys}[0]{alg}, 'RSA-OAEP', 'r0 JWKS: enc key is RSA-OAEP');
is($jwks0->{keys}[1]{use}, 'sig', 'r0 JWKS: key #1 signs');
is($jwks0->{keys}[1]{kty}, 'RSA', 'r0 JWKS: key #1 is RSA');
is($jwks0->{keys}[1]{alg}, 'RS256', 'r0 JWKS: key #1 is RS256');
ok(defined $jwks0->{keys}[1]{$_}, "r0 JWKS: key #1 has $_")
    for 'x5c', 'x5t', 'x5t#S256', 'n', 'e';
is($json->encode($idp->jwks(realm => 'r0')), $json->encode($jwks0),
   'control /jwks equals the published set');
my $jwks1 = fetch_jwks(1);
isnt($jwks1->{keys}[1]{kid}, $jwks0->{keys}[1]{kid},
     'r1 has keys of its own');

my $kid0 = $jwks0->{keys}[1]{kid};
my ($tok, $tkid) = $idp->token(realm => 'r0',
                               claims => { aud => 'api', role => 'x' });
is($tkid, $kid0, 'token is signed with the current key');
my $c = pyjwt($jwks0, $tok);
is($c && $c->{iss}, $idp->issuer(0), 'PyJWT verifies the token: iss');
is($c && $c->{aud}, 'api', 'PyJWT: aud as given');
is($c && $c->{role}, 'x', 'PyJWT: extra claim as given');
cmp_ok($c ? $c->{exp} - $c->{iat} : 0, '==', 300, 'PyJWT: exp is iat+300');
$c = cjwt($jwks0, $tok);
is($c && $c->{iss}, $idp->issuer(0), 'Crypt::JWT verifies the token')
    or diag $@;
{
    # a character inside the signature: the last one may carry only
    # padding bits, which decoders ignore
    my $i = rindex($tok, '.') + 10;
    my $bad = $tok;
    substr($bad, $i, 1) = substr($tok, $i, 1) eq 'A' ? 'B' : 'A';
    is(pyjwt($jwks0, $bad), undef, 'PyJWT refuses a changed signature');
    is(cjwt($jwks0, $bad), undef, 'Crypt::JWT refuses a changed signature');
    is(pyjwt($jwks1, $tok), undef, 'r0 token does not verify with r1 keys');
    my $noexp = $idp->token(realm => 'r1', claims => { exp => undef });
    my $cl = pyjwt($jwks1, $noexp);
    ok($cl && !exists $cl->{exp}, 'a claim given as undef is left out');
}

# rotation: keep=1 adds, keep=0 drops the old ones
my $kid_ec = $idp->rotate(realm => 'r0', kty => 'EC', keep => 1);
is_deeply([ $idp->kids(realm => 'r0') ], [ $kid0, $kid_ec ],
          'rotate keep=1: old and new kid published');
($tok, $tkid) = $idp->token(realm => 'r0');
is($tkid, $kid_ec, 'the new key is current');
my $jw = fetch_jwks(0);
is(pyjwt($jw, $tok) && 'ok', 'ok', 'PyJWT verifies an ES256 token');
is(cjwt($jw, $tok) && 'ok', 'ok', 'Crypt::JWT verifies an ES256 token')
    or diag $@;
my $tok_old = $idp->token(realm => 'r0', kid => $kid0);
is(pyjwt($jw, $tok_old) && 'ok', 'ok', 'a token of the old key verifies');
my $kid_ed = $idp->rotate(realm => 'r0', kty => 'OKP', keep => 0);
is_deeply([ $idp->kids(realm => 'r0') ], [ $kid_ed ],
          'rotate keep=0: only the new kid is left');
$jw = fetch_jwks(0);
ok(!grep({ $_->{kid} eq $kid0 } @{ $jw->{keys} }),
   'rotate keep=0: the old kid is gone from the served JWKS');
is($jw->{keys}[0]{use}, 'enc', 'rotate keep=0: the enc key stays');
($tok, $tkid) = $idp->token(realm => 'r0');
is(pyjwt($jw, $tok) && 'ok', 'ok', 'PyJWT verifies an EdDSA token');
is(cjwt($jw, $tok) && 'ok', 'ok', 'Crypt::JWT verifies an EdDSA token')
    or diag $@;
$tok_old = $idp->token(realm => 'r0', kid => $kid0);
is(pyjwt($jw, $tok_old), undef, 'a removed key still signs, unverifiable');
my $kid_r = $idp->rotate(realm => 'r0', kty => 'RSA', keep => 1);
$idp->remove(realm => 'r0', kid => $kid_r);
is_deeply([ $idp->kids(realm => 'r0') ], [ $kid_ed ],
          'remove: the kid leaves the set');
my ($tok_rand, $kid_rand) = $idp->token(realm => 'r0', kid => 'random');
ok(!grep({ $_ eq $kid_rand } $idp->kids(realm => 'r0')),
   'kid=random: a kid that is not published');
ok(!grep({ $_ eq $kid_rand } $kid0, $kid_ec, $kid_ed, $kid_r),
   'kid=random: a fresh kid');
is(pyjwt(fetch_jwks(0), $tok_rand), undef,
   'kid=random: the token does not verify');
{
    my @bad = (
        [ POST => '/mode?realm=r0&path=jwks&mode=bogus', 'an unknown mode' ],
        [ POST => '/mode?realm=r0&path=x&mode=ok', 'an unknown path' ],
        [ POST => '/rotate?realm=r9', 'an unknown realm' ],
        [ POST => '/rotate?realm=r0&kty=DSA', 'an unknown kty' ],
        [ POST => '/token?realm=r0&kid=nosuchkid', 'an unknown kid' ],
        [ GET => '/rotate?realm=r0', 'rotate by GET' ],
        [ POST => '/mode?realm=r0&path=jwks&mode=slow&seconds=inf',
          'seconds=inf' ],
        [ POST => '/mode?realm=r0&path=jwks&mode=slow&seconds=-1',
          'negative seconds' ],
        [ POST => '/rotate?realm=r0&kty=EC&alg=RS256',
          'an alg of another kty' ],
        [ POST => '/token?realm=r0', 'a body that is not JSON', '{"a":' ],
    );
    my ($r) = curl_get("https://127.0.0.1:$port{https}/jwks?realm=r0");
    is($r->{status}, 404, 'control: not on the https port');
    for (@bad) {
        my ($st, $d) = $idp->control($_->[0], $_->[1], $_->[3]);
        is($st, 400, "control: $_->[2] is a 400");
        ok($d && length $d->{message}, "control: $_->[2] says why");
    }
}

# shapes: the JWKS as each provider publishes it (control /jwks: r1's
# counts stay 0)
{
    my %want = (
        keycloak => [ 1, [qw(kid kty alg use n e x5c x5t), 'x5t#S256'] ],
        entra    => [ 0, [qw(kty use kid x5t n e x5c issuer)] ],
        auth0    => [ 0, [qw(kty use n e kid x5t x5c alg)] ],
        okta     => [ 0, [qw(kty alg kid use e n)] ],
        google   => [ 0, [qw(alg kid use n e kty)] ],
    );
    my $t1 = $idp->token(realm => 'r1');
    for my $shape (sort keys %want) {
        my ($enc, $members) = @{ $want{$shape} };
        $idp->shape(realm => 'r1', shape => $shape);
        my $j = $idp->jwks(realm => 'r1');
        my @sig = grep { ($_->{use} // '') eq 'sig' } @{ $j->{keys} };
        is(scalar @{ $j->{keys} } - scalar @sig, $enc,
           "shape $shape: " . ($enc ? 'with' : 'without') . ' the enc key');
        is(join(' ', sort keys %{ $sig[0] }), join(' ', sort @$members),
           "shape $shape: the members of a signing key");
        is($sig[0]{issuer}, $idp->issuer(1), 'shape entra: each key names '
           . 'its issuer') if $shape eq 'entra';
        is(pyjwt($j, $t1) && 'ok', 'ok', "shape $shape: a token verifies");
    }
    $idp->shape(realm => 'r1', shape => 'keycloak');
    my ($st) = $idp->control(POST => '/shape?realm=r1&shape=ping');
    is($st, 400, 'shape: an unknown one is a 400');
}

# --- modes, and exact counts ----------------------------------------
$idp->mode(realm => 'r0', path => 'jwks', mode => 'ok');
$idp->reset_counts;
is($idp->count(realm => 'r0', path => 'jwks'), 0, 'reset-counts: 0');
my %made = (jwks => 0, discovery => 0);
my $jwks_url = $idp->jwks_url(0);
(my $jwks_path = $jwks_url) =~ s{^https://[^/]+}{};

# curl_get(url): one request, never retried (HTTP::Tiny retries a GET
# whose connection closed, which would count twice): {rc, status,
# headers (lower-case names), content}, and the body decoded or undef
sub curl_get {
    my ($url) = @_;
    my ($rc, $out) = curl('--cacert', $ca, '-D', "$tmp/h", '-o', "$tmp/b",
                          '-w', '%{http_code}', $url);
    my %r = (rc => $rc, status => $out, headers => {}, content => '');
    if (open my $fh, '<', "$tmp/h") {
        while (<$fh>) {
            $r{headers}{lc $1} = $2 if /^([^:\s]+):\s*(.*?)\r?$/;
        }
    }
    if (open my $fh, '<', "$tmp/b") {
        local $/;
        $r{content} = <$fh> // '';
    }
    unlink "$tmp/h", "$tmp/b";
    return (\%r, scalar eval { JSON::PP->new->decode($r{content}) });
}

# each row: path, mode, seconds, check(response, decoded, elapsed)
my @modes = (
    [ jwks => 'ok', undef, sub {
        is($_[0]{status}, 200, 'ok: 200');
        is(scalar @{ $_[1]{keys} }, 2, 'ok: the set') } ],
    [ jwks => 'status500', undef, sub {
        is($_[0]{status}, 500, 'status500: 500') } ],
    [ jwks => 'status404', undef, sub {
        is($_[0]{status}, 404, 'status404: 404') } ],
    [ jwks => 'notjson', undef, sub {
        is($_[0]{status}, 200, 'notjson: 200');
        like($_[0]{headers}{'content-type'}, qr{^text/html},
             'notjson: text/html');
        is($_[1], undef, 'notjson: the body is not JSON') } ],
    [ jwks => 'empty', undef, sub {
        is_deeply($_[1], { keys => [] }, 'empty: {"keys": []}') } ],
    [ discovery => 'empty', undef, sub {
        is_deeply($_[1], {}, 'empty discovery: {}') } ],
    [ jwks => 'nosig', undef, sub {
        is_deeply([ map { $_->{use} } @{ $_[1]{keys} } ], [ 'enc' ],
                  'nosig: only the enc key') } ],
    [ jwks => 'big', undef, sub {
        cmp_ok(length $_[0]{content}, '>', 1024 * 1024, 'big: > 1 MB');
        is(scalar @{ $_[1]{keys} }, 2, 'big: valid JSON, the set') } ],
    [ jwks => 'redirect', undef, sub {
        is($_[0]{status}, 302, 'redirect: 302');
        is($_[0]{headers}{location},
           "https://127.0.0.1:$port{https}/moved$jwks_path",
           'redirect: Location on the same origin');
        my ($r, $d) = get_json($_[0]{headers}{location});
        $made{jwks}++;
        is(scalar @{ $d->{keys} }, 2, 'redirect: its target has the set')
    } ],
    [ jwks => 'redirect_other', undef, sub {
        is($_[0]{status}, 302, 'redirect_other: 302');
        is($_[0]{headers}{location},
           "http://127.0.0.1:$port{control}/moved$jwks_path",
           'redirect_other: Location on another port') } ],
    [ jwks => 'close', undef, sub {
        is($_[0]{rc}, 52, 'close: curl says empty reply');
        is($_[0]{status}, '000', 'close: no status') } ],
    [ discovery => 'badissuer', undef, sub {
        is($_[1]{issuer}, $idp->issuer(0) . '/',
           'badissuer: a trailing slash') } ],
    [ jwks => 'badissuer', undef, sub {
        is(scalar @{ $_[1]{keys} }, 2, 'badissuer on jwks: the set') } ],
    [ jwks => 'maxage', 42, sub {
        is($_[0]{headers}{'cache-control'}, 'max-age=42',
           'maxage: Cache-Control max-age=S') } ],
    [ jwks => 'slow', 1, sub {
        is($_[0]{status}, 200, 'slow: 200');
        cmp_ok($_[2], '>=', 0.9, 'slow: after S seconds') } ],
    [ jwks => 'hang', 1.5, sub {
        is($_[0]{rc}, 52, 'hang with seconds: closed, no answer');
        cmp_ok($_[2], '>=', 1.4, 'hang: at least S seconds');
        cmp_ok($_[2], '<', 4, 'hang: closed after S seconds') } ],
);
for (@modes) {
    my ($path, $mode, $secs, $check) = @$_;
    $idp->mode(realm => 'r0', path => $path, mode => $mode,
               seconds => $secs);
    my $url = $path eq 'jwks' ? $jwks_url : $idp->discovery_url(0);
    my $t0 = time;
    my ($r, $d) = curl_get($url);
    $made{$path}++;
    $check->($r, $d, time - $t0);
    if ($path eq 'jwks') {
        my ($r2) = get_json($idp->discovery_url(0));
        $made{discovery}++;
        is($r2->{status}, 200, "$mode on jwks leaves discovery alone");
    }
    $idp->mode(realm => 'r0', path => $path, mode => 'ok');
}

# ssl_read_for(socket, seconds): (application data read, whether the peer
# closed) within that time; non-blocking, since a select on a TLS socket
# also wakes for TLS 1.3 session tickets, which carry no data
sub ssl_read_for {
    my ($s, $secs) = @_;
    $s->blocking(0);
    my ($got, $end) = ('', time + $secs);
    my $sel = IO::Select->new($s);
    while (time < $end) {
        my $n = sysread($s, my $buf, 4096);
        return ($got, 1) if defined $n && $n == 0;
        if ($n) {
            $got .= $buf;
            next;
        }
        return ($got, 1) unless $SSL_ERROR == SSL_WANT_READ
                             || $SSL_ERROR == SSL_WANT_WRITE;
        $sel->can_read(0.1);
    }
    return ($got, 0);
}

# hang until the mode changes; the other requests go on meanwhile
{
    $idp->mode(realm => 'r0', path => 'jwks', mode => 'hang');
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => $port{https}, SSL_ca_file => $ca,
        SSL_verifycn_name => '127.0.0.1', Timeout => 5)
        or die "connect: $SSL_ERROR";
    print $s "GET $jwks_path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    $made{jwks}++;
    my $t0 = time;
    my ($r) = get_json($idp->discovery_url(0));
    $made{discovery}++;
    is($r->{status}, 200, 'hang: other requests are answered meanwhile');
    cmp_ok(time - $t0, '<', 1, 'hang: and at once');
    $t0 = time;
    my ($rc) = curl('--cacert', $ca, '--max-time', '1', $jwks_url);
    $made{jwks}++;
    is($rc, 28, 'hang: a client timeout of 1 s gives up');
    cmp_ok(time - $t0, '<', 3, 'hang: the client timeout bounds it');
    my ($got, $eof) = ssl_read_for($s, 0.5);
    is($got, '', 'hang: no answer while the mode is hang');
    ok(!$eof, 'hang: the connection stays open while the mode is hang');
    $idp->mode(realm => 'r0', path => 'jwks', mode => 'ok');
    $t0 = time;
    ($got, $eof) = ssl_read_for($s, 3);
    ok($eof, 'hang: closed when the mode changes');
    is($got, '', 'hang: closed without a word');
    cmp_ok(time - $t0, '<', 2, 'hang: closed soon after the change');
    close $s;
}

# an outage: the port refuses connections, kept-alive ones end; then it
# is back on the same port with the same keys
{
    my $before = $json->encode(fetch_jwks(0));
    $made{jwks}++;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => $port{https}, SSL_ca_file => $ca,
        SSL_verifycn_name => '127.0.0.1', Timeout => 5)
        or die "connect: $SSL_ERROR";
    $idp->down('https');
    my ($rc) = curl('--cacert', $ca, $jwks_url);
    is($rc, 7, 'down: the https port refuses connections');
    my ($got, $eof) = ssl_read_for($s, 2);
    ok($eof, 'down: an open connection is cut');
    close $s;
    ($rc) = curl('-k', "https://127.0.0.1:$port{untrusted}$jwks_path");
    $made{jwks}++;
    is($rc, 0, 'down: the other ports serve on');
    $idp->up('https');
    my ($r, $d) = curl_get($jwks_url);
    $made{jwks}++;
    is($r->{status}, 200, 'up: the same port serves again');
    is($json->encode($d), $before, 'up: the same keys');
    my ($st) = $idp->control(POST => '/listen?port=control&on=0');
    is($st, 400, 'listen: the control port cannot be taken down');
}

# the counts: exactly the requests made, on any port, per realm and path
{
    my ($r) = $ua->get("http://127.0.0.1:$port{control}$jwks_path");
    $made{jwks}++;
    is($r->{status}, 200, 'the control port serves the documents too');
    my ($rc) = curl('-k', "https://127.0.0.1:$port{untrusted}$jwks_path");
    $made{jwks}++;
    is($rc, 0, 'the untrusted port serves them (unverified)');
    ($rc) = curl('--cacert', $ca,
                 "https://127.0.0.1:$port{wronghost}$jwks_path");
    is($rc, 60, 'a failed handshake is not a request');
    ($r) = get_json($idp->rfc8414_url(0));
    $made{discovery}++;
}
is($idp->count(realm => 'r0', path => 'jwks'), $made{jwks},
   "r0 jwks count: exactly the $made{jwks} requests made");
is($idp->count(realm => 'r0', path => 'discovery'), $made{discovery},
   "r0 discovery count: exactly the $made{discovery} requests made");
is($idp->count(realm => 'r1', path => 'jwks'), 0, 'r1 jwks count: 0');
is($idp->count(realm => 'r1', path => 'discovery'), 0,
   'r1 discovery count: 0');

# --- the log, and stop ----------------------------------------------
{
    open my $fh, '<', "$tmp/idp/access.log" or die $!;
    my $log = do { local $/; <$fh> };
    like($log, qr{GET \Q$jwks_path\E port=$port{https}\(https\) 200},
         'access.log: method, path, port, status');
    my $sig = (split /\./, $tok)[2];
    unlike($log, qr/\Q$sig\E/, 'access.log: no token');
}
# alive(pid): a process that is not a zombie (an orphan's zombie waits
# for whoever reaps orphans here)
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $st = <$fh> // '';
    return $st !~ /^\d+ \(.*\) Z/;
}
my $pid = $idp->pid;
$idp->stop;
ok(!kill(0, $pid), 'stop: the process is gone');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                          PeerPort => $port{control}, Timeout => 2),
   'stop: the control port is closed');
# an IdP whose starter dies by a signal (no END block runs) goes too
{
    pipe my $rd, my $wr or die $!;
    my $child = fork // die "fork: $!";
    if (!$child) {
        close $rd;
        my $orphan = TestIdP->start(dir => "$tmp/orphan");
        print $wr $orphan->pid, "\n";
        close $wr;
        sleep 60;
        POSIX::_exit(0);
    }
    close $wr;
    chomp(my $opid = <$rd> // '');
    like($opid, qr/^\d+$/, 'a second IdP started by a child process');
    kill 'KILL', $child;
    waitpid($child, 0);
    my $end = time + 5;
    sleep 0.1 while alive($opid) && time < $end;
    ok(!alive($opid), 'it exits when the child that started it is killed');
}

my $took = time - $t_start;
cmp_ok($took, '<', 60, sprintf('the self-test took %.1f s', $took));

done_testing();
