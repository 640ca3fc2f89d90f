# A fleet sharing one JWTAuthSessionStore: redis-server and memcached
# (Debian's) started here on free loopback ports, and private Apaches of
# this file's own (not the shared test server): A (JWTAuthSessionStoreFailure
# closed) and B (open) on one redis, C and D on one memcached, E without
# a store.  Logout at A is refused at B on the very next request; login
# throttling counts across A and B (a counting authn provider,
# t/fleet/mod_authn_count.c, shows which passwords were checked); redis
# stopped mid-test: A answers 503 (also once apr-util has marked the
# server dead and answers its lookups "not found"), B serves with one
# warning; both recover when redis returns.  The figures (requests,
# latencies, recovery) are printed as "# figure: ..." lines.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use LWP::UserAgent;
use HTTP::Request;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

my $libexec = `apxs -q LIBEXECDIR`;
chomp $libexec;
my @need = grep { !-e "$libexec/mod_$_.so" } qw(socache_redis socache_memcache);
my $tools = !system('sh', '-c', 'command -v redis-server memcached wrk '
                    . '>/dev/null');
plan tests => 38,
    need_module('mod_jwtauth.c'),
    need({ "mod_socache_redis and mod_socache_memcache (missing: @need)"
               => !@need,
           'redis-server, memcached and wrk (build/deps.sh test)' => $tools });

my $top = "$FindBin::Bin/..";
my $dir = tempdir('fleet-XXXX', DIR => "$top/t/logs", CLEANUP => 1);
chmod 0755, $dir;
my $root = $> == 0;
my $deadline = time + 150;      # the whole file, however it goes
my (%pids, @httpd_dirs);

sub free_port {
    IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                          Listen => 1)->sockport;
}

sub wait_port {
    my ($port, $secs) = @_;
    my $until = time + ($secs // 10);
    while (time < $until) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                          Timeout => 1);
        sleep 0.05;
    }
    return 0;
}

# a daemon in the foreground, its pid kept to stop it by
sub spawn {
    my ($name, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', "$dir/$name.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or exit 127;
    }
    $pids{$name} = $pid;
    return $pid;
}

sub stop {
    my $name = shift;
    my $pid = delete $pids{$name} or return;
    kill 'TERM', $pid;
    for (1 .. 100) {
        return if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
}

my $rport = free_port();
sub start_redis {
    spawn('redis', 'redis-server', '--port', $rport, '--bind', '127.0.0.1',
          '--save', '', '--appendonly', 'no', '--daemonize', 'no',
          '--pidfile', "$dir/redis.pid", '--logfile', "$dir/redis.log");
    return wait_port($rport);
}
my $mport = free_port();
sub start_memcached {
    spawn('memcached', 'memcached', '-l', '127.0.0.1', '-p', $mport, '-U',
          '0', ($root ? ('-u', 'nobody') : ()));
    return wait_port($mport);
}

# the counting authn provider, built here
system("cp '$top/t/fleet/mod_authn_count.c' '$dir/' && cd '$dir' "
       . "&& apxs -c mod_authn_count.c >build.log 2>&1") == 0
    or BAIL_OUT("apxs could not build t/fleet/mod_authn_count.c: see "
                . "$dir/build.log");

# the fleet's HMAC secret, and the login password file of no use: the
# provider is "count"
my $secret = join '', map { chr(int(rand(256))) } 1 .. 32;
open my $sf, '>:raw', "$dir/secret" or die;
print $sf $secret;
close $sf;
chmod 0644, "$dir/secret";

# One private Apache: name, store lines, failure mode.  Returns its port.
sub start_httpd {
    my ($name, @conf) = @_;
    my $d = "$dir/$name";
    mkdir $d;
    mkdir "$d/htdocs";
    mkdir "$d/htdocs/api";
    open my $fh, '>', "$d/htdocs/api/file.html" or die;
    print $fh 'x' x 1024;
    close $fh;
    my $port = free_port();
    open my $c, '>', "$d/httpd.conf" or die;
    print $c join "\n",
        "ServerRoot \"$d\"", 'ServerName 127.0.0.1', "Listen 127.0.0.1:$port",
        "PidFile \"$d/httpd.pid\"", "DefaultRuntimeDir \"$d\"",
        "ErrorLog \"$d/error_log\"",
        'LogLevel warn jwtauth:info authn_count:notice',
        ($root ? ('User nobody', 'Group nogroup') : ()),
        map({ "LoadModule ${_}_module $libexec/mod_$_.so" }
            qw(mpm_event authn_core authz_core mime socache_redis
               socache_memcache socache_shmcb)),
        "LoadModule jwtauth_module \"$top/.libs/mod_jwtauth.so\"",
        "LoadModule authn_count_module \"$dir/.libs/mod_authn_count.so\"",
        'StartServers 1', 'ServerLimit 1', 'ThreadsPerChild 16',
        'MinSpareThreads 4', 'MaxSpareThreads 16', 'MaxRequestWorkers 16',
        'KeepAlive On', 'MaxKeepAliveRequests 0',
        'TypesConfig /etc/mime.types', "DocumentRoot \"$d/htdocs\"",
        "JWTAuthSecretFile \"$dir/secret\"", 'JWTAuthAlgorithms HS256',
        @conf,
        '<Location /api>', '    JWTAuth On', '</Location>',
        '<Location /logout>', '    SetHandler jwtauth-logout',
        '</Location>',
        '<Location /login>', '    SetHandler jwtauth-login',
        '    JWTAuthProvider count',
        (grep({ /SessionStore / } @conf)
         ? '    JWTAuthLoginThrottle 3 60' : ()),
        '</Location>', '';
    close $c;
    system('chmod', '-R', 'a+rX', $d);
    system('apache2', '-f', "$d/httpd.conf", '-k', 'start') == 0
        or return;
    push @httpd_dirs, $d;
    return wait_port($port) ? $port : undef;
}

sub stop_httpd {
    my $d = shift;
    open my $fh, '<', "$d/httpd.pid" or return;
    my $pid = <$fh>;
    chomp $pid;
    kill 'TERM', $pid;
    for (1 .. 100) {
        last unless kill 0, $pid;
        sleep 0.05;
    }
}

END {
    stop_httpd($_) for @httpd_dirs;
    stop($_) for keys %pids;
}

my $ua = LWP::UserAgent->new(keep_alive => 4, timeout => 10);
sub call {
    my ($port, $method, $path, @h) = @_;
    my $r = HTTP::Request->new($method, "http://127.0.0.1:$port$path",
                               [@h, 'Content-Length' => 0], '');
    return $ua->request($r);
}
my $n = 0;
sub ftok {
    my %c = @_;
    $n++;
    return jws({ alg => 'HS256', typ => 'JWT' },
               { sub => "fleet-$n", jti => "fleet-$$-$n", iat => int(time) - 5,
                 exp => int(time) + 600, %c }, $secret);
}
sub errlog {
    my $name = shift;
    open my $fh, '<', "$dir/$name/error_log" or return ();
    return <$fh>;
}

# ---- redis, A (closed) and B (open) ----
ok(start_redis(), "redis-server on 127.0.0.1:$rport");
my $store = "JWTAuthSessionStore redis:127.0.0.1:$rport";
my $pa = start_httpd('A', $store, 'JWTAuthSessionStoreFailure closed');
my $pb = start_httpd('B', $store, 'JWTAuthSessionStoreFailure open');
ok($pa && $pb, "two Apaches on one redis: A on $pa (closed), B on $pb "
   . '(open)');

# logout at A, refused at B on the very next request
{
    my $tok = ftok();
    my @before = map { call($_, 'GET', '/api/file.html',
                            'x-access-token' => $tok)->code } $pa, $pb, $pb;
    is("@before", '200 200 200', 'the token served by A and (twice, so '
       . 'cached) by B');
    my $t0 = time;
    my $out = call($pa, 'POST', '/logout', 'x-access-token' => $tok);
    my $res = call($pb, 'GET', '/api/file.html', 'x-access-token' => $tok);
    my $ms = (time - $t0) * 1000;
    is($out->code, 200, 'logout at A: 200');
    is(join(' ', $res->code, $res->content), '401 {"message": "Token is '
       . 'invalid!"}', 'the very next request, at B: 401');
    printf "# figure: logout at A then the refusal at B: %.1f ms for both "
           . "requests\n", $ms;
    is(call($pa, 'GET', '/api/file.html', 'x-access-token' => $tok)->code,
       401, 'and at A');
    ok((grep { /token refused \(revoked\)/ } errlog('B')),
       'B logs the revocation as the reason');
}

# logout everywhere at B reaches A
{
    my $t1 = ftok(sub => 'fleet-all', iat => int(time) - 20);
    my $t2 = ftok(sub => 'fleet-all', iat => int(time) - 10);
    my $r = HTTP::Request->new('POST', "http://127.0.0.1:$pb/logout",
                               ['x-access-token' => $t1,
                                'Content-Type' => 'application/json'],
                               '{"all": true}');
    is($ua->request($r)->code, 200, 'logout everywhere at B: 200');
    is(call($pa, 'GET', '/api/file.html', 'x-access-token' => $t2)->code,
       401, 'the sub\'s other token refused at A');
}

# login throttling counted across A and B: 3 failures per user name
{
    my $user = "fleet-u-$$";
    my $before = grep { /authn_count: check for \Q$user\E/ }
                 (errlog('A'), errlog('B'));
    my @codes = map {
        my $r = HTTP::Request->new('POST', "http://127.0.0.1:$_/login",
                                   ['Content-Type' =>
                                        'application/x-www-form-urlencoded'],
                                   "username=$user&password=wrong");
        $ua->request($r)->code
    } $pa, $pb, $pa, $pb, $pa;
    my $r = HTTP::Request->new('POST', "http://127.0.0.1:$pb/login",
                               ['Content-Type' =>
                                    'application/x-www-form-urlencoded'],
                               "username=$user&password=right");
    my $res = $ua->request($r);
    sleep 0.2;
    my $checks = grep { /authn_count: check for \Q$user\E/ }
                 (errlog('A'), errlog('B'));
    is("@codes", '401 401 401 429 429', 'throttle across A and B: three '
       . 'failures (A, B, A), then 429 at either');
    is(join(' ', $res->code, $res->header('Retry-After') ? 'Retry-After'
                                                         : 'none'),
       '429 Retry-After', 'the right password at B: 429 with Retry-After');
    is($checks - $before, 3, 'the provider checked the three failed '
       . 'passwords only (none of the throttled attempts)');
}

# the cost of the revocation check: wrk against A's /api with a store, and
# against E (no store), the same token
my $pe = start_httpd('E');
ok($pe, "E without a store on $pe");
ok((grep { /SetHandler jwtauth-logout in <Location \/logout> .* without JWTAuthSessionStore/ }
    errlog('E')), 'E logs at startup that its logout only clears the '
   . 'cookie, naming the section');
{
    my $tok = ftok();
    my %rps;
    for my $s (['redis', $pa], ['none', $pe]) {
        my ($what, $port) = @$s;
        my $out = `wrk -t1 -c4 -d2s -H 'x-access-token: $tok' --latency http://127.0.0.1:$port/api/file.html 2>&1`;
        my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
        my ($p50) = $out =~ /\s50%\s+([\d.]+\w+)/;
        my ($nreq) = $out =~ /(\d+) requests in/;
        my $non2xx = $out =~ /Non-2xx or 3xx responses: (\d+)/ ? $1 : 0;
        $rps{$what} = $rps // 0;
        printf "# figure: wrk -t1 -c4 -d2s, valid token, store %s: %s "
               . "requests, %s req/s, p50 %s, non-2xx %d\n", $what,
               $nreq // '?', $rps // '?', $p50 // '?', $non2xx;
    }
    ok($rps{redis} > 0 && $rps{none} > 0, 'wrk ran against both');
    printf "# figure: per request, the revocation check with redis costs "
           . "%.0f us (%.0f vs %.0f req/s with 4 connections)\n",
           $rps{redis} && $rps{none}
           ? 4e6 / $rps{redis} - 4e6 / $rps{none} : 0, $rps{redis},
           $rps{none};
}

# ---- redis stopped ----
my $live = ftok();
is(call($pa, 'GET', '/api/file.html', 'x-access-token' => $live)->code, 200,
   'a live token at A before redis stops');
stop('redis');
{
    my (@a, @b, @ra);
    # over 7 s: the first failure, then apr-util's dead-server "not found"
    # answers (it tries the server again only every 5 s)
    my $until = time + 7;
    while (time < $until) {
        my $r = call($pa, 'GET', '/api/file.html', 'x-access-token' => $live);
        push @a, $r->code;
        push @ra, $r->header('Retry-After') // '-';
        push @b, call($pb, 'GET', '/api/file.html',
                      'x-access-token' => $live)->code;
        sleep 0.1;
    }
    my %ac = map { $_ => 1 } @a;
    my %bc = map { $_ => 1 } @b;
    is(join(',', sort keys %ac), '503', 'redis stopped, A (closed): 503 to '
       . 'each of ' . scalar(@a) . ' requests over 7 s');
    is(join(',', sort keys %{{ map { $_ => 1 } @ra }}), '5',
       'A\'s 503: Retry-After: 5');
    is(join(',', sort keys %bc), '200', 'redis stopped, B (open): 200 to '
       . 'each of ' . scalar(@b) . ' requests');
    my $res = call($pa, 'GET', '/api/file.html', 'x-access-token' => $live);
    is($res->content, '{"message": "Session store is unavailable!"}',
       'A\'s 503 body');
    my @warn = grep { /is unavailable: tokens count as not revoked/ }
               errlog('B');
    is(scalar(@warn), 1, 'B warned once (at most once a minute)');
    ok((grep { /request refused \(store_unavailable\)/ } errlog('A')),
       'A logs store_unavailable');
    my $r = HTTP::Request->new('POST', "http://127.0.0.1:$pa/login",
                               ['Content-Type' =>
                                    'application/x-www-form-urlencoded'],
                               "username=fleet-x-$$&password=right");
    is($ua->request($r)->code, 503, 'a throttled login at A while redis is '
       . 'down: 503');
    $r = HTTP::Request->new('POST', "http://127.0.0.1:$pb/login",
                            ['Content-Type' =>
                                 'application/x-www-form-urlencoded'],
                            "username=fleet-x-$$&password=right");
    is($ua->request($r)->code, 200, 'the same login at B (open): 200, not '
       . 'throttled');
    is(call($pa, 'POST', '/logout', 'x-access-token' => ftok())->code, 503,
       'a logout at A while redis is down: 503 (not recorded)');
}

# ---- redis back (empty: --save '') ----
{
    ok(start_redis(), 'redis-server started again on the same port');
    my $t0 = time;
    my $code = 0;
    while (time < $t0 + 15 && $code != 200) {
        $code = call($pa, 'GET', '/api/file.html',
                     'x-access-token' => $live)->code;
        sleep 0.1 if $code != 200;
    }
    my $secs = time - $t0;
    is($code, 200, 'A serves again once redis is back');
    printf "# figure: A recovered %.1f s after redis came back (apr-util "
           . "retries a dead server every 5 s, the canary every second)\n",
           $secs;
    cmp_ok($secs, '<', 12, 'A recovered within 12 s');
    is(call($pb, 'GET', '/api/file.html', 'x-access-token' => $live)->code,
       200, 'B serves');
    my $tok = ftok();
    call($pb, 'GET', '/api/file.html', 'x-access-token' => $tok);
    call($pb, 'POST', '/logout', 'x-access-token' => $tok);
    is(call($pa, 'GET', '/api/file.html', 'x-access-token' => $tok)->code,
       401, 'after the recovery a logout at B holds at A again');
    ok((grep { /the store lost its entries/ } errlog('A'), errlog('B')),
       'the empty redis is noticed: its revocations are gone (logged)');
}

# ---- the same logout row through memcached, C and D ----
ok(start_memcached(), "memcached on 127.0.0.1:$mport");
my $mstore = "JWTAuthSessionStore memcache:127.0.0.1:$mport";
my $pc = start_httpd('C', $mstore);
my $pd = start_httpd('D', $mstore);
ok($pc && $pd, "two Apaches on one memcached: C on $pc, D on $pd");
{
    my $tok = ftok();
    my @before = map { call($_, 'GET', '/api/file.html',
                            'x-access-token' => $tok)->code } $pc, $pd, $pd;
    is("@before", '200 200 200', 'memcached: the token served by C and D');
    is(call($pc, 'POST', '/logout', 'x-access-token' => $tok)->code, 200,
       'memcached: logout at C');
    is(call($pd, 'GET', '/api/file.html', 'x-access-token' => $tok)->code,
       401, 'memcached: the very next request, at D: 401');
    stop('memcached');
    my @c = map { call($pc, 'GET', '/api/file.html',
                       'x-access-token' => ftok())->code } 1 .. 5;
    is("@c", '503 503 503 503 503', 'memcached stopped, C (closed by '
       . 'default): 503');
}
cmp_ok(time, '<', $deadline, 'the file ran within its time bound');
