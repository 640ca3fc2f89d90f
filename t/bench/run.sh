#!/bin/bash
# make bench: one event-MPM Apache on 127.0.0.1 serving the same 1 KB file
# at every Location; wrk (-t2 -c32, BENCH_SECONDS each, default 8, as in
# the issue's peer table) drives them in alternating rounds (BENCH_ROUNDS,
# default 3: A B C ... A B C ...).  Prints requests/s (median) per
# Location and its ratio to the unguarded file in the same round (median
# of the rounds), then /login against plain Basic auth with the same
# provider and bcrypt cost, and httpd's resident memory before and after;
# then, free of wrk's noise, the instructions httpd spends per request at
# each Location under callgrind (BENCH_IR=0 skips it).  Peers (mod_oauth2,
# mod_auth_openidc) run where Debian's packages install; else skipped
# with the reason.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
run="$top/t/bench/run/server"
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
source "$top/t/soak/server.sh"
mkdir -p "$run"

# keys for every algorithm the bench covers
k="$run/keys"
mkdir -p "$k"
[ -s "$k/rsa.key" ] || openssl genpkey -quiet -algorithm RSA \
    -pkeyopt rsa_keygen_bits:2048 -out "$k/rsa.key"
[ -s "$k/ec.key" ] || openssl genpkey -quiet -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$k/ec.key"
[ -s "$k/ed.key" ] || openssl genpkey -quiet -algorithm ED25519 -out "$k/ed.key"
for x in rsa ec ed; do openssl pkey -in "$k/$x.key" -pubout -out "$k/$x.pub"; done
[ -s "$k/rsa.crt" ] || openssl req -x509 -new -key "$k/rsa.key" \
    -subj /CN=bench -days 30 -out "$k/rsa.crt" 2>/dev/null
chmod -R a+rX "$k"

locs="open hs256"
conf=""
for spec in rs256:RS256:rsa ps256:PS256:rsa es256:ES256:ec eddsa:EdDSA:ed; do
    IFS=: read -r name alg key <<< "$spec"
    locs="$locs $name $name-nocache"
    conf="$conf
<Location /$name>
    JWTAuth On
    JWTAuthKeyFile \"$k/$key.pub\"
    JWTAuthAlgorithms $alg
</Location>
<Location /$name-nocache>
    JWTAuth On
    JWTAuthKeyFile \"$k/$key.pub\"
    JWTAuthAlgorithms $alg
    JWTAuthCache Off
</Location>"
done

# peers: HS256 and RS256 tokens in Authorization: Bearer, where installed
sh "$top/build/deps.sh" libapache2-mod-oauth2 libapache2-mod-auth-openidc \
    >/dev/null 2>&1 || true
libexec=$(apxs -q LIBEXECDIR)
mods=""
peer_note=""
secret_placeholder="@SECRET@"
if [ -f "$libexec/mod_oauth2.so" ]; then
    mods="$mods
LoadModule oauth2_module $libexec/mod_oauth2.so"
    locs="$locs oauth2-hs256 oauth2-hs256-nocache oauth2-rs256"
    rsjwk=$(perl -MCrypt::PK::RSA -MJSON::PP -e '
        print JSON::PP->new->canonical->encode(
            Crypt::PK::RSA->new($ARGV[0])->export_key_jwk("public", 1))' "$k/rsa.pub")
    conf="$conf
<Location /oauth2-hs256>
    AuthType oauth2
    OAuth2TokenVerify plain $secret_placeholder verify.exp=required
    Require valid-user
</Location>
<Location /oauth2-hs256-nocache>
    AuthType oauth2
    OAuth2TokenVerify plain $secret_placeholder verify.exp=required&expiry=0
    Require valid-user
</Location>
<Location /oauth2-rs256>
    AuthType oauth2
    OAuth2TokenVerify jwk '$rsjwk' verify.exp=required
    Require valid-user
</Location>"
else
    peer_note="$peer_note mod_oauth2: libapache2-mod-oauth2 not installable here;"
fi
if [ -f "$libexec/mod_auth_openidc.so" ]; then
    mods="$mods
LoadModule auth_openidc_module $libexec/mod_auth_openidc.so"
    locs="$locs openidc-hs256 openidc-rs256"
    conf="$conf
OIDCCryptoPassphrase bench-passphrase-not-a-secret
OIDCOAuthRemoteUserClaim sub
# server-wide in mod_auth_openidc: the key is picked by the token's alg
OIDCOAuthVerifySharedKeys plain##$secret_placeholder
OIDCOAuthVerifyCertFiles \"$k/rsa.crt\"
<Location /openidc-hs256>
    AuthType oauth20
    Require valid-user
</Location>
<Location /openidc-rs256>
    AuthType oauth20
    Require valid-user
</Location>"
else
    peer_note="$peer_note mod_auth_openidc: libapache2-mod-auth-openidc not installable here;"
fi

export BENCH_DIRS="$locs basic"
export EXTRA_MODULES="$mods"
# the secret is made by server_start: fill it in afterwards
export EXTRA_CONF="$conf"
server_start_bench() {
    server_start || return 1
    local secret
    secret=$(cat "$run/secret")
    if grep -q "$secret_placeholder" "$run/httpd.conf"; then
        server_stop
        sed -i "s/$secret_placeholder/$secret/g" "$run/httpd.conf"
        "$httpd" -f "$run/httpd.conf" -k start || return 1
        for i in $(seq 50); do
            curl -fs -o /dev/null "http://127.0.0.1:$port/open/file.html" && return 0
            sleep 0.2
        done
        return 1
    fi
}
server_start_bench || { echo "bench: server did not start"; tail "$run/error_log"; exit 1; }

tok_hs=$(make_token 3600)
tok() {  # a token for algorithm $1 signed with key file $2
    perl -MCrypt::JWT=encode_jwt -MCrypt::PK::RSA -MCrypt::PK::ECC \
         -MCrypt::PK::Ed25519 -e '
        my ($alg, $file) = @ARGV;
        my $k = $alg =~ /^[RP]S/ ? Crypt::PK::RSA->new($file)
              : $alg eq "EdDSA" ? Crypt::PK::Ed25519->new($file)
              : Crypt::PK::ECC->new($file);
        print encode_jwt(payload => { sub => "daehan", exp => time + 3600,
            iat => time, jti => "bench-token-0001", iss => "bench",
            roles => ["reader", "editor"] }, alg => $alg, key => $k);
    ' "$1" "$2"
}
declare -A header
header[open]=""
header[hs256]="x-access-token: $tok_hs"
for spec in rs256:RS256:rsa ps256:PS256:rsa es256:ES256:ec eddsa:EdDSA:ed; do
    IFS=: read -r name alg key <<< "$spec"
    t=$(tok "$alg" "$k/$key.key")
    header[$name]="x-access-token: $t"
    header[$name-nocache]="x-access-token: $t"
done
tok_rs=$(tok RS256 "$k/rsa.key")
for l in oauth2-hs256 oauth2-hs256-nocache openidc-hs256; do
    header[$l]="Authorization: Bearer $tok_hs"
done
for l in oauth2-rs256 openidc-rs256; do header[$l]="Authorization: Bearer $tok_rs"; done

# every Location must answer 200 with its token before anything is timed
for l in $locs; do
    code=$(curl -s -o /dev/null -w '%{http_code}' ${header[$l]:+-H "${header[$l]}"} \
           "http://127.0.0.1:$port/$l/file.html")
    if [ "$code" != 200 ]; then
        echo "bench: /$l answers $code with its token; left out"
        locs=$(echo " $locs " | sed "s# $l # #")
    fi
done

rss() {
    local total=0 p
    for p in $(pgrep -f "$run/httpd.conf"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
    done
    echo $total
}
wrk_rps() {  # "requests/s failures" of one wrk run
    local out rps bad
    out=$(wrk -t2 -c32 -d"${secs}s" ${2:+-H "$2"} "$1")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    bad=$(echo "$out" | awk -F'[:, ]+' '/Non-2xx/ {n += $NF}
        /Socket errors/ {n += $5 + $7 + $9 + $11} END {print n + 0}')
    echo "${rps:-0} $bad"
}

wrk -t2 -c32 -d2s "http://127.0.0.1:$port/open/file.html" >/dev/null
rss0=$(rss)
res="$run/results.txt"
: > "$res"
for ((r = 1; r <= rounds; r++)); do
    for l in $locs; do
        echo "$r $l $(wrk_rps "http://127.0.0.1:$port/$l/file.html" "${header[$l]}")" >> "$res"
    done
done
# /login (file provider, bcrypt cost 5) against the same provider behind
# AuthType Basic on a static file, alternating
basic="Authorization: Basic ZGFlaGFuOjEyMzQ="
for ((r = 1; r <= rounds; r++)); do
    echo "$r login $(wrk_rps "http://127.0.0.1:$port/login" "$basic")" >> "$res"
    echo "$r basic $(wrk_rps "http://127.0.0.1:$port/basic/file.html" "$basic")" >> "$res"
done
rss1=$(rss)
server_stop

# What each Location costs httpd, free of the wrk noise: the same server
# as one prefork process (httpd -X) under callgrind, counting only inside
# ap_process_connection and dumping after each connection.  Per Location
# one keep-alive connection of 200 requests warms it (caches filled),
# then one of $ir_n (ab -k -c1) is counted.
ir_n=${BENCH_IR_REQUESTS:-1000}
ir="$run/ir.txt"
: > "$ir"
if [ "${BENCH_IR:-1}" = 1 ] && command -v valgrind >/dev/null \
        && command -v ab >/dev/null; then
    sed -e 's#^LoadModule mpm_event_module .*#LoadModule mpm_prefork_module '"$libexec"'/mod_mpm_prefork.so#' \
        -e '/^\(StartServers\|ServerLimit\|ThreadsPerChild\|MinSpareThreads\|MaxSpareThreads\|MaxRequestWorkers\) /d' \
        -e 's#^PidFile .*#PidFile "'"$run"'/cg/httpd.pid"#' \
        "$run/httpd.conf" > "$run/httpd-ir.conf"
    # the process drops to nobody: its dumps go where nobody may write
    rm -rf "$run/cg"
    mkdir -p "$run/cg"
    chmod 1777 "$run/cg"
    valgrind --tool=callgrind --vgdb=no --collect-atstart=no \
        --toggle-collect=ap_process_connection \
        --dump-after=ap_process_connection \
        --callgrind-out-file="$run/cg/cg.out" \
        "$httpd" -X -f "$run/httpd-ir.conf" > "$run/valgrind.log" 2>&1 &
    vg=$!
    for i in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/open/file.html" && break
        sleep 0.3
    done
    # dump n (one per connection) once it is written
    dump_total() {
        local i
        for i in $(seq 100); do
            [ -s "$run/cg/cg.out.$1" ] && grep -q '^totals:' "$run/cg/cg.out.$1" \
                && break
            sleep 0.2
        done
        awk '/^totals:/ {print $2; exit}' "$run/cg/cg.out.$1" 2>/dev/null
    }
    dump_total 1 >/dev/null         # the probe's connection
    part=1
    for l in $locs; do
        url="http://127.0.0.1:$port/$l/file.html"
        h=(); [ -n "${header[$l]}" ] && h=(-H "${header[$l]}")
        ab -q -k -n 200 "${h[@]}" "$url" >/dev/null 2>&1
        part=$((part + 1))
        dump_total "$part" >/dev/null
        ok=$(ab -q -k -n "$ir_n" "${h[@]}" "$url" 2>/dev/null \
             | awk '/^Complete requests/ {c = $3} /^Failed requests/ {f = $3}
                    /^Non-2xx/ {f += $3} END {print c - f}')
        part=$((part + 1))
        total=$(dump_total "$part")
        [ "$ok" = "$ir_n" ] && [ -n "$total" ] \
            && echo "$l $((total / ir_n))" >> "$ir"
    done
    kill -TERM "$vg" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$vg" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$vg" 2>/dev/null
    wait "$vg" 2>/dev/null
fi

echo "mod_jwtauth bench: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "$(apache2 -v 2>/dev/null | head -1 | sed 's/Server version: //'), event MPM 2 x 32 threads;" \
     "wrk -t2 -c32 -d${secs}s, $rounds alternating rounds, loopback"
perl -e '
    my ($file, $ref) = @ARGV;
    my (%rps, %open, @order);
    open my $fh, "<", $file or die;
    my %bad;
    while (<$fh>) {
        my ($r, $l, $v, $b) = split;
        push @order, $l unless exists $rps{$l};
        push @{ $rps{$l} }, [$r, $v];
        $bad{$l} += $b;
        $open{$r} = $v if $l eq "open";
    }
    sub median { my @s = sort { $a <=> $b } @_; $s[$#s / 2] }
    printf "%-22s %12s %10s\n", "Location", "requests/s", "ratio";
    for my $l (@order) {
        my @v = map { $_->[1] } @{ $rps{$l} };
        my $den = $l =~ /^(login|basic)$/ ? undef : 1;
        my @ratio = $den ? map { $open{$_->[0]} ? $_->[1] / $open{$_->[0]} : 0 }
                              @{ $rps{$l} } : ();
        printf "%-22s %12.0f %10s%s\n", "/$l", median(@v),
            @ratio ? sprintf("%.2f", median(@ratio)) : "",
            $bad{$l} ? "   ($bad{$l} failed requests)" : "";
    }
    my %m = map { $_ => median(map { $_->[1] } @{ $rps{$_} }) } qw(login basic);
    printf "/login vs Basic on a static file: %.2f\n",
        $m{basic} ? $m{login} / $m{basic} : 0;
' "$res"
echo "httpd resident memory: $rss0 kB before, $rss1 kB after"
if [ -s "$ir" ]; then
    echo
    echo "instructions per request (httpd -X, prefork, callgrind; $ir_n keep-alive requests after 200 of warm-up)"
    awk '$1 == "open" {o = $2} {l[NR] = $1; v[NR] = $2}
        END {
            printf "%-22s %12s %10s %8s\n", "Location", "instr/req", "added", "x /open"
            for (i = 1; i <= NR; i++)
                printf "%-22s %12d %10d %8.2f\n", "/" l[i], v[i], v[i] - o, v[i] / o
        }' "$ir"
else
    echo "(instructions per request not measured: BENCH_IR=0, or no valgrind or ab)"
fi
[ -n "$peer_note" ] && echo "skipped:$peer_note"
exit 0
