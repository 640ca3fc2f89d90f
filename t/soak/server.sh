# Shared by t/soak/run.sh and t/bench/run.sh: a private httpd from
# t/soak/httpd.conf.in under $run, on a free loopback port.  Set $top and
# $run first; EXTRA_MODULES and EXTRA_CONF may add to the template;
# SERVER_SECRET names a secret file to take instead of a new one (a
# second server, under another $run, for the same tokens).  Sets $port
# and $httpd.
server_start() {
    mkdir -p "$run/htdocs/open" "$run/htdocs/hs256"
    if [ -n "${SERVER_SECRET:-}" ]; then
        cp "$SERVER_SECRET" "$run/secret" || return 1
    else
        head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$run/secret"
    fi
    chmod 600 "$run/secret"
    htpasswd -cbB -C 5 "$run/htpasswd" daehan 1234 2>/dev/null
    # the 1 KB page every Location serves
    head -c 1024 /dev/zero | tr '\0' 'x' > "$run/file.html"
    local d
    for d in ${BENCH_DIRS:-open hs256 basic}; do
        mkdir -p "$run/htdocs/$d"
        cp "$run/file.html" "$run/htdocs/$d/file.html"
    done
    port=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(
        LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport')
    local usergroup=""
    if [ "$(id -u)" = 0 ]; then
        usergroup="User nobody
Group nogroup"
        chmod -R a+rX "$run/htdocs" "$run/htpasswd"
        chmod a+rx "$run"
    fi
    EXTRA_MODULES="${EXTRA_MODULES:-}" EXTRA_CONF="${EXTRA_CONF:-}" \
    USERGROUP="$usergroup" TOP="$top" RUN="$run" PORT="$port" \
    LIBEXEC="$(apxs -q LIBEXECDIR)" perl -pe '
        s/\@(TOP|RUN|PORT|LIBEXEC|USERGROUP|EXTRA_MODULES|EXTRA_CONF)\@/$ENV{$1}/g
    ' "$top/t/soak/httpd.conf.in" > "$run/httpd.conf"
    httpd=$(apxs -q SBINDIR)/$(apxs -q PROGNAME)
    rm -f "$run/error_log"
    "$httpd" -f "$run/httpd.conf" -k start || return 1
    local i
    for i in $(seq 50); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/open/file.html" && return 0
        sleep 0.2
    done
    echo "server did not come up; see $run/error_log" >&2
    return 1
}

server_stop() {
    local pid
    pid=$(cat "$run/httpd.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
}

# an HS256 token for sub daehan valid for $1 seconds, under $run/secret
make_token() {
    perl -MDigest::SHA=hmac_sha256 -MMIME::Base64=encode_base64url -e '
        my ($secs, $file) = @ARGV;
        open my $fh, "<", $file or die; my $k = <$fh>;
        my $h = encode_base64url(q({"alg":"HS256","typ":"JWT"}));
        my $p = encode_base64url(sprintf q({"sub":"daehan","exp":%d}),
                                 time + $secs);
        print "$h.$p.", encode_base64url(hmac_sha256("$h.$p", $k));
    ' "$1" "$run/secret"
}
