# Remote key sets (issue 10): JWTAuthDiscovery and JWTAuthKeysURL against
# the loopback identity provider of t/idp (its own CA), through private
# servers started after it: discovery, issuer binding, rotation without a
# restart, the unknown-kid refetch limit (fetches counted at the IdP),
# every failure kind with the last good set serving (and requests as fast
# during a hanging fetch), one fetcher for several children, a bad
# certificate or host name, 503 with no keys, JWTAuthKeysMaxStale, a
# graceful restart, a cold start from the store with the IdP down, a
# startup bounded by the timeout, apachectl -t without network, and the
# directives' syntax errors.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use FindBin;
use lib "$FindBin::Bin/lib";
use JWTTest;
use KeysServer;
use TestIdP;

plan tests => 96, need_module('mod_jwtauth.c');

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $idp = TestIdP->start(dir => "$dir/idp", issuers => 3);
my $https = $idp->port('https');
my $ca = $idp->ca;
chmod 0755, "$dir/idp";
chmod 0644, $ca;
my ($iss0, $iss1, $iss2) = map { $idp->issuer($_) } 0 .. 2;
my $dead = KeysServer::free_port();     # nothing listens there

# ---- directive syntax: apachectl -t stops, naming the directive --------
my @syntax = (
    ['http to a non-loopback host', 'JWTAuthKeysURL http://idp.example.com/jwks',
     qr/JWTAuthKeysURL: 'http:\/\/idp\.example\.com\/jwks' is not an absolute https URL/],
    ['not a URL', 'JWTAuthKeysURL certs.json', qr/JWTAuthKeysURL: 'certs\.json'/],
    ['a URL with userinfo', 'JWTAuthKeysURL https://u:p@idp.example.com/jwks',
     qr/JWTAuthKeysURL: .* userinfo/],
    ['discovery of an http issuer elsewhere',
     'JWTAuthDiscovery http://idp.example.com/realms/a',
     qr/JWTAuthDiscovery: the issuer 'http:\/\/idp\.example\.com\/realms\/a'/],
    ['discovery with an ftp metadata URL',
     'JWTAuthDiscovery https://idp.example.com ftp://idp.example.com/m',
     qr/JWTAuthDiscovery: 'ftp:/],
    ['refresh 0', 'JWTAuthKeysRefresh 0', qr/JWTAuthKeysRefresh: '0' is not a whole number/],
    ['refresh not a number', 'JWTAuthKeysRefresh 5m', qr/JWTAuthKeysRefresh: '5m'/],
    ['max stale negative', 'JWTAuthKeysMaxStale -1', qr/JWTAuthKeysMaxStale: '-1'/],
    ['timeout too long', 'JWTAuthKeysTimeout 301', qr/JWTAuthKeysTimeout: '301' is not a whole number from 1 to 300/],
    ['CA file missing', 'JWTAuthKeysCAFile /nonexistent/ca.pem',
     qr/JWTAuthKeysCAFile: '\/nonexistent\/ca\.pem' is not a readable file/],
    ['store in a section', "<Location /x>\nJWTAuthKeysStore /tmp/x\n</Location>",
     qr/JWTAuthKeysStore .*not allowed/],
    ['one URL, two CA files',
     "<Location /a>\nJWTAuth On\nJWTAuthKeysURL https://idp.example.com/jwks\n"
     . "JWTAuthKeysCAFile $ca\n</Location>\n<Location /b>\nJWTAuth On\n"
     . "JWTAuthKeysURL https://idp.example.com/jwks\n</Location>",
     qr/names https:\/\/idp\.example\.com\/jwks with JWTAuthKeysCAFile unset.*one URL is one source/],
);
for my $row (@syntax) {
    my ($name, $lines, $re) = @$row;
    my ($rc, $out) = apache_t([], $lines);
    isnt($rc, 0, "apachectl -t refuses: $name");
    like($out, $re, "and names the directive: $name");
}

# apachectl -t needs no network: an unreachable IdP, only remote keys
{
    my $t0 = time;
    my ($rc, $out) = apache_t([], '<Location /api>', 'JWTAuth On',
        'JWTAuthKeysURL https://idp.invalid/jwks',
        "JWTAuthDiscovery https://127.0.0.1:$dead/realms/x",
        'JWTAuthKeysTimeout 30', '</Location>');
    is($rc, 0, 'apachectl -t passes with unreachable key URLs and no '
       . 'other key') or diag $out;
    cmp_ok(time - $t0, '<', 5, 'and fetches nothing (well under the '
           . 'timeout)');
}

# ---- the main server: several children, several scopes -----------------
my $store = "$dir/store";
my $cafile = "JWTAuthKeysCAFile $ca";
my @main = (
    $cafile, 'JWTAuthKeysTimeout 2', "JWTAuthKeysStore $store",
    # discovery, refreshed every 2 s (rotation, failure kinds)
    '<Location /d0>', 'JWTAuth On', "JWTAuthDiscovery $iss0",
    'JWTAuthKeysRefresh 2', '</Location>',
    # a JWK Set bound to issuer 1, default refresh (the refetch limit)
    '<Location /u1>', 'JWTAuth On',
    'JWTAuthKeysURL ' . $idp->jwks_url(1) . " $iss1", '</Location>',
    # two IdPs in one scope
    '<Location /both>', 'JWTAuth On', "JWTAuthDiscovery $iss0",
    "JWTAuthDiscovery $iss1", '</Location>',
    # a section's own list replaces the inherited one
    '<Location /both/only1>', "JWTAuthKeysURL " . $idp->jwks_url(1) . " $iss1",
    '</Location>',
    # RFC 9728 metadata of the two-IdP scope: both discovered issuers
    '<Location /both/meta>', 'JWTAuth Off',
    'SetHandler jwtauth-resource-metadata',
    'JWTAuthResource https://api.example.com/both', '</Location>',
    # RFC 8414's metadata URL
    '<Location /rfc8414>', 'JWTAuth On',
    "JWTAuthDiscovery $iss0 " . $idp->rfc8414_url(0), '</Location>',
    # nothing listens: never a key
    '<Location /dead>', 'JWTAuth On',
    "JWTAuthKeysURL https://127.0.0.1:$dead/jwks", '</Location>',
    '<Location /deadopt>', 'JWTAuth Optional',
    "JWTAuthKeysURL https://127.0.0.1:$dead/jwks", '</Location>',
    # the IdP's certificate for another name, and a self-signed one
    '<Location /wronghost>', 'JWTAuth On',
    'JWTAuthKeysURL https://127.0.0.1:' . $idp->port('wronghost')
    . '/realms/r1/certs', '</Location>',
    '<Location /untrusted>', 'JWTAuth On',
    'JWTAuthKeysURL https://127.0.0.1:' . $idp->port('untrusted')
    . '/realms/r1/certs', '</Location>',
    # issuer 2's set (by the name localhost), stale after 3 s
    '<Location /stale>', 'JWTAuth On',
    "JWTAuthKeysURL https://localhost:$https/realms/r2/certs",
    'JWTAuthKeysRefresh 1', 'JWTAuthKeysMaxStale 3', '</Location>',
);
my $srv = KeysServer->start(dir => $dir, name => 'main', children => 3,
                            lines => \@main);
my @kids = $srv->children;
cmp_ok(scalar(@kids), '>=', 3, 'the server runs several children');

my $t0 = $idp->token(realm => 'r0');
my $t1 = $idp->token(realm => 'r1');
# issuer 0 claimed, signed with issuer 1's key
my $cross = $idp->token(realm => 'r1', claims => { iss => $iss0 });

# [path, token, status, what]
my @scopes = (
    ['/d0/', $t0, 200, 'discovery: a token of its issuer'],
    ['/d0/', $t1, 401, 'discovery: a token of another IdP'],
    ['/u1/', $t1, 200, 'JWTAuthKeysURL with its issuer'],
    ['/u1/', $t0, 401, 'JWTAuthKeysURL: a token of another issuer'],
    ['/both/', $t0, 200, 'two IdPs: the first'],
    ['/both/', $t1, 200, 'two IdPs: the second'],
    ['/both/', $cross, 401, 'two IdPs: issuer 0 claimed, signed by '
     . "issuer 1's key (bound to issuer 1)"],
    ['/both/only1/', $t0, 401, "a section's list replaces the inherited one"],
    ['/both/only1/', $t1, 200, "and serves its own keys"],
    ['/d0/', undef, 401, 'no token'],
    ['/rfc8414/', $t0, 200, "RFC 8414's metadata document"],
);
for my $row (@scopes) {
    my ($path, $tok, $status, $what) = @$row;
    is($srv->get($path, $tok)->{status}, $status, "$path: $what");
}

# RFC 9728: the scope's authorization_servers are its discovered issuers
{
    my $r = $srv->get('/both/meta');
    my $doc = eval { JSON::PP->new->decode($r->{content}) } || {};
    is_deeply($doc->{authorization_servers}, [$iss0, $iss1],
              'resource metadata: JWTAuthDiscovery issuers are the '
              . 'authorization_servers') or diag($r->{content});
}

# 503: a scope whose only keys are a set never fetched
{
    my $r = $srv->get('/dead/', $t0);
    is($r->{status}, 503, '/dead: 503 when no set was ever fetched');
    like($r->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After');
    is($r->{content}, '{"message": "Token keys are unavailable!"}',
       'and the JSON message');
    # without a token the client is at fault: the seed's 401, and under
    # Optional an anonymous request
    is($srv->get('/dead/')->{status}, 401, 'a request without a token: 401');
    is($srv->get('/deadopt/')->{status}, 200,
       'JWTAuth Optional, no token: served anonymously');
    is($srv->get('/deadopt/', $t0)->{status}, 503,
       'JWTAuth Optional with a token: 503');
}
for my $p (['/wronghost/', 'host name mismatch'],
           ['/untrusted/', 'unknown CA']) {
    is($srv->get($p->[0], $t1)->{status}, 503,
       "$p->[0]: a set behind a bad certificate ($p->[1]) is never taken");
}
like($srv->log, qr/wronghost|127\.0\.0\.1:\d+\/realms\/r1\/certs: .*(?:SSL|certificate|subject)/i,
     'the certificate failure is logged with the URL');

# rotation without a restart: a new key's tokens pass within seconds, a
# removed key's are refused
sub wait_status {
    my ($path, $tok, $want, $limit) = @_;
    my $start = time;
    while (time - $start < $limit) {
        return time - $start if $srv->get($path, $tok)->{status} == $want;
        sleep 0.25;
    }
    return undef;
}
{
    $idp->rotate(realm => 'r0', kty => 'EC', keep => 0);
    my $new = $idp->token(realm => 'r0');
    my $secs = wait_status('/d0/', $new, 200, 8);
    ok(defined $secs, "a new key's token is accepted without a restart"
       . (defined $secs ? sprintf(' (after %.1f s)', $secs) : ''));
    my $gone = wait_status('/d0/', $t0, 401, 8);
    ok(defined $gone, "the removed key's token is refused");
    # by every thread of every child: no cache serves it
    my $served = grep { $srv->get('/d0/', $t0)->{status} != 401 } 1 .. 40;
    is($served, 0, "no validated-token cache serves the removed key's "
       . 'token');
    is($srv->get('/both/', $new)->{status}, 200,
       'the other scope of that IdP switched too');
    $t0 = $new;
}

# every child switched: 40 requests over the children all pass
{
    my $bad = grep { $srv->get('/d0/', $t0)->{status} != 200 } 1 .. 40;
    is($bad, 0, 'every child serves the new set');
}

# an unknown kid makes the fetcher fetch early: /u1 refreshes every 300 s,
# yet a key published now serves within seconds
{
    sleep 10;       # past the 10 s limit of earlier unknown kids
    $idp->rotate(realm => 'r1', kty => 'EC', keep => 1);
    my $new = $idp->token(realm => 'r1');
    my $secs = wait_status('/u1/', $new, 200, 6);
    ok(defined $secs, 'an unknown kid brings an early fetch: the new key '
       . 'serves' . (defined $secs ? sprintf(' after %.1f s', $secs) : ''));
}

# the unknown-kid limit: 100 tokens with kids no key has, over 6 s (the
# fetcher looks each second), cost at most one fetch per 10 s
{
    sleep 1;
    $idp->reset_counts;
    my $start = time;
    my @st;
    # issuer 1's token with another kid in its header: no key has it
    my ($h, $rest) = split /\./, $t1, 2;
    my $hdr = json_decode(unb64u($h));
    for my $i (1 .. 100) {
        $hdr->{kid} = sprintf 'random-%d-%d', $$, $i;
        push @st, $srv->get('/u1/', b64u(json_encode($hdr)) . ".$rest")
                      ->{status};
        sleep 0.06;
    }
    sleep 2;
    my $elapsed = time - $start;
    my $n = $idp->count(realm => 'r1', path => 'jwks');
    is(scalar(grep { $_ != 401 } @st), 0, 'each token of an unknown kid '
       . 'is refused at once (401)');
    cmp_ok($n, '<=', 1 + int($elapsed / 10), sprintf('100 unknown kids in '
           . '%.1f s: %d fetches (at most one per 10 s)', $elapsed, $n));
    is($srv->get('/u1/', $t1)->{status}, 200, 'the known key still serves');
}

# each failure kind: the last good set serves, the fetch was tried
sub tried {
    my ($path, $before, $limit) = @_;
    my $start = time;
    while (time - $start < $limit) {
        return 1 if $idp->count(realm => 'r0', path => $path) > $before;
        sleep 0.2;
    }
    return 0;
}
my $ok_before = $srv->metric('jwtauth_key_fetches_total{result="error"}');
my $log_before = length $srv->log;
my @kinds = (
    ['jwks', 'status500'], ['jwks', 'status404'], ['jwks', 'notjson'],
    ['jwks', 'empty'], ['jwks', 'nosig'], ['jwks', 'big'],
    ['jwks', 'redirect'], ['jwks', 'redirect_other'], ['jwks', 'close'],
    ['discovery', 'badissuer'], ['discovery', 'status500'],
);
for my $k (@kinds) {
    my ($path, $mode) = @$k;
    $idp->mode(realm => 'r0', path => $path, mode => $mode);
    # wait for a fetch that starts after the mode is set (backoff <= 2 s)
    my $before = $idp->count(realm => 'r0', path => $path);
    my $tried = tried($path, $before + 1, 8);
    is($srv->get('/d0/', $t0)->{status}, 200, "$path $mode: the last good "
       . 'set serves' . ($tried ? '' : ' (no fetch seen!)'));
    $idp->mode(realm => 'r0', path => $path, mode => 'ok');
}
{
    my $log = substr($srv->log, $log_before);
    my $warn = () = $log =~ /\[jwtauth:warn\].*fetching the keys failed/g;
    is($warn, 1, 'one warning for the whole failure streak');
    like($log, qr/redirects are refused/, 'a redirect is a failure');
    like($log, qr/larger than 1048576 bytes/, 'so is a document over 1 MB');
    like($log, qr/its issuer is not exactly \Q$iss0\E/,
         'and a discovery document of another issuer');
    cmp_ok($srv->metric('jwtauth_key_fetches_total{result="error"}'), '>',
           $ok_before, 'failed fetches are counted');
}

# a hanging fetch: requests as fast as before
{
    my $lat = sub {
        my $max = 0;
        for (1 .. 20) {
            my $s = time;
            $srv->get('/d0/', $t0);
            $max = time - $s if time - $s > $max;
        }
        return $max;
    };
    my $before = $lat->();
    my $c = $idp->count(realm => 'r0', path => 'jwks');
    $idp->mode(realm => 'r0', path => 'jwks', mode => 'hang',
               seconds => 30);
    tried('jwks', $c, 8);
    my $during = $lat->();
    is($srv->get('/d0/', $t0)->{status}, 200, 'during a hanging fetch the '
       . 'set serves');
    cmp_ok($during, '<', $before + 0.5, sprintf('and requests are as fast '
           . '(slowest %.3f s, before %.3f s)', $during, $before));
    $idp->mode(realm => 'r0', path => 'jwks', mode => 'ok');
}

# metrics: fetches and the keys of each remote set
{
    cmp_ok($srv->metric('jwtauth_key_fetches_total{result="ok"}'), '>=', 1,
           'good fetches are counted');
    my @kids = $idp->kids(realm => 'r1');
    is($srv->metric('jwtauth_keys{source="' . $idp->jwks_url(1) . '"}'),
       scalar(@kids), 'jwtauth_keys{source=<url>} gives the keys of a '
       . 'remote set (its signing keys)');
    is($srv->metric("jwtauth_keys{source=\"https://127.0.0.1:$dead/jwks\"}"),
       0, 'and 0 for one never fetched');
    cmp_ok($srv->metric('jwtauth_requests_total{result="keys_unavailable"}'),
           '>=', 3, 'the 503s count as keys_unavailable');
}

# one fetcher for the whole server: with a 2 s refresh, about one fetch of
# issuer 0's discovery document per 2 s, whatever the children
{
    sleep 3;      # after the hang's recovery
    my $c = $idp->count(realm => 'r0', path => 'discovery');
    sleep 8;
    my $n = $idp->count(realm => 'r0', path => 'discovery') - $c;
    my $kids = () = $srv->children;
    cmp_ok($n, '<=', 5, "$kids children, 8 s, refresh 2 s: $n fetches "
           . '(one fetcher)');
    cmp_ok($n, '>=', 3, 'and the refresh does run');
}

# JWTAuthKeysMaxStale: the last good set serves 3 s, then 503
{
    my $t2 = $idp->token(realm => 'r2');
    is($srv->get('/stale/', $t2)->{status}, 200, '/stale serves while '
       . 'fetches succeed');
    $idp->mode(realm => 'r2', path => 'jwks', mode => 'status500');
    my $secs = wait_status('/stale/', $t2, 503, 10);
    ok(defined $secs, 'past JWTAuthKeysMaxStale the set is dropped: 503'
       . (defined $secs ? sprintf(' (after %.1f s)', $secs) : ''));
    is($srv->get('/u1/', $t1)->{status}, 200, 'while the other sources '
       . 'still serve');
    # the fetcher says so at its next look (each second)
    my ($logged, $re) = (0, qr/JWTAuthKeysMaxStale\): its keys are dropped/);
    for (1 .. 20) {
        last if ($logged = $srv->log =~ $re);
        sleep 0.2;
    }
    ok($logged, 'the drop is logged');
    $idp->mode(realm => 'r2', path => 'jwks', mode => 'ok');
    my $back = wait_status('/stale/', $t2, 200, 10);
    ok(defined $back, 'the next good fetch serves again');
}

# a graceful restart keeps serving the keys it had, IdP failing
{
    $idp->mode(realm => 'r0', path => 'discovery', mode => 'status500');
    ok($srv->graceful, 'graceful restart');
    is($srv->get('/d0/', $t0)->{status}, 200, 'after a graceful restart '
       . 'the stored keys serve while the IdP fails');
    $idp->mode(realm => 'r0', path => 'discovery', mode => 'ok');
}
$srv->stop;

# one URL in two virtual hosts is one source: fetched once at startup
{
    my $port = KeysServer::free_port();
    my @vh = map { ("<VirtualHost 127.0.0.1:$port>", "ServerName $_.test",
                    '<Location /api>', 'JWTAuth On',
                    'JWTAuthKeysURL ' . $idp->jwks_url(1) . " $iss1",
                    '</Location>', '</VirtualHost>') } qw(a b);
    $idp->reset_counts;
    my $s = KeysServer->start(dir => $dir, name => 'vhosts', port => $port,
        lines => [$cafile, "JWTAuthKeysStore $dir/store3", @vh]);
    my @st = map { $s->get('/api/', $t1, Host => "$_.test")->{status} }
             qw(a b);
    is_deeply(\@st, [200, 200], 'both virtual hosts serve the set');
    is($idp->count(realm => 'r1', path => 'jwks'), 1, 'fetched once for '
       . 'both');
    $s->stop;
}

# startup with nothing stored waits at most the timeout of a hanging IdP,
# however many sources hang: all startup fetches share one timeout
{
    $idp->mode(realm => $_, path => 'jwks', mode => 'hang', seconds => 30)
        for qw(r1 r2);
    my $s = KeysServer->start(dir => $dir, name => 'hang', lines => [
        $cafile, 'JWTAuthKeysTimeout 2', "JWTAuthKeysStore $dir/store2",
        '<Location /api>', 'JWTAuth On',
        'JWTAuthKeysURL ' . $idp->jwks_url(1), '</Location>',
        '<Location /api2>', 'JWTAuth On',
        'JWTAuthKeysURL ' . $idp->jwks_url(2), '</Location>']);
    cmp_ok($s->startup_seconds, '<', 3.8, sprintf('startup with two '
           . 'hanging sources and an empty store took %.1f s (timeout 2 s '
           . 'for all of them)', $s->startup_seconds));
    is($s->get('/api/', $t1)->{status}, 503, 'and its scope answers 503');
    $s->stop;
    $idp->mode(realm => $_, path => 'jwks', mode => 'ok') for qw(r1 r2);
}

# a cold start from the store with the IdP down
$idp->stop;
{
    my $s = KeysServer->start(dir => $dir, name => 'main2', children => 1,
                              lines => \@main);
    is($s->get('/d0/', $t0)->{status}, 200, 'IdP down: discovery keys from '
       . 'the store');
    is($s->get('/u1/', $t1)->{status}, 200, 'IdP down: a JWK Set from the '
       . 'store');
    is($s->get('/dead/', $t0)->{status}, 503, 'nothing stored: still 503');
    like($s->log, qr/keys from the store/, 'the store is named in the log');
    $s->stop;
}
