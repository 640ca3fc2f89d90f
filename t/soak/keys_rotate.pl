#!/usr/bin/perl
# Soak of remote key sets (issue 10): the test IdP (t/idp) rotates issuer
# r0's keys every second for SECONDS (first argument, default 60) while
# wrk drives a private httpd (t/lib/KeysServer.pm, 2 children) whose
# scope takes its keys from JWTAuthDiscovery with JWTAuthKeysRefresh 1:
# every second a new key is published and the one published 5 s before
# is removed, so every child swaps its set every second or so.
#   - wrk cycles tokens of 3 keys that stay published: pass = 0 non-2xx,
#     no socket error;
#   - a second client, each second, sends a token of the churning key
#     published 3 s before (still published): pass = all 200;
#   - resident memory of httpd after the run within 5 % (+2 MB for the
#     allocator's slack) of what it was after warm-up.
# Prints the figures (rotations, fetches counted at the IdP, requests,
# memory); exits non-zero on any failure.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use TestIdP;
use KeysServer;

my $secs = shift // 60;
my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $idp = TestIdP->start(dir => "$dir/idp", issuers => 1);
chmod 0755, "$dir/idp";
chmod 0644, $idp->ca;

# 3 keys that stay: the first RSA key and two EC ones
my @stable = @{ [$idp->kids(realm => 'r0')] };
push @stable, $idp->rotate(realm => 'r0', kty => 'EC', keep => 1) for 1 .. 2;
my @tokens = map { scalar $idp->token(realm => 'r0', kid => $_,
                                      claims => { exp => time + 3600 }) }
             @stable;

my $srv = KeysServer->start(dir => $dir, name => 'soak', children => 2,
    lines => ['MaxKeepAliveRequests 0', 'MaxConnectionsPerChild 0',
              'JWTAuthKeysCAFile ' . $idp->ca, 'JWTAuthKeysRefresh 1',
              "JWTAuthKeysStore $dir/store", '<Location /api>',
              'JWTAuth On', 'JWTAuthDiscovery ' . $idp->issuer(0),
              '</Location>']);
my $url = 'http://127.0.0.1:' . $srv->port;
my $fail = 0;

sub rss {
    my $total = 0;
    for my $pid ($srv->pid, $srv->children) {
        open my $fh, '<', "/proc/$pid/status" or next;
        while (<$fh>) {
            $total += $1 if /^VmRSS:\s+(\d+)/;
        }
    }
    return $total;
}

my $lua = "$dir/tokens.lua";
open my $fh, '>', $lua or die $!;
print $fh "tokens = {", join(', ', map { "\"$_\"" } @tokens), "}\n",
    "i = 0\n",
    "request = function()\n",
    "  i = i % #tokens + 1\n",
    "  return wrk.format('GET', '/api/', {['Authorization'] = "
    . "'Bearer ' .. tokens[i]})\n",
    "end\n";
close $fh;

# warm-up: every thread of every child verifies, a few rotations
system("wrk -t2 -c16 -d3s -s $lua $url/api/ > /dev/null") == 0
    or die "wrk: $?";
sleep 1;
my $rss0 = rss();
$idp->reset_counts;

my $pid = fork // die "fork: $!";
if (!$pid) {
    exec("wrk -t1 -c4 -d${secs}s -s $lua $url/api/ > $dir/wrk.txt 2>&1");
    exit 127;
}
# rotate each second; churn keys live 5 s
my (@churn, %born);
my ($rotations, $checked, $late) = (0, 0, 0);
my $end = time + $secs;
while (time < $end) {
    my $tick = time;
    my $kid = $idp->rotate(realm => 'r0', kty => 'EC', keep => 1);
    $rotations++;
    push @churn, $kid;
    $born{$kid} = time;
    if (@churn > 5) {
        my $old = shift @churn;
        $idp->remove(realm => 'r0', kid => $old);
        delete $born{$old};
    }
    # the key published 3 s ago (still published) serves by now
    for my $k (@churn) {
        next unless time - $born{$k} >= 3 && time - $born{$k} < 4;
        my $t = $idp->token(realm => 'r0', kid => $k);
        my $st = $srv->get('/api/', $t)->{status};
        $checked++;
        $late++ if $st != 200;
    }
    my $rest = 1 - (time - $tick);
    sleep $rest if $rest > 0;
}
waitpid($pid, 0);
sleep 2;
my $rss1 = rss();
my $fetches = $idp->count(realm => 'r0', path => 'jwks');

open $fh, '<', "$dir/wrk.txt" or die $!;
my $report = do { local $/; <$fh> };
my ($req) = $report =~ /(\d+) requests in/;
my ($non2xx) = $report =~ /Non-2xx or 3xx responses: (\d+)/;
my ($sockerr) = (0);
if ($report =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
    $sockerr = $1 + $2 + $3 + $4;
}
$non2xx //= 0;
printf "keys_rotate: %d s, %d rotations, %d JWKS fetches at the IdP, "
     . "%d requests (%d non-2xx, %d socket errors), %d fresh-key checks "
     . "(%d refused), RSS %d kB -> %d kB (%+.1f %%)\n",
    $secs, $rotations, $fetches, $req // 0, $non2xx, $sockerr, $checked,
    $late, $rss0, $rss1, $rss0 ? 100 * ($rss1 - $rss0) / $rss0 : 0;
if (!$req || $non2xx || $sockerr) {
    print "keys_rotate: FAIL: wrk requests failed\n$report";
    $fail = 1;
}
if ($late) {
    print "keys_rotate: FAIL: $late tokens of keys published 3 s before "
        . "were refused\n";
    $fail = 1;
}
if ($rss1 > $rss0 * 1.05 + 2048) {
    print "keys_rotate: FAIL: memory grew\n";
    $fail = 1;
}
if ($fetches < $secs / 2) {
    print "keys_rotate: FAIL: only $fetches fetches\n";
    $fail = 1;
}
my $log = $srv->log;
if ($log =~ /\[(?:core:error|mpm_event:error)\].*(?:Segmentation|exit signal)/) {
    print "keys_rotate: FAIL: a child crashed\n";
    $fail = 1;
}
$srv->stop;
$idp->stop;
print $fail ? "keys_rotate: FAIL\n" : "keys_rotate: PASS\n";
exit $fail;
