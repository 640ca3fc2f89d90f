#!/bin/bash
# Soak: load and faults against a private httpd on 127.0.0.1, bounded by
# SECONDS (first argument) per phase.
#   1. wrk drives /hs256/file.html (1 KB, valid HS256 token) while a second
#      client mixes invalid tokens, missing tokens and /login calls.
#      Pass: every wrk request 2xx, no socket error, every mixed answer
#      as expected, no crashed child, resident memory of httpd after the
#      run within 10 % (+1 MB) of what it was after warm-up.
#   2. The same wrk load (Connection: close) while `apachectl -k graceful`
#      (SIGUSR1) runs every second.  Pass: no failed request.  A request
#      may wait up to a second while httpd swaps generations (the same
#      with or without the module), so wrk's timeout is 10 s here.
# Prints the figures; exits non-zero on any failure.
set -uo pipefail
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
run="$top/t/soak/run"
source "$top/t/soak/server.sh"

server_start || exit 1
tok=$(make_token 3600)
url="http://127.0.0.1:$port"
fail=0

rss() {  # resident memory of the whole server, kB
    local total=0 p
    for p in $(pgrep -f "$run/httpd.conf"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
    done
    echo $total
}
wrk_field() {  # requests, non2xx, sockerr from a wrk report
    local f=$1
    local req non sock
    req=$(awk '/requests in/ {print $1}' "$f")
    non=$(awk -F': ' '/Non-2xx/ {print $2}' "$f")
    sock=$(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$f" | awk '{print $1+$2+$3+$4}')
    echo "${req:-0} ${non:-0} ${sock:-0}"
}

# warm-up on every worker thread (each keeps its own token cache), and
# the login path once, then the baseline memory
wrk -t2 -c64 -d3s -H "x-access-token: $tok" "$url/hs256/file.html" >/dev/null
for i in 1 2 3 4 5; do
    curl -s -o /dev/null -H "Authorization: Basic ZGFlaGFuOjEyMzQ=" "$url/login"
done
sleep 1
rss0=$(rss)

# phase 1: load plus a mixing client
wrk -t2 -c16 -d"${secs}s" -H "x-access-token: $tok" \
    "$url/hs256/file.html" > "$run/wrk1.txt" &
wpid=$!
mix=$(perl -MHTTP::Tiny -e '
    my ($url, $secs) = @ARGV;
    my $h = HTTP::Tiny->new(timeout => 10, keep_alive => 1);
    my ($n, $bad, $i) = (0, 0, 0);
    my $end = time + $secs;
    while (time < $end) {
        my $k = $i++ % 3;
        my $r = $k == 0 ? $h->get("$url/hs256/file.html",
                                  { headers => { "x-access-token" => "a.b.c" } })
              : $k == 1 ? $h->get("$url/hs256/file.html")
              :           $h->get("$url/login", { headers => {
                              Authorization => "Basic ZGFlaGFuOjEyMzQ=" } });
        my $want = $k == 2 ? 200 : 401;
        $n++;
        $bad++ if $r->{status} != $want;
    }
    print "$n $bad\n";' "$url" "$secs")
wait $wpid
rss1=$(rss)
read -r req1 non1 sock1 <<< "$(wrk_field "$run/wrk1.txt")"
read -r mixn mixbad <<< "$mix"
rate1=$(awk '/Requests\/sec/ {print $2}' "$run/wrk1.txt")
limit=$((rss0 * 110 / 100 + 1024))
printf 'phase 1 (%ss): wrk %s requests (%s/s), non-2xx %s, socket errors %s; mixed client %s requests, %s unexpected\n' \
    "$secs" "$req1" "$rate1" "$non1" "$sock1" "$mixn" "$mixbad"
printf 'phase 1: httpd resident memory %s kB after warm-up, %s kB after the run (bound %s kB)\n' \
    "$rss0" "$rss1" "$limit"
[ "$non1" = 0 ] && [ "$sock1" = 0 ] && [ "$mixbad" = 0 ] && [ "$mixn" -gt 0 ] \
    && [ "$req1" -gt 0 ] || { echo "soak: phase 1 had failures"; fail=1; }
[ "$rss1" -le "$limit" ] || { echo "soak: memory grew beyond the bound"; fail=1; }

# phase 2: the same load while the server reloads every second
wrk -t2 -c16 -d"${secs}s" --timeout 10s -H "x-access-token: $tok" \
    -H "Connection: close" \
    "$url/hs256/file.html" > "$run/wrk2.txt" &
wpid=$!
graceful=0
for ((i = 1; i < secs; i++)); do
    sleep 1
    kill -USR1 "$(cat "$run/httpd.pid")" && graceful=$((graceful + 1))
done
wait $wpid
read -r req2 non2 sock2 <<< "$(wrk_field "$run/wrk2.txt")"
lat2=$(awk '/Latency/ {print $4}' "$run/wrk2.txt")
printf 'phase 2 (%ss, %s graceful restarts): wrk %s requests, non-2xx %s, socket errors %s, slowest %s\n' \
    "$secs" "$graceful" "$req2" "$non2" "$sock2" "$lat2"
[ "$non2" = 0 ] && [ "$sock2" = 0 ] && [ "$req2" -gt 0 ] \
    || { echo "soak: phase 2 had failures"; fail=1; }

if grep -E "exit signal|Segmentation|AH00052|AH00060" "$run/error_log"; then
    echo "soak: a child crashed"
    fail=1
fi
server_stop
[ $fail = 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit $fail
