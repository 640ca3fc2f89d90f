# SetHandler jwtauth-metrics: the counters as Prometheus text (0.0.4),
# parsed by a real parser (Debian's python3-prometheus-client), summed
# over the child processes: after a mixed run with known counts spread
# over two children, every delta is exact.  The same figures appear in
# mod_status's page.  Server config: t/conf/metrics.conf.in.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use File::Temp qw(tempfile);
use Time::HiRes qw(sleep);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;

plan tests => 37, need_module('mod_jwtauth.c', 'mod_log_config.c',
                              'mod_status.c');

my $python = '/usr/bin/python3';
my $parser = <<'PY';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {"types": {}, "samples": []}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    out["types"][f.name] = f.type
    for s in f.samples:
        out["samples"].append([s.name, s.labels, s.value])
print(json.dumps(out))
PY

# The page parsed: { types => { family => type }, samples => { "name{k=v,
# ...}" => value } }, or undef when the parser refuses it.
sub scrape {
    my $res = GET('/metrics');
    return (undef, $res) unless $res->code == 200;
    my ($fh, $file) = tempfile(UNLINK => 1);
    print $fh $res->content;
    close $fh;
    open my $py, '-|', $python, '-c', $parser, $file or die "python: $!";
    my $json = do { local $/; <$py> };
    close $py;
    return (undef, $res) if $? != 0;
    my $d = JSON::PP->new->decode($json);
    my %s;
    for (@{ $d->{samples} }) {
        my ($name, $labels, $value) = @$_;
        my $l = join ',', map { "$_=$labels->{$_}" } sort keys %$labels;
        $s{"$name\{$l}"} = $value;
    }
    return ({ types => $d->{types}, samples => \%s }, $res);
}

my ($before, $res) = scrape();
ok($before, 'the page before the run parses as Prometheus text')
    or diag($res->as_string);
is($res->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8',
   'Content-Type: the text exposition format 0.0.4');
is_deeply($before->{types}, { jwtauth_requests => 'counter',
                              jwtauth_cache_lookups => 'counter',
                              jwtauth_logins => 'counter',
                              jwtauth_key_fetches => 'counter',
                              jwtauth_keys => 'gauge' },
          'the families, each with its TYPE');
my @reasons = qw(accepted missing malformed alg header key signature expired
                 not_yet_valid claim issuer audience user keys_unavailable
                 internal scope);
is(scalar(grep { exists $before->{samples}
                     {"jwtauth_requests_total{result=$_}"} } @reasons),
   scalar(@reasons), 'every request outcome is on the page, zeros too');
is_deeply([map { $before->{samples}{"jwtauth_keys{source=$_}"} }
           fixture('secret'), fixture('rotate.jwks')], [1, 2],
          'jwtauth_keys: 1 from the server-wide JWTAuthSecretFile, 2 from '
          . 'a JWK Set');

# the mixed run: [tag, path, headers, status], with two valid tokens of
# this run only (a jti of their own: no earlier test cached them)
my $now = time;
my $tag = "$$-$now";
my $tok_a = token(jti => "metrics-a-$tag");
my $tok_b = token(jti => "metrics-b-$tag");
my $tok_read = token(jti => "metrics-r-$tag", scope => 'read');
my $basic = sub { [Authorization => 'Basic ' . encode_base64($_[0], '')] };
my @rows = (
    (map { ['accepted', '/protected/hello.html',
            ['x-access-token' => $tok_a], 200] } 1 .. 6),
    (map { ['accepted', '/protected/hello.html',
            ['x-access-token' => $tok_b], 200] } 1 .. 4),
    (map { ['scope', '/az-scope/index.html',
            ['x-access-token' => $tok_read], 403] } 1 .. 2),
    (map { ['missing', '/protected/hello.html', [], 401] } 1 .. 3),
    (map { ['expired', '/protected/hello.html',
            ['x-access-token' => token(exp => $now - 100,
                                       jti => "e$_-$tag")], 401] } 1 .. 2),
    (map { ['signature', '/protected/hello.html',
            ['x-access-token' => jws({ alg => 'HS256' },
                { sub => 'a', exp => $now + 300, jti => "s$_-$tag" },
                'another secret of thirty-two bytes!!')], 401] } 1 .. 2),
    (map { ['login_ok', '/login', $basic->('daehan:1234'), 200] } 1 .. 2),
    (map { ['login_bad', '/login', $basic->('daehan:wrong'), 401] } 1 .. 3),
);

# Connections that send half a request hold a worker thread each (one
# that sends nothing is not even accepted: TCP_DEFER_ACCEPT): with every
# thread of the one child held, the MPM starts another (MinSpareThreads)
# and it answers the next requests.  Two rounds: the first before
# holding, the second while holding, so that the run spans two children.
my ($host, $port) = split /:/, Apache::TestRequest::hostport();
my $log = t_dir() . '/logs/metrics_log';
my $start = -s $log // 0;
my (@codes, @holders);
for my $round (1, 2) {
    if ($round == 2) {
        for (1 .. 8) {
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $port) or last;
            print $s "GET /hello.html HTTP/1.1\r\n";
            push @holders, $s;
        }
        sleep 3;
    }
    for my $r (@rows) {
        my ($what, $path, $hdrs, $status) = @$r;
        push @codes, [GET($path, @$hdrs, 'X-Metrics-Run' => "$round-$what")
                      ->code, $status];
    }
}
close $_ for @holders;
is_deeply([map { $_->[0] } @codes], [map { $_->[1] } @codes],
          'the mixed run: every request answered as planned');

# mod_log_config writes each line when its request ends
my %pids;
my $lines = 0;
for (1 .. 30) {
    open my $fh, '<', $log or last;
    seek $fh, $start, 0;
    my @l = <$fh>;
    $lines = @l;
    %pids = map { (split ' ')[1] => 1 } @l;
    last if $lines >= @codes;
    sleep 0.1;
}
is($lines, scalar(@codes), 'a log line for every request of the run');
cmp_ok(scalar(keys %pids), '>=', 2, 'the run was answered by '
       . scalar(keys %pids) . ' child processes (pids ' . join(' ',
       sort keys %pids) . ')');

my ($after) = scrape();
ok($after, 'the page after the run parses as Prometheus text');
sub delta {
    my $k = shift;
    return ($after->{samples}{$k} // 'absent')
         - ($before->{samples}{$k} // 0);
}

# exact deltas: 2 rounds of the rows
# a token Require jwt-scope refuses was valid: accepted, then scope
my %want = (accepted => 24, scope => 4, missing => 6, expired => 4,
            signature => 4,
            map { $_ => 0 } qw(malformed alg header key not_yet_valid claim
                               issuer audience user keys_unavailable
                               internal));
for my $reason (@reasons) {
    is(delta("jwtauth_requests_total{result=$reason}"), $want{$reason},
       "jwtauth_requests_total{result=\"$reason\"}: +$want{$reason}");
}
is(delta('jwtauth_logins_total{result=success}'), 4,
   'jwtauth_logins_total{result="success"}: +4');
is(delta('jwtauth_logins_total{result=failure}'), 6,
   'jwtauth_logins_total{result="failure"}: +6');

# every token went through the thread tier; what it missed, through the
# shared one (shmcb, across the processes): there the two valid tokens
# were each verified once, the invalid ones every time
my $thread = delta('jwtauth_cache_lookups_total{result=hit,tier=thread}')
           + delta('jwtauth_cache_lookups_total{result=miss,tier=thread}');
is($thread, 32, 'thread tier: hits + misses = the 32 tokens presented');
my $shared = delta('jwtauth_cache_lookups_total{result=hit,tier=shared}')
           + delta('jwtauth_cache_lookups_total{result=miss,tier=shared}');
is($shared, delta('jwtauth_cache_lookups_total{result=miss,tier=thread}'),
   'shared tier: one lookup for each thread miss');
is(delta('jwtauth_cache_lookups_total{result=miss,tier=shared}'), 11,
   'shared tier: misses = 3 valid tokens once + 8 invalid ones');

# mod_status: the same figures, as ?auto lines and as a table
my %auto = map { /^(jwtauth_\w+): (\d+)$/ ? ($1 => $2) : () }
           split /\n/, GET_BODY('/server-status?auto');
my ($now_page) = scrape();
is_deeply([@auto{qw(jwtauth_requests_accepted jwtauth_requests_expired
                    jwtauth_logins_failure)}],
          [map { $now_page->{samples}{$_} } (
              'jwtauth_requests_total{result=accepted}',
              'jwtauth_requests_total{result=expired}',
              'jwtauth_logins_total{result=failure}')],
          'server-status?auto: the counts of the metrics page');
like(GET_BODY('/server-status'),
     qr{<h2>mod_jwtauth</h2>.*<td>jwtauth_requests_total</td>
        <td>result=&quot;accepted&quot;</td><td>\d+</td>}sx,
     'server-status: a mod_jwtauth table');

# GET only; HEAD gets the headers
my $post = POST('/metrics', content => 'x');
is($post->code, 405, 'POST /metrics: 405');
like($post->header('Allow') // '', qr/\bGET\b/, 'POST /metrics: Allow GET');
my $head = HEAD('/metrics');
is(join(' ', $head->code, length($head->content)), '200 0',
   'HEAD /metrics: 200, no body');

# a graceful restart makes a new segment: the counters start again at
# zero (old children may answer the first scrapes, with their old sums),
# and the new generation counts
my $pid_file = Apache::Test::vars('t_pid_file');
my $ppid = do { local (@ARGV, $/) = $pid_file; <> };
chomp $ppid;
my $key = 'jwtauth_requests_total{result=accepted}';
kill 'USR1', $ppid;
my $zero;
for (1 .. 100) {
    sleep 0.1;
    my ($page) = scrape();
    last if $page && defined($zero = $page->{samples}{$key}) && $zero == 0;
}
is($zero, 0, 'after a graceful restart: accepted starts again at 0');
GET('/protected/hello.html', 'x-access-token' => $tok_a);
my ($restarted) = scrape();
is($restarted && $restarted->{samples}{$key}, 1,
   'after a graceful restart: one accepted request counts 1');

