# The attack-token table (t/attacks.tsv): every row gets 401 with the
# seed's JSON, never 200, never 5xx; the loopback listener named by the
# jku/x5u/kid rows is never contacted; no worker dies; and after the whole
# suite has run up to here, no secret, token signature or key is in a log.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my @rows;
open my $fh, '<', "$FindBin::Bin/attacks.tsv" or die "attacks.tsv: $!";
while (<$fh>) {
    chomp;
    next if /^#/ || !/\S/;
    my @f = split /\t/, $_, -1;
    die "attacks.tsv line $.: want 6 columns, got " . @f if @f != 6;
    push @rows, \@f;
}
close $fh;

plan tests => 3 * @rows + 13, need_module('mod_jwtauth.c');

# the listener jku/x5u/kid URLs point at: it must never see a connection
my $trap = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 5, Proto => 'tcp') or die $!;
$trap->blocking(0);
my $JKU = 'http://127.0.0.1:' . $trap->sockport;

my $secret = secret();
my %pub = map {
    my $pem = do { local (@ARGV, $/) = fixture("$_.pub"); <> };
    (my $der = $pem) =~ s/-----[^-]+-----|\s//g;
    ($_ => { pem => $pem, der => decode_base64($der) })
} qw(rsa ec256);
my $ec = Crypt::PK::ECC->new(fixture('ec256.key'));
my $rsa = Crypt::PK::RSA->new(fixture('rsa.key'));
my $ed = Crypt::PK::Ed25519->new(fixture('ed.key'));
my $evil = Crypt::PK::ECC->new;
$evil->generate_key('secp256r1');
my $evil_jwk = json_encode($evil->export_key_jwk('public', 1));
my %mac = (hs => \&hmac_sha256, hs384 => \&hmac_sha384,
           hs512 => \&hmac_sha512);

sub fill {
    my $s = shift;
    my $exp = time + 300;
    $s =~ s/\{EXP\}/$exp/g;
    $s =~ s/\{JKU\}/$JKU/g;
    $s =~ s/\{JWK\}/$evil_jwk/g;
    $s =~ s/\{BOM\}/\xef\xbb\xbf/g;
    $s =~ s/\{TAB\}/\t/g;
    return $s;
}

sub build {
    my ($hdr, $pay, $how) = @_;
    return fill($1) if $how =~ /^raw:(.*)$/s;
    my $in = b64u(fill($hdr)) . '.' . b64u(fill($pay));
    my $sig;
    if ($mac{$how})              { $sig = $mac{$how}->($in, $secret) }
    elsif ($how =~ /^hs-key:(.*)$/) { $sig = hmac_sha256($in, $1) }
    elsif ($how =~ /^hs-(pem|der):(\w+)$/) {
        $sig = hmac_sha256($in, $pub{$2}{$1});
    }
    elsif ($how eq 'none')       { $sig = '' }
    elsif ($how eq 'zero64')     { $sig = "\0" x 64 }
    elsif ($how eq 'es-der')     { $sig = $ec->sign_message($in, 'SHA256') }
    elsif ($how eq 'es')         { $sig = $ec->sign_message_rfc7518($in, 'SHA256') }
    elsif ($how eq 'rs')         { $sig = $rsa->sign_message($in, 'SHA256', 'v1.5') }
    elsif ($how eq 'ed')         { $sig = $ed->sign_message($in) }
    elsif ($how eq 'evil-es')    { $sig = $evil->sign_message_rfc7518($in, 'SHA256') }
    elsif ($how eq 'tamper') {
        $sig = hmac_sha256(b64u(fill($hdr)) . '.'
                           . b64u(fill('{"sub":"guest","exp":{EXP}}')), $secret);
        $in = b64u(fill($hdr)) . '.'
            . b64u(fill('{"sub":"admin","exp":{EXP}}'));
    }
    elsif ($how =~ /^long:(\d+)(,bad)?$/) {
        my ($n, $bad) = ($1, $2);
        my $pad = 'x' x $n;
        my $p = fill($pay);
        $p =~ s/\}$/,"pad":"$pad"}/;
        $in = b64u(fill($hdr)) . '.' . b64u($p);
        $sig = hmac_sha256($in, $bad ? 'wrong key' : $secret);
    }
    else { die "attacks.tsv: unknown signing '$how'" }
    return "$in." . b64u($sig);
}

my $INVALID = '{"message": "Token is invalid!"}';
my $error_log = Apache::Test::vars('t_logs') . '/error_log';
my $log_start = -s $error_log;

my @sent;
for my $r (@rows) {
    my ($name, $hdr, $pay, $how, $path, $why) = @$r;
    my $tok = build($hdr, $pay, $how);
    push @sent, $tok;
    my $res = GET($path, 'x-access-token' => $tok);
    is($res->code, 401, "$name: 401 invalid ($why): status");
    is($res->content, $INVALID, "$name: 401 invalid ($why): body");
    like(scalar $res->header('WWW-Authenticate'), qr/error="invalid_token"/,
         "$name: challenge says invalid_token");
}
# the long rows really are just under httpd's 8190-byte field limit
my @long = map { length } grep { length > 4000 } @sent;
is(scalar @long, 2, 'over-long rows: two of them');
is(scalar(grep { $_ < 7600 || $_ + 16 > 8190 } @long), 0,
   'over-long rows: ' . join('/', @long) . ' bytes, just under the limit');

# the trap was never contacted
my $conn = $trap->accept;
ok(!$conn, 'no connection to the jku/x5u/kid URL: nothing was fetched');

# every worker lived: no crash in the log, and the server still serves
my $log = do { local (@ARGV, $/) = $error_log; <> };
my $tail = substr $log, $log_start // 0;
unlike($tail, qr/exit signal|Segmentation|AH00052|child pid \d+ exit/,
       'no worker died during the table');
is(GET('/protected/hello.html', 'x-access-token' => token())->code, 200,
   'the server still answers a valid token');

# hygiene over everything logged so far: no secret, no signature, no key
my $hex = unpack 'H*', $secret;
cmp_ok(index($log, $secret), '<', 0,
       'the HMAC secret is not in the error log: raw');
cmp_ok(index($log, $hex), '<', 0,
       'the HMAC secret is not in the error log: hex');
my @sigs = grep { length > 20 } map { (split /\./)[2] // '' } @sent;
my $access = do { local (@ARGV, $/) = Apache::Test::vars('t_logs')
                                         . '/access_log'; <> };
ok(!(grep { index($log, $_) >= 0 || index($access, $_) >= 0 } @sigs),
   'no token signature in the error or access log');
my ($body) = $pub{rsa}{pem} =~ /KEY-----\s*(\S{40})/;
cmp_ok(index($log, $body), '<', 0,
       'no key material in the error log: public key');
cmp_ok(index($log, 'PRIVATE KEY'), '<', 0,
       'no key material in the error log: no private key');

# the secret is read by the root parent before the children drop to
# nobody: a 0600 root-owned key file works
my @st = stat fixture('secret');
my $what = sprintf('key file mode %o, owner uid %d: tokens under it accepted',
                   $st[2] & 0777, $st[4]);
is(sprintf('%o', $st[2] & 0777), '600', "$what: mode");
SKIP: {
    skip 'the owner is checked only when the suite runs as root', 1
        if $> != 0;
    is($st[4], 0, "$what: owner root");
}
is(GET('/protected/hello.html', 'x-access-token' => token())->code, 200,
   "$what: status");
