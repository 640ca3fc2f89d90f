# The validated-token cache: repeated presentations skip the signature,
# but exp and the Require rules are checked on every hit, a token cached
# under one scope is never accepted by the cache under another, and
# JWTAuthCache Off verifies every time.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 17, need_module('mod_jwtauth.c', 'mod_include.c',
                              'mod_socache_shmcb.c');

my $rsa = Crypt::PK::RSA->new(fixture('rsa.key'));
sub rs { encode_jwt(payload => { sub => 'daehan', @_ }, alg => 'RS256',
                    key => $rsa) }

# many presentations of one token: the worker threads each verify it once,
# then answer from their cache
my $tok = rs(exp => time + 300);
t_start_error_log_watch();
my @codes = map { GET('/cache-rs/', 'x-access-token' => $tok)->code } 1 .. 40;
my @log = t_finish_error_log_watch();
my $hits = grep { /token accepted \(alg RS256, user daehan, cached\)/ } @log;
is_deeply(\@codes, [(200) x 40], '40 presentations of an RS256 token: 200');
cmp_ok($hits, '>', 0, "served from the cache $hits times, verified "
       . (40 - $hits) . ' times: some from the cache');
cmp_ok($hits, '<', 40, "served from the cache $hits times, verified "
       . (40 - $hits) . ' times: some verified');

# the cached result never crosses into a scope with other keys
is(GET('/cache-other/', 'x-access-token' => $tok)->code, 401,
   'the same token at a scope without its key: 401');

# Require rules are checked on every hit
my $plain = rs(exp => time + 300);
GET('/cache-rs/', 'x-access-token' => $plain) for 1 .. 20;
is(GET('/cache-admin/', 'x-access-token' => $plain)->code, 403,
   'a cached token without admin: 403 at Require jwt-claim admin true');

# a cached token expires on time
my $short = rs(exp => time + 2);
my @ok = map { GET('/cache-rs/', 'x-access-token' => $short)->code } 1 .. 20;
is_deeply(\@ok, [(200) x 20], 'short-lived token accepted (and cached)');
sleep 3.2;
my @late = map { GET('/cache-rs/', 'x-access-token' => $short)->code } 1 .. 20;
is_deeply(\@late, [(401) x 20], 'after its exp: 401 on every presentation');

# JWTAuthCache Off: every presentation verified
t_start_error_log_watch();
my @off = map { GET('/cache-off/', 'x-access-token' => $tok)->code } 1 .. 20;
@log = t_finish_error_log_watch();
is_deeply(\@off, [(200) x 20], 'JWTAuthCache Off: 200');
is(scalar(grep { /cached\)/ } @log), 0,
   'JWTAuthCache Off: verified 20 times, never from the cache: never cached');
is(scalar(grep { /token accepted \(alg RS256/ } @log), 20,
   'JWTAuthCache Off: verified 20 times, never from the cache: 20 verified');

# a token with its signature changed is never taken from the cache
my $bad = $tok;
substr($bad, -3, 1) = substr($bad, -3, 1) eq 'A' ? 'B' : 'A';
is(GET('/cache-rs/', 'x-access-token' => $bad)->code, 401,
   'a cached token with one signature character changed: 401');

# results are reused only under the very same rules: a subrequest into a
# scope that also requires typ at+jwt is checked again
my $ec = Crypt::PK::ECC->new(fixture('ec256.key'));
my $jwt_typ = encode_jwt(payload => { sub => 'daehan', exp => time + 60 },
                         alg => 'ES256', key => $ec,
                         extra_headers => { typ => 'JWT' });
my $res = GET('/typ-parent/page.shtml', 'x-access-token' => $jwt_typ);
is($res->code, 200, 'parent page with a typ JWT token: 200');
unlike($res->content, qr/strict part/,
       'its include from the typ at+jwt scope is refused, not reused: '
       . 'no part');
like($res->content, qr/error occurred/,
     'its include from the typ at+jwt scope is refused, not reused: '
     . 'SSI error');

# the shared tier (JWTAuthSharedCache shmcb): a token is verified once for
# the whole server; every other thread and process finds it in shmcb
my $fresh = rs(exp => time + 300, jti => 'shared-tier');
t_start_error_log_watch();
my @sc = map { GET('/cache-rs/', 'x-access-token' => $fresh)->code } 1 .. 40;
@log = grep { /token accepted \(alg RS256/ } t_finish_error_log_watch();
my $full = grep { /user daehan\)/ } @log;
my $shared = grep { /shared cache\)/ } @log;
is_deeply(\@sc, [(200) x 40], 'shared tier: 40 presentations, 200');
is($full, 1, 'shared tier: verified once in full');
cmp_ok($shared, '>=', 1, "shared tier: $shared answers from shmcb, the rest "
       . 'from the threads\' own caches');
