#!/bin/bash
# make bench: one event-MPM Apache on 127.0.0.1 serving the same 1 KB file
# at every Location; wrk (-t2 -c32 --latency, BENCH_SECONDS each, default
# 8, as in the issue's peer table) drives the rows in alternating rounds
# (BENCH_ROUNDS, default 3: A B C ... A B C ...).  Prints per row the
# requests/s (median), its ratio to the unguarded file in the same round
# (median of the rounds) and the p99 latency (median), in groups:
#   one token     the same token over and over (the caches always hit)
#   many users    BENCH_TOKENS distinct tokens (default 20,000) cycled
#                 round-robin by t/bench/tokens.lua, for HS256, RS256,
#                 ES256, EdDSA and the peers, with the same tokens
#   key sets      a JWK Set of 100 keys against a set of 1, uncached,
#                 tokens naming one of the kids
#   features      the many-users HS256 tokens through one feature each
#   revocation    the many-users HS256 tokens through JWTAuthSessionStore
#                 shmcb and redis (a redis-server of its own on
#                 loopback; skipped with the reason where there is none):
#                 one server each, since the store is server-wide, with
#                 the main server's secret and /hs256, and its own /open;
#                 a token revoked there by POST /logout must get 401
#                 first (the check lines), else the row is left out and
#                 the run fails at the end
# and beside their static-key rows, the RS256 tokens (with a kid) through
# JWTAuthKeysURL: a JWK Set that a fourth httpd, the bench's identity
# provider, serves as a static file (timed once a token of it answers
# 200, within 30 s; else left out with the reason);
# then /login against plain Basic auth with the same provider and bcrypt
# cost; the memory step (BENCH_MEM_SECONDS, default 60, about a million
# requests, of the many-users HS256 tokens: httpd's resident memory after
# a tenth and after all); the process caches' own figures (lock
# contention, at exit); and,
# free of wrk's noise, the instructions httpd spends per request under
# callgrind (BENCH_IR=0 skips it), with the module's own share and, for
# the uncached rows, what it adds beyond the algorithm's primitive
# (measured in the same run).  BENCH_MD=1 prints the tables as Markdown too
# (the README's).  Every ratio is to the main server's /open in the same
# round.  BENCH_CACHE_SIZE (default 128M) and BENCH_CACHE_ENTRIES
# (default: the module's) set JWTAuthCacheSize and JWTAuthCacheEntries;
# BENCH_WRK=0 leaves out everything wrk measures (only callgrind).
# Peers (mod_oauth2, mod_auth_openidc) run where
# Debian's packages install; else skipped with the reason.
#
# A row is a few lines: its Location (loc NAME CONF) and how requests
# carry their token (row NAME PATH GROUP SOURCE...), see below.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
run="$top/t/bench/run/server"
secs=${BENCH_SECONDS:-8}
rounds=${BENCH_ROUNDS:-3}
ntok=${BENCH_TOKENS:-20000}
mint="$top/t/bench/mint"
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
# JWK Sets of 1 and of 100 HS256 keys, kids k000...
for n in 1 100; do
    [ -s "$k/set$n.jwks" ] || perl -MMIME::Base64=encode_base64url -e '
        my $n = shift;
        open my $r, "<", "/dev/urandom" or die;
        my @k;
        for my $i (0 .. $n - 1) {
            read $r, my $b, 32;
            push @k, sprintf q({"kty":"oct","alg":"HS256","kid":"k%03d","k":"%s"}),
                $i, encode_base64url($b);
        }
        print "{\"keys\":[", join(",", @k), "]}\n";
    ' "$n" > "$k/set$n.jwks"
done
# the RSA public key as an identity provider publishes it: a JWK Set,
# the key with a kid (the remote rows' tokens name it)
perl -MCrypt::PK::RSA -MJSON::PP -e '
    my $jwk = Crypt::PK::RSA->new($ARGV[0])->export_key_jwk("public", 1);
    print JSON::PP->new->canonical->encode({keys => [{%$jwk,
        kid => "bench-rsa", alg => "RS256", use => "sig"}]}), "\n";
' "$k/rsa.pub" > "$k/rsa-remote.jwks"
chmod -R a+rX "$k"
# secrets: read by httpd as root at startup, by nobody else
chmod 600 "$k"/set*.jwks

# ---- the other servers: srv_start NAME MODULES CONF starts one more from
# the same template under t/bench/run/NAME on a port of its own
# (srv_port[NAME]), with the secret file $SERVER_SECRET if set (the main
# server's: the same tokens pass); srv_stop NAME stops it.  All of them,
# and redis, are stopped on exit.
declare -A srv_port
srv_start() {
    local run="$top/t/bench/run/$1" port
    rm -rf "$run"
    mkdir -p "$run"
    BENCH_DIRS="open hs256" EXTRA_MODULES="$2" EXTRA_CONF="$3" \
        server_start || return 1
    srv_port[$1]=$port
}
srv_stop() {
    local run="$top/t/bench/run/$1"
    server_stop
}
redis_pid=""
cleanup() {
    local s
    for s in "${!srv_port[@]}"; do
        srv_stop "$s"
    done
    server_stop
    [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null
    [ -n "$redis_pid" ] && wait "$redis_pid" 2>/dev/null
    redis_pid=""
}
trap cleanup EXIT
# interrupted: exit, which runs cleanup
trap 'exit 130' INT TERM

# the identity provider: serves the JWK Set at /jwks/rsa.json, up before
# the main server, whose startup fetches it
idp_note=""
if srv_start idp "" ""; then
    mkdir -p "$top/t/bench/run/idp/htdocs/jwks"
    cp "$k/rsa-remote.jwks" "$top/t/bench/run/idp/htdocs/jwks/rsa.json"
    chmod -R a+rX "$top/t/bench/run/idp/htdocs"
    jwks_url="http://127.0.0.1:${srv_port[idp]}/jwks/rsa.json"
else
    idp_note="the identity provider's httpd did not start (see t/bench/run/idp/error_log)"
    jwks_url="http://127.0.0.1:9/jwks/rsa.json"
fi

# ---- Locations: loc NAME CONF adds <Location /NAME> CONF </Location>
conf=""
locs=""
loc() {
    locs="$locs $1"
    conf="$conf
<Location /$1>
$2
</Location>"
}
loc hs256-nocache "    JWTAuth On
    JWTAuthCache Off"
for spec in rs256:RS256:rsa ps256:PS256:rsa es256:ES256:ec eddsa:EdDSA:ed; do
    IFS=: read -r name alg key <<< "$spec"
    loc "$name" "    JWTAuth On
    JWTAuthKeyFile \"$k/$key.pub\"
    JWTAuthAlgorithms $alg"
    loc "$name-nocache" "    JWTAuth On
    JWTAuthKeyFile \"$k/$key.pub\"
    JWTAuthAlgorithms $alg
    JWTAuthCache Off"
done
# RS256 through the identity provider's JWK Set (fetched at startup and
# by the fetcher, cached, then from the same memory as a key file's)
for c in "" -nocache; do
    loc "rs256-remote$c" "    JWTAuth On
    JWTAuthKeysURL $jwks_url
    JWTAuthAlgorithms RS256${c:+
    JWTAuthCache Off}"
done
for n in 1 100; do
    loc "keys$n" "    JWTAuth On
    JWTAuthKeyFile \"$k/set$n.jwks\"
    JWTAuthAlgorithms HS256
    JWTAuthCache Off"
done
# features, each on the HS256 policy of /hs256 (so the same cache entries)
loc f-claimheader "    JWTAuth On
    JWTAuthClaimHeader sub X-User
    JWTAuthClaimHeader roles X-Roles"
loc f-nested "    JWTAuth On
    Require jwt-claim org.team.name core"
loc f-scope "    JWTAuth On
    Require jwt-scope read"
loc f-expr "    JWTAuth On
    Require expr \"jwt_claim('iss') == 'bench'\""
loc f-cookie "    JWTAuth On
    JWTAuthCookie jwt"

# peers: HS256 and RS256 tokens in Authorization: Bearer, where installed
sh "$top/build/deps.sh" libapache2-mod-oauth2 libapache2-mod-auth-openidc \
    >/dev/null 2>&1 || true
libexec=$(apxs -q LIBEXECDIR)
mods=""
peer_note=""
peers=""
secret_placeholder="@SECRET@"
if [ -f "$libexec/mod_oauth2.so" ]; then
    mods="$mods
LoadModule oauth2_module $libexec/mod_oauth2.so"
    peers="$peers oauth2"
    rsjwk=$(perl -MCrypt::PK::RSA -MJSON::PP -e '
        print JSON::PP->new->canonical->encode(
            Crypt::PK::RSA->new($ARGV[0])->export_key_jwk("public", 1))' "$k/rsa.pub")
    loc oauth2-hs256 "    AuthType oauth2
    OAuth2TokenVerify plain $secret_placeholder verify.exp=required
    Require valid-user"
    loc oauth2-hs256-nocache "    AuthType oauth2
    OAuth2TokenVerify plain $secret_placeholder verify.exp=required&expiry=0
    Require valid-user"
    loc oauth2-rs256 "    AuthType oauth2
    OAuth2TokenVerify jwk '$rsjwk' verify.exp=required
    Require valid-user"
else
    peer_note="$peer_note mod_oauth2: libapache2-mod-oauth2 not installable here;"
fi
if [ -f "$libexec/mod_auth_openidc.so" ]; then
    mods="$mods
LoadModule auth_openidc_module $libexec/mod_auth_openidc.so"
    peers="$peers openidc"
    conf="$conf
OIDCCryptoPassphrase bench-passphrase-not-a-secret
OIDCOAuthRemoteUserClaim sub
# server-wide in mod_auth_openidc: the key is picked by the token's alg
OIDCOAuthVerifySharedKeys plain##$secret_placeholder
OIDCOAuthVerifyCertFiles \"$k/rsa.crt\""
    loc openidc-hs256 "    AuthType oauth20
    Require valid-user"
    loc openidc-rs256 "    AuthType oauth20
    Require valid-user"
else
    peer_note="$peer_note mod_auth_openidc: libapache2-mod-auth-openidc not installable here;"
fi

# the process caches hold every many-users row's tokens at once (4 x
# 20,000 of about 1 KB), and report at exit (info, the server's level);
# requests stay at warn (at info each export would also list the claims
# it leaves out, which costs its own work)
conf="JWTAuthCacheSize ${BENCH_CACHE_SIZE:-128M}
${BENCH_CACHE_ENTRIES:+JWTAuthCacheEntries $BENCH_CACHE_ENTRIES}
LogLevel warn jwtauth:info
<Location />
    LogLevel warn
</Location>
$conf"

export BENCH_DIRS="open hs256 $locs basic"
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
# the stored remote sets of earlier runs: their URL named another port
rm -rf "$run/jwtauth-keys"
server_start_bench || { echo "bench: server did not start"; tail "$run/error_log"; exit 1; }

# ---- tokens.  One token per algorithm for the one-token rows; files of
# $ntok for the many-users rows (the asymmetric ones kept between runs
# while their key is: RSA signing takes a while; HS256 follows the
# secret, made afresh by every server_start)
t="$run/tokens"
mkdir -p "$t"
tokens() {  # tokens ALG NAME KEYFILE [MINT OPTION...]: $t/NAME.$ntok,
            # made if missing
    local f="$t/$2.$ntok"
    if [ ! -s "$f" ] || [ "$(wc -l < "$f")" != "$ntok" ] \
            || [ "$1" = HS256 ] || [ -n "$(find "$f" -mtime +3)" ] \
            || [ "$3" -nt "$f" ]; then
        "$mint" "${@:4}" "$1" "$3" "$ntok" > "$f.tmp" && mv "$f.tmp" "$f"
    fi
    echo "$f"
}
tf_hs=$(tokens HS256 hs "$run/secret")
tf_rs=$(tokens RS256 rs "$k/rsa.key")
tf_es=$(tokens ES256 es "$k/ec.key")
tf_ed=$(tokens EdDSA ed "$k/ed.key")
tf_rk=$(tokens RS256 rs-kid "$k/rsa.key" -k bench-rsa)
tf_k1=$(tokens HS256-SET set1 "$k/set1.jwks")
tf_k100=$(tokens HS256-SET set100 "$k/set100.jwks")
one() { head -1 "$1"; }
X=x-access-token
url_of() { echo "http://127.0.0.1:$1$2/file.html"; }  # PORT PATH
code_of() {  # code_of [CURL OPTION...] URL: the status it answers
    curl -s -o /dev/null -w '%{http_code}' "$@"
}

# ---- the revocation servers (JWTAuthSessionStore is server-wide: every
# validated token on such a server is looked up, iss+jti and iss+sub):
# shmcb, and redis on a redis-server of its own.  Each with the main
# server's secret, /hs256 and caches, and a /logout.
skip_note=""
check_failed=0
store_conf() {  # store_conf STORE-LINE: the server config of one of them
    echo "JWTAuthCacheSize ${BENCH_CACHE_SIZE:-128M}
${BENCH_CACHE_ENTRIES:+JWTAuthCacheEntries $BENCH_CACHE_ENTRIES}
LogLevel warn jwtauth:info
<Location />
    LogLevel warn
</Location>
$1
<Location /logout>
    SetHandler jwtauth-logout
</Location>"
}
stores=""
if [ -f "$libexec/mod_socache_shmcb.so" ]; then
    if SERVER_SECRET="$run/secret" srv_start shmcb \
            "LoadModule socache_shmcb_module $libexec/mod_socache_shmcb.so" \
            "$(store_conf "JWTAuthSessionStore shmcb")"; then
        stores="$stores shmcb"
    else
        skip_note="$skip_note shmcb row: its server did not start (t/bench/run/shmcb/error_log);"
    fi
else
    skip_note="$skip_note shmcb row: no mod_socache_shmcb.so in $libexec;"
fi
free_port() {
    perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(
        LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'
}
# (a test package of build/deps.sh: installed here if it can be)
sh "$top/build/deps.sh" redis-server >/dev/null 2>&1 || true
if ! command -v redis-server >/dev/null; then
    skip_note="$skip_note redis row: redis-server not installable here;"
elif [ ! -f "$libexec/mod_socache_redis.so" ]; then
    skip_note="$skip_note redis row: no mod_socache_redis.so in $libexec;"
else
    rdir="$top/t/bench/run/redis-server"
    rm -rf "$rdir"
    mkdir -p "$rdir"
    rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize no --dir "$rdir" \
        --logfile "$rdir/redis.log" &
    redis_pid=$!
    for i in $(seq 50); do
        perl -MIO::Socket::INET -e 'exit !IO::Socket::INET->new(
            PeerAddr => "127.0.0.1", PeerPort => $ARGV[0])' "$rport" && break
        sleep 0.2
    done
    if ! kill -0 "$redis_pid" 2>/dev/null; then
        skip_note="$skip_note redis row: redis-server did not start ($rdir/redis.log);"
        redis_pid=""
    elif SERVER_SECRET="$run/secret" srv_start redis \
            "LoadModule socache_redis_module $libexec/mod_socache_redis.so" \
            "$(store_conf "JWTAuthSessionStore redis:127.0.0.1:$rport")"; then
        stores="$stores redis"
    else
        skip_note="$skip_note redis row: its server did not start (t/bench/run/redis/error_log);"
    fi
fi
# The proof that the lookups happen: a token that is in no file passes,
# is revoked by POST /logout, and then gets 401 (from the process cache
# too: it was validated a moment before), while a token of the file
# still passes.  A server that fails it is left out.
tok_rv=$("$mint" -s "$ntok" HS256 "$run/secret" 1)
for s in $stores; do
    sp=${srv_port[$s]}
    before=$(code_of -H "$X: $tok_rv" "$(url_of "$sp" /hs256)")
    out=$(code_of -X POST -H "$X: $tok_rv" -H 'Content-Length: 0' \
          "http://127.0.0.1:$sp/logout")
    after=$(code_of -H "$X: $tok_rv" "$(url_of "$sp" /hs256)")
    other=$(code_of -H "$X: $(one "$tf_hs")" "$(url_of "$sp" /hs256)")
    said="a token in no file: $before, POST /logout: $out, then $after; a token of the file: $other"
    if [ "$before" = 200 ] && [ "$out" = 200 ] && [ "$after" = 401 ] \
            && [ "$other" = 200 ]; then
        echo "check: $s: revoked token refused ($said): ok"
    else
        echo "check FAILED: $s: the revoked token is not refused as it must be" \
             "(want 200, 200, then 401; 200): $said; its rows left out"
        check_failed=1
        stores=$(echo " $stores " | sed "s# $s # #")
    fi
done

# ---- rows: row NAME PATH GROUP header "Name: value" (one token), or
# row NAME PATH GROUP file FILE HEADER [PREFIX] (many tokens, cycled)
# (r_port[NAME]=PORT after it: a row of another server than the main one,
# r_base[NAME]=ROW: the unguarded row of that server)
rows=""
declare -A r_path r_group r_kind r_header r_file r_hname r_prefix r_port r_base
row() {
    rows="$rows $1"
    r_port[$1]=$port
    r_path[$1]=$2
    r_group[$1]=$3
    r_kind[$1]=$4
    if [ "$4" = header ]; then
        r_header[$1]=$5
    else
        r_file[$1]=$5
        r_hname[$1]=$6
        r_prefix[$1]=${7:-}
    fi
}
row open /open "one token" header ""
row hs256 /hs256 "one token" header "$X: $(one "$tf_hs")"
row hs256-nocache /hs256-nocache "one token" header "$X: $(one "$tf_hs")"
for spec in rs256:rs ps256:rs es256:es eddsa:ed; do
    IFS=: read -r name f <<< "$spec"
    eval "tf=\$tf_$f"
    if [ "$name" = ps256 ]; then
        tf="$t/ps.1"
        "$mint" PS256 "$k/rsa.key" 1 > "$tf"
    fi
    row "$name" "/$name" "one token" header "$X: $(one "$tf")"
    row "$name-nocache" "/$name-nocache" "one token" header "$X: $(one "$tf")"
    [ "$name" = rs256 ] && row rs256-remote-nocache /rs256-remote-nocache \
        "one token" header "$X: $(one "$tf_rk")"
done
for p in $peers; do
    for a in hs256 rs256; do
        eval "tf=\$tf_${a:0:2}"
        row "$p-$a" "/$p-$a" "one token" header "Authorization: Bearer $(one "$tf")"
    done
    [ "$p" = oauth2 ] && row oauth2-hs256-nocache /oauth2-hs256-nocache \
        "one token" header "Authorization: Bearer $(one "$tf_hs")"
done
for spec in hs256:hs rs256:rs es256:es eddsa:ed; do
    IFS=: read -r name f <<< "$spec"
    eval "tf=\$tf_$f"
    row "users-$name" "/$name" "many users" file "$tf" "$X"
    # the same RS256 key from the identity provider's set (the tokens name
    # its kid): the price of a remote set
    [ "$name" = rs256 ] && row users-rs256-remote /rs256-remote "many users" \
        file "$tf_rk" "$X"
done
for p in $peers; do
    row "users-$p-hs256" "/$p-hs256" "many users" file "$tf_hs" Authorization "Bearer "
    row "users-$p-rs256" "/$p-rs256" "many users" file "$tf_rs" Authorization "Bearer "
done
row keys1 /keys1 "key sets" file "$tf_k1" "$X"
row keys100 /keys100 "key sets" file "$tf_k100" "$X"
for f in claimheader nested scope expr; do
    row "f-$f" "/f-$f" features file "$tf_hs" "$X"
done
row f-cookie /f-cookie features file "$tf_hs" Cookie "jwt="
# each revocation server: its own /open, and /hs256 with the many-users
# tokens (the revoked one is in no file)
for s in $stores; do
    row "$s-open" /open revocation header ""
    r_port[$s-open]=${srv_port[$s]}
    row "users-hs256-$s" /hs256 revocation file "$tf_hs" "$X"
    r_port[users-hs256-$s]=${srv_port[$s]}
    r_base[users-hs256-$s]=$s-open
done

# the remote set is fetched at the main server's startup, or by the
# fetcher once it runs: its rows wait for it (30 s at most)
remote_code=000
[ -n "$idp_note" ] || for i in $(seq 60); do
    remote_code=$(code_of -H "$X: $(one "$tf_rk")" "$(url_of "$port" /rs256-remote)")
    [ "$remote_code" = 200 ] && break
    sleep 0.5
done
if [ "$remote_code" != 200 ]; then
    # the fetcher's last word on it (the URL and the failure, no key)
    why=$(grep -o 'JWTAuth: \(no keys yet from\|fetching the keys failed\).*' \
          "$run/error_log" | tail -1)
    echo "bench: the remote JWK Set rows left out: a token of it answers" \
         "$remote_code after 30 s (${idp_note:-${why:-see $run/error_log}})"
    skip_note="$skip_note remote keys rows: the set did not load (answers $remote_code);"
    rows=$(echo " $rows " | sed "s# rs256-remote-nocache # #; s# users-rs256-remote # #")
fi

# every row must answer 200 with its (first) token before anything is
# timed
for r in $rows; do
    if [ "${r_kind[$r]}" = header ]; then
        h=${r_header[$r]}
    else
        h="${r_hname[$r]}: ${r_prefix[$r]}$(one "${r_file[$r]}")"
    fi
    code=$(code_of ${h:+-H "$h"} "$(url_of "${r_port[$r]}" "${r_path[$r]}")")
    if [ "$code" != 200 ]; then
        echo "bench: /$r answers $code with its token; left out"
        rows=$(echo " $rows " | sed "s# $r # #")
    fi
done

# /login and Basic, timed after the rows
r_kind[login]=header r_path[login]=/login r_group[login]=login
r_header[login]="Authorization: Basic ZGFlaGFuOjEyMzQ="
r_kind[basic]=header r_path[basic]=/basic r_group[basic]=login
r_header[basic]=${r_header[login]}
r_port[login]=$port r_port[basic]=$port

rss() {
    local total=0 p
    for p in $(pgrep -f "$run/httpd.conf"); do
        total=$((total + $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
    done
    echo $total
}
lua="$top/t/bench/tokens.lua"
# "requests/s failures p99-ms" of one wrk run of row $1 ($2: seconds)
wrk_row() {
    local r=$1 url out
    url=$(url_of "${r_port[$r]}" "${r_path[$r]}")
    if [ "${r_kind[$r]}" = header ]; then
        out=$(wrk -t2 -c32 -d"${2}s" --latency ${r_header[$r]:+-H "${r_header[$r]}"} "$url")
    else
        out=$(wrk -t2 -c32 -d"${2}s" --latency -s "$lua" "$url" -- \
              "${r_file[$r]}" "${r_hname[$r]}" "${r_prefix[$r]}")
    fi
    echo "$out" | awk '
        /Requests\/sec/ {rps = $2}
        /Non-2xx/ {bad += $NF}
        /Socket errors/ {gsub(",", ""); bad += $4 + $6 + $8 + $10}
        $1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                     p99 = u == "us" ? v / 1000 : u == "s" ? v * 1000 : v}
        END {printf "%s %d %s\n", rps ? rps : 0, bad, p99 ? p99 : 0}'
}

res="$run/results.txt"
: > "$res"
rss0= rss1= rss_a= rss_b= mem_a= mem_b=
if [ "${BENCH_WRK:-1}" = 1 ]; then
wrk -t2 -c32 -d2s "http://127.0.0.1:$port/open/file.html" >/dev/null
# the many-users rows start warm: each process has seen most tokens.
# BENCH_WARM seconds a row, by default time for two passes of both wrk
# threads over the tokens at 5,000 requests/s (uncached EdDSA's pace
# here): each token then reached each process with odds of 15 in 16
warm_s=${BENCH_WARM:-$(( ntok * 4 / 5000 > 5 ? ntok * 4 / 5000 : 5 ))}
for r in $rows; do
    [ "${r_kind[$r]}" = file ] || continue
    wrk -t2 -c32 -d"${warm_s}s" -s "$lua" "$(url_of "${r_port[$r]}" "${r_path[$r]}")" \
        -- "${r_file[$r]}" "${r_hname[$r]}" "${r_prefix[$r]}" >/dev/null
done
rss0=$(rss)
for ((n = 1; n <= rounds; n++)); do
    for r in $rows; do
        echo "$n $r $(wrk_row "$r" "$secs")" >> "$res"
    done
done
# /login (file provider, bcrypt cost 5) against the same provider behind
# AuthType Basic on a static file, alternating
for ((n = 1; n <= rounds; n++)); do
    echo "$n login $(wrk_row login "$secs")" >> "$res"
    echo "$n basic $(wrk_row basic "$secs")" >> "$res"
done
rss1=$(rss)

# the memory step: many-users HS256 tokens, resident memory after a
# tenth of BENCH_MEM_SECONDS (default 60: about a million requests here)
# and after all of it, with the requests served until then
mem_run() {  # the requests one run of $1 seconds served
    wrk -t2 -c32 -d"${1}s" -s "$lua" "http://127.0.0.1:$port/hs256/file.html" \
        -- "$tf_hs" "$X" "" | awk '/requests in/ {print $1}'
}
mem_s=${BENCH_MEM_SECONDS:-60}
mem_a=$(mem_run $(( (mem_s + 9) / 10 )))
rss_a=$(rss)
mem_b=$(( mem_a + $(mem_run $(( mem_s - (mem_s + 9) / 10 ))) ))
rss_b=$(rss)
fi
server_stop
for s in $stores; do
    srv_stop "$s"
done
sleep 1
pcache=$(grep -o 'process cache: .*' "$run/error_log" | sed 's/^/  /')

# What each row costs httpd, free of the wrk noise: the same server as
# one prefork process (httpd -X) under callgrind, counting only inside
# ap_process_connection and dumping after each connection.  Per row one
# keep-alive connection warms it (200 requests, or for the many-users
# rows one of each of BENCH_IR_TOKENS tokens, default 500), then one of
# $ir_n is counted, both through t/bench/cycle.pl (ab cannot vary a
# header), cycling the same tokens: the process cache holds them all.
# Then each revocation server the same way, its /open and its /hs256.
ir_n=${BENCH_IR_REQUESTS:-1000}
ir_tok=${BENCH_IR_TOKENS:-500}
ir="$run/ir.txt"
: > "$ir"
# ir_server RUN PORT ROW...: the rows of the server under RUN (its
# httpd.conf, on PORT) under callgrind, one after the other, a line each
# into $ir
ir_server() {
    local srun=$1 sport=$2 vg i part r tfile hn warm ok total
    local -a cyc
    shift 2
    cg_dir="$srun/cg"
    sed -e 's#^LoadModule mpm_event_module .*#LoadModule mpm_prefork_module '"$libexec"'/mod_mpm_prefork.so#' \
        -e '/^\(StartServers\|ServerLimit\|ThreadsPerChild\|MinSpareThreads\|MaxSpareThreads\|MaxRequestWorkers\) /d' \
        -e 's#^PidFile .*#PidFile "'"$cg_dir"'/httpd.pid"#' \
        "$srun/httpd.conf" > "$srun/httpd-ir.conf"
    # the process drops to nobody: its dumps go where nobody may write
    rm -rf "$cg_dir"
    mkdir -p "$cg_dir"
    chmod 1777 "$cg_dir"
    valgrind --tool=callgrind --vgdb=no --collect-atstart=no \
        --toggle-collect=ap_process_connection \
        --dump-after=ap_process_connection \
        --callgrind-out-file="$cg_dir/cg.out" \
        "$httpd" -X -f "$srun/httpd-ir.conf" > "$srun/valgrind.log" 2>&1 &
    vg=$!
    for i in $(seq 100); do
        curl -fs -o /dev/null "$(url_of "$sport" /open)" && break
        sleep 0.3
    done
    dump_total 1 >/dev/null         # the probe's connection
    part=1
    for r in "$@"; do
        # every row through the same client (cycle.pl), so that the
        # totals compare: a one-token row cycles a file of one token
        if [ "${r_kind[$r]}" = header ]; then
            tfile="$cg_dir/$r.token"
            hn=${r_header[$r]%%: *}
            echo "${r_header[$r]#*: }" > "$tfile"
            [ -n "${r_header[$r]}" ] || hn=""
            cyc=("$top/t/bench/cycle.pl" "$sport" "${r_path[$r]}/file.html" \
                 "$tfile" "$hn" "")
            warm=200
        else
            cyc=("$top/t/bench/cycle.pl" "$sport" "${r_path[$r]}/file.html" \
                 "${r_file[$r]}" "${r_hname[$r]}" "${r_prefix[$r]}")
            warm=$ir_tok
        fi
        "${cyc[@]}" "$warm" "$ir_tok" >/dev/null
        part=$((part + 1))
        dump_total "$part" >/dev/null
        ok=$("${cyc[@]}" "$ir_n" "$ir_tok")
        part=$((part + 1))
        total=$(dump_total "$part")
        [ "$ok" = "$ir_n" ] && [ -n "$total" ] \
            && echo "$r $((total / ir_n)) $(module_ir "$part" \
                    | awk -v n="$ir_n" '{print int($1 / n), int($2 / n)}')" >> "$ir"
    done
    kill -TERM "$vg" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$vg" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$vg" 2>/dev/null
    wait "$vg" 2>/dev/null
}
# dump n (one per connection) of the server under callgrind, once it is
# written
dump_total() {
    local i
    for i in $(seq 300); do
        [ -s "$cg_dir/cg.out.$1" ] && grep -q '^totals:' "$cg_dir/cg.out.$1" \
            && break
        sleep 0.2
    done
    awk '/^totals:/ {print $2; exit}' "$cg_dir/cg.out.$1" 2>/dev/null
}
# the module's own instructions in a dump, its hooks inclusive (the
# store lookups too), and of them the crypto primitive's: the HMAC, or
# the verify context and EVP_DigestVerify (what bench_core's floor runs)
module_ir() {
    callgrind_annotate --auto=no --inclusive=yes --threshold=100 \
        "$cg_dir/cg.out.$1" \
        2>/dev/null | awk '
        /:(jwtauth_check_access|jwtauth_check_access_any|jwtauth_check_user|headers_fixup|authz_fixups|authz_log|authz_insert_error_filter|claim_check_authorization|scope_check_authorization|jwtauth_expr_lookup) / {
            gsub(",", "", $1); n += $1
        }
        /:(hmac_compute|pkey_ctx|EVP_DigestVerify) / {
            gsub(",", "", $1); c += $1
        } END {print n + 0, c + 0}'
}
if [ "${BENCH_IR:-1}" = 1 ] && command -v valgrind >/dev/null; then
    ir_rows=""
    for r in $rows; do
        [ "${r_port[$r]}" = "$port" ] || continue
        case ${r_group[$r]} in
            "one token"|"many users"|"key sets"|features) ir_rows="$ir_rows $r" ;;
        esac
    done
    ir_server "$run" "$port" $ir_rows
    # the revocation rows on their own servers (redis still runs): each
    # beside its server's /open
    for s in $stores; do
        ir_server "$top/t/bench/run/$s" "${srv_port[$s]}" "$s-open" \
            "users-hs256-$s"
    done
fi

# ---- the report
for r in $rows login basic; do
    echo "$r ${r_group[$r]// /_} ${r_base[$r]:--}"
done > "$run/groups.txt"
echo "mod_jwtauth bench: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "$(apache2 -v 2>/dev/null | head -1 | sed 's/Server version: //'), event MPM 2 x 32 threads;" \
     "wrk -t2 -c32 -d${secs}s --latency, $rounds alternating rounds, loopback;" \
     "$ntok tokens for the many-users rows; $(date -u +%Y-%m-%d)"
BENCH_MD=${BENCH_MD:-0} perl -e '
    my ($file, $groups, $ir, $stores) = @ARGV;
    my (%g, %base, %rps, %p99, %open, %bad, @order, %ir, %mod, %prim, @irorder);
    open my $gh, "<", $groups or die;
    while (<$gh>) {
        my ($r, $gr, $b) = split;
        ($g{$r} = $gr) =~ tr/_/ /;
        $base{$r} = $b if $b ne "-";
    }
    my %note = (revocation => " (a server each; ratio: to the main"
        . " server\x27s /open in the same round; own: to that server\x27s /open)");
    open my $fh, "<", $file or die;
    while (<$fh>) {
        my ($n, $r, $v, $b, $p) = split;
        push @order, $r unless exists $rps{$r};
        push @{ $rps{$r} }, [$n, $v];
        push @{ $p99{$r} }, $p;
        $bad{$r} += $b;
        $open{$n} = $v if $r eq "open";
    }
    sub median { my @s = sort { $a <=> $b } @_; @s ? $s[$#s / 2] : 0 }
    my @md;
    my $last = "";
    if (@order) {
        printf "\n%-24s %12s %8s %9s\n", "row", "requests/s", "ratio", "p99 ms";
        push @md, "| row | requests/s | ratio | p99 ms |", "|---|---:|---:|---:|";
    }
    for my $r (@order) {
        next if $r =~ /^(login|basic)$/;
        if ($g{$r} ne $last) {
            my $n = $note{$g{$r}} || "";
            print "-- $g{$r}$n\n";
            push @md, "| **$g{$r}**$n | | | |";
            $last = $g{$r};
        }
        my @v = map { $_->[1] } @{ $rps{$r} };
        my @ratio = map { $open{$_->[0]} ? $_->[1] / $open{$_->[0]} : 0 }
                        @{ $rps{$r} };
        my ($m, $ra, $p) = (median(@v), median(@ratio), median(@{ $p99{$r} }));
        # the ratio to the unguarded file of its own server, round by round
        my $own = "";
        if (my $b = $base{$r}) {
            my %bo = map { $_->[0] => $_->[1] } @{ $rps{$b} || [] };
            my @ro = map { $bo{$_->[0]} ? $_->[1] / $bo{$_->[0]} : 0 }
                         @{ $rps{$r} };
            $own = sprintf "own %.2f", median(@ro);
        }
        printf "%-24s %12.0f %8.2f %9.2f%s%s\n", $r, $m, $ra, $p,
            $own ? "   $own" : "",
            $bad{$r} ? "   ($bad{$r} failed requests)" : "";
        push @md, sprintf "| %s | %.0f | %.2f%s | %.2f |%s", $r, $m, $ra,
            $own ? " ($own)" : "", $p, $bad{$r} ? " ($bad{$r} failed)" : "";
    }
    my %m = map { $_ => median(map { $_->[1] } @{ $rps{$_} || [] }) } qw(login basic);
    printf "/login vs Basic on a static file: %.0f vs %.0f requests/s, %.2f\n",
        $m{login}, $m{basic}, $m{basic} ? $m{login} / $m{basic} : 0
        if $rps{login};
    print "\n", join("\n", @md), "\n" if $ENV{BENCH_MD} && @md;
    exit 0 unless -s $ir;
    open my $ih, "<", $ir or die;
    while (<$ih>) {
        my ($r, $t, $mo, $pr) = split;
        push @irorder, $r;
        $ir{$r} = $t;
        $mod{$r} = $mo;
        $prim{$r} = $pr;
    }
    my $o = $ir{open} || 1;
    print "\ninstructions per request (httpd -X, prefork, callgrind):",
          " total, added to /open (the revocation rows: to their own",
          " server\x27s /open), the module hooks\x27 own, and for the",
          " uncached rows what the module adds beyond the crypto primitive",
          " (the HMAC, or the verify context and EVP_DigestVerify, in the",
          " same run)\n";
    printf "%-24s %10s %10s %8s %10s %10s\n", "row", "instr/req", "added",
        "x /open", "module", "beyond";
    @md = ("| row | instructions/request | added | × unguarded | module | beyond the primitive |",
           "|---|---:|---:|---:|---:|---:|");
    for my $r (@irorder) {
        my $peer = $r =~ /oauth2|openidc/;
        my $beyond = !$peer && $prim{$r} ? $mod{$r} - $prim{$r} : "";
        my $m = $peer || $r =~ /^(\w+-)?open$/ ? "" : $mod{$r};
        my $b = $base{$r} && $ir{$base{$r}} ? $ir{$base{$r}} : $o;
        printf "%-24s %10d %10d %8.2f %10s %10s\n", $r, $ir{$r}, $ir{$r} - $b,
            $ir{$r} / $b, $m, $beyond;
        push @md, sprintf "| %s | %d | %d | %.2f | %s | %s |", $r, $ir{$r},
            $ir{$r} - $b, $ir{$r} / $b, $m, $beyond;
    }
    # what the two lookups of a store cost, against the same tokens on
    # the main server (no store)
    my @rev;
    for my $s (split " ", $stores) {
        my ($u, $so) = ("users-hs256-$s", "$s-open");
        next unless $ir{$u} && $ir{$so} && $ir{"users-hs256"} && $ir{open};
        push @rev, sprintf "revocation lookups (%s): +%d instructions per"
            . " request in the module\x27s hooks (%s against users-hs256),"
            . " +%d in all ((%s - %s) - (users-hs256 - open))",
            $s, $mod{$u} - $mod{"users-hs256"}, $u,
            ($ir{$u} - $ir{$so}) - ($ir{"users-hs256"} - $ir{open}), $u, $so;
    }
    print map { "$_\n" } @rev;
    print "\n", join("\n", @md, @rev ? ("", @rev) : ()), "\n" if $ENV{BENCH_MD};
' "$res" "$run/groups.txt" "$ir" "$stores"
[ -s "$ir" ] || echo "(instructions per request not measured: BENCH_IR=0, or no valgrind)"
echo
# what wrk measured (BENCH_WRK=0: nothing)
if [ -n "$rss0" ]; then
    echo "httpd resident memory: $rss0 kB after warming, $rss1 kB after the rounds"
    echo "memory step ($ntok HS256 tokens): $rss_a kB after $mem_a requests," \
         "$rss_b kB after $mem_b ($(awk -v a="$rss_a" -v b="$rss_b" \
         'BEGIN {printf "%+.1f %%", a ? (b - a) * 100 / a : 0}'))"
fi
echo "process caches at exit:"
echo "${pcache:-  (none reported)}"
[ -n "$peer_note" ] && echo "skipped:$peer_note"
[ -n "$skip_note" ] && echo "skipped:$skip_note"
if [ "$check_failed" = 1 ]; then
    echo "bench: FAILED: a revocation server let a revoked token in (the check lines above)"
    exit 1
fi
exit 0
