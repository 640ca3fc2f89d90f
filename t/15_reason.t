# JWTAUTH_ERROR: a refused request names its reason in this environment
# variable (README, "Reason codes"), for LogFormat "%{JWTAUTH_ERROR}e"
# and ErrorDocument pages; an accepted one leaves it unset.  Each row is
# a request; the log of t/conf/reason.conf.in shows what httpd saw.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use MIME::Base64 qw(encode_base64);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $now = time;
my $rs256 = encode_jwt(payload => { sub => 'daehan', exp => $now + 300 },
                       key => Crypt::PK::RSA->new(fixture('rsa.key')),
                       alg => 'RS256');
# a signature of some bytes: an empty one is refused as malformed first
my $none = b64u('{"alg":"none"}') . '.' . b64u('{"sub":"x"}') . '.'
         . b64u('sig');

# [row, path, headers, status, JWTAUTH_ERROR ('-': unset)]
my @rows = (
    ['no token', '/protected/hello.html', [], 401, 'missing'],
    ['not a JWS', '/protected/hello.html', ['x-access-token' => 'x.y.z'],
     401, 'malformed'],
    ['alg none', '/protected/hello.html', ['x-access-token' => $none],
     401, 'alg'],
    ['alg not allowed here', '/hs512/hello.html',
     ['x-access-token' => token()], 401, 'alg'],
    ['crit header', '/protected/hello.html', ['x-access-token' =>
     jws({ alg => 'HS256', crit => ['x'], x => 1 },
         { sub => 'a', exp => $now + 300 })], 401, 'header'],
    ['no key for the alg', '/cache-other/hello.html',
     ['x-access-token' => $rs256], 401, 'key'],
    ['wrong signature', '/protected/hello.html', ['x-access-token' =>
     jws({ alg => 'HS256' }, { sub => 'a', exp => $now + 300 },
         'another secret of thirty-two bytes!!')], 401, 'signature'],
    ['expired', '/protected/hello.html',
     ['x-access-token' => token(exp => $now - 100)], 401, 'expired'],
    ['not yet valid', '/protected/hello.html',
     ['x-access-token' => token(nbf => $now + 1000)], 401, 'not_yet_valid'],
    ['exp not a number', '/protected/hello.html',
     ['x-access-token' => token(exp => 'soon')], 401, 'claim'],
    ['wrong issuer', '/issaud/hello.html', ['x-access-token' =>
     token(iss => 'https://evil.example', aud => 'api')], 401, 'issuer'],
    ['wrong audience', '/issaud/hello.html', ['x-access-token' =>
     token(iss => 'https://login.example', aud => 'other')], 401,
     'audience'],
    ['no user claim', '/protected/hello.html',
     ['x-access-token' => token(sub => undef)], 401, 'user'],
    ['wrong password at /login', '/login',
     [Authorization => 'Basic ' . encode_base64('daehan:wrong', '')], 401,
     'credentials'],
    ['scope not granted', '/az-scope/index.html',
     ['x-access-token' => token(scope => 'read')], 403, 'scope'],
    ['scope refused, another rule grants', '/az-scope-any/index.html',
     ['x-access-token' => token(scope => 'read')], 200, '-'],
    ['valid token', '/protected/hello.html', ['x-access-token' => token()],
     200, '-'],
);

plan tests => 2 * @rows + 1, need_module('mod_jwtauth.c', 'mod_log_config.c');

my $log = t_dir() . '/logs/reason_log';
my $start = -s $log // 0;
for my $r (@rows) {
    my ($what, $path, $hdrs, $status) = @$r;
    (my $id = $what) =~ s/\W+/_/g;
    is(GET($path, @$hdrs, 'X-Row' => $id)->code, $status, "$what: status");
}

# mod_log_config writes each line when its request ends; give the last
# one a moment
my %seen;
for (1 .. 20) {
    open my $fh, '<', $log or last;
    seek $fh, $start, 0;
    %seen = map { my @f = split ' '; ($f[0] => $f[2]) } <$fh>;
    last if keys %seen >= @rows;
    select undef, undef, undef, 0.1;
}
is(scalar keys %seen, scalar @rows, 'a log line for every row');
for my $r (@rows) {
    my ($what, $want) = ($r->[0], $r->[4]);
    (my $id = $what) =~ s/\W+/_/g;
    is($seen{$id}, $want, "$what: JWTAUTH_ERROR");
}
