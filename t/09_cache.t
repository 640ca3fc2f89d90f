# The validated-token cache: repeated presentations skip the signature,
# but exp and the Require rules are checked on every hit, a token cached
# under one scope is never accepted by the cache under another, and
# JWTAuthCache Off verifies every time.  Servers of this test's own show
# the process's cache shared by its threads (JWTAuthCacheEntries 0: the
# threads keep nothing of their own) and the shmcb tier answering a new
# process (JWTAuthCacheSize and JWTAuthSharedCache are server-wide).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use JSON::PP ();
use Time::HiRes qw(sleep);
use LWP::UserAgent;
use POSIX ();
use File::Path qw(make_path);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;
use KeysServer;

my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;
plan tests => 37, need(need_module('mod_jwtauth.c', 'mod_include.c',
                                   'mod_socache_shmcb.c'),
    { "$libexec/mod_socache_shmcb.so for a server of this test's own"
      => -e "$libexec/mod_socache_shmcb.so" });

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
is($shared + grep({ /cached\)/ } @log), 39, "shared tier: the other 39 from "
   . "shmcb ($shared) or the process's cache");

# the claims' variables of a cached answer (kept with the entry) are
# those of the full verification: each presentation in its own
# connection, so that the worker threads differ and answer from the
# process's cache
{
    my $t = token(role => 'editor', n => 42, tags => ['a', 'b'],
                  'a-b' => 'skip', jti => 'cache-env');
    my @bodies = map {
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 0);
        GET('/cache-env/env.cgi', 'x-access-token' => $t)->content
    } 1 .. 6;
    my $first = eval { JSON::PP->new->decode($bodies[0]) } || {};
    is(join(',', map { "$_=$first->{$_}" } sort keys %$first),
       'AUTH_TYPE=Bearer,JWT_CLAIM_exp=' . $first->{JWT_CLAIM_exp}
       . ',JWT_CLAIM_jti=cache-env,JWT_CLAIM_n=42,JWT_CLAIM_role=editor,'
       . 'JWT_CLAIM_sub=daehan,JWT_CLAIM_tags=["a","b"],REMOTE_USER=daehan',
       'the first presentation (verified): its JWT_CLAIM_* variables');
    is_deeply([@bodies[1 .. 5]], [($bodies[0]) x 5],
              '5 more, answered by the cache: the same variables');
}

# ---- JWTAuthCacheSize and JWTAuthCacheEntries: apachectl -t ------------
for my $c (
    # directive lines, exit code, output (a regex), what
    [['JWTAuthCacheSize 32M'], 0, qr/Syntax OK/, 'a size in M'],
    [['JWTAuthCacheSize 65536'], 0, qr/Syntax OK/, 'the smallest, in bytes'],
    [['JWTAuthCacheSize 0'], 0, qr/Syntax OK/, '0: none'],
    [['JWTAuthCacheSize 1000'], 1, qr/JWTAuthCacheSize: '1000' is not 0 or a size from 65536/,
     'under 64K refused'],
    [['JWTAuthCacheSize 12X'], 1, qr/JWTAuthCacheSize: '12X' is not 0/,
     'an unknown unit refused'],
    [['JWTAuthCacheSize -1M'], 1, qr/JWTAuthCacheSize: '-1M' is not 0/,
     'a negative size refused'],
    [['<Location /x>', 'JWTAuthCacheSize 1M', '</Location>'], 1,
     qr/JWTAuthCacheSize not allowed in <Location> context/,
     'in a Location refused'],
    [['JWTAuthCacheEntries 0'], 0,
     qr/JWTAuthCacheEntries 0 no longer turns the validated-token cache off/,
     'JWTAuthCacheEntries 0 starts, with a warning that its meaning changed'],
    [['JWTAuthCacheEntries 64'], 0, qr/^(?!.*no longer).*Syntax OK/s,
     'JWTAuthCacheEntries 64 starts without the warning'],
) {
    my ($lines, $rc, $re, $what) = @$c;
    my ($got, $out) = apache_t([], @$lines);
    ok($got == $rc && $out =~ $re, "$what (exit $got, expected $rc)")
        or diag($out);
}

# ---- servers of this test's own ----------------------------------------
# one process of 8 threads (KeysServer: stopped by its pid, also when
# this test dies), the test's HS256 secret, JWTAuth On at /api
my $dir = t_dir() . '/state/09_cache';
my @own = (dir => $dir, fresh => 1, single => 1, threads => 8,
           modules => ['socache_shmcb'], loglevel => 'warn jwtauth:debug');
my @hs256 = ('JWTAuthSecretFile ' . fixture('secret'),
             'JWTAuthAlgorithms HS256',
             '<Location /api>', '    JWTAuth On', '</Location>');

# $n presentations of $tok at the same time, 8 connections at once: the
# status codes in order
sub present {
    my ($port, $n, $tok) = @_;
    my @pids;
    my $d = "$dir/present";
    make_path($d);
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 10);
            my $code = $ua->get("http://127.0.0.1:$port/api/index.html",
                                'x-access-token' => $tok)->code;
            open my $fh, '>', "$d/$i" or POSIX::_exit(1);
            print $fh $code;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
        if (@pids >= 8) {
            waitpid(shift @pids, 0);
        }
    }
    waitpid($_, 0) for @pids;
    my @codes;
    for my $i (1 .. $n) {
        open my $fh, '<', "$d/$i" or die $!;
        push @codes, scalar <$fh>;
        close $fh;
        unlink "$d/$i";
    }
    return \@codes;
}

# the process's cache, shared by 8 threads that keep no slots of their
# own: 40 presentations, 8 at a time, verified in full once (a thread
# that misses while another verifies verifies too: at most a few)
{
    my $srv = eval { KeysServer->start(@own, name => 'process',
        lines => [@hs256, 'JWTAuthCacheEntries 0']) };
    ok($srv, 'a server of 8 threads with JWTAuthCacheEntries 0 started')
        or diag($@);
    my $t = token(jti => 'process-cache');
    my $codes = $srv ? present($srv->port, 40, $t) : [];
    my @acc = grep { /token accepted \(alg HS256/ }
              $srv ? $srv->log_lines : ();
    my $verified = grep { /user daehan\)/ } @acc;
    my $cached = grep { /cached\)/ } @acc;
    is_deeply($codes, [(200) x 40], 'process cache: 40 presentations, 200');
    cmp_ok($verified, '<=', 4, "process cache: verified in full $verified "
           . 'times of 40 across 8 threads');
    is($cached + $verified, 40, "process cache: the other $cached from the "
       . "process's cache");
    ok(!$srv || $srv->stop, 'the server stopped by its pid');
}

# the shmcb tier behind it: every connection in a child of its own
# (MaxConnectionsPerChild 1), so each new process's cache is empty and
# shmcb answers for the token the first one verified.  Room for a second
# child (ServerLimit 2): under load a child at its one connection was
# seen to linger without threads, and with ServerLimit 1 no other could
# start (the next request then waited out its timeout)
{
    my $srv = eval { KeysServer->start(@own, single => 0, children => 1,
        name => 'shmcb',
        lines => [@hs256, 'JWTAuthSharedCache shmcb',
                  'MaxConnectionsPerChild 1']) };
    ok($srv, 'a server with a new child for every connection started')
        or diag($@);
    my $t = token(jti => 'shmcb-across');
    my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 20);
    my @codes = $srv ? map {
        $ua->get('http://127.0.0.1:' . $srv->port . '/api/index.html',
                 'x-access-token' => $t)->code } 1 .. 3 : ();
    my @acc = grep { /token accepted \(alg HS256/ }
              $srv ? $srv->log_lines : ();
    is_deeply(\@codes, [200, 200, 200], 'shmcb: 3 presentations in 3 '
              . 'processes, 200');
    is(scalar(grep { /shared cache\)/ } @acc), 2, 'shmcb: the 2 later '
       . 'processes found it in shmcb');
    ok(!$srv || $srv->stop, 'the server stopped by its pid');
}
