#!/bin/sh
# The Debian 12 packages mod_jwtauth needs.
#   build/deps.sh check-build   fail, naming them, when a build package
#                               is missing (what `make` runs: it installs
#                               nothing)
#   build/deps.sh test          install the build and test packages that
#                               are missing (what `make test` runs)
#   build/deps.sh pkg...        install these when missing
set -eu

BUILD="apache2-dev libapr1-dev libaprutil1-dev libjansson-dev libssl-dev
libcurl4-openssl-dev pkg-config"
TEST="apache2 apache2-utils libaprutil1-dbd-sqlite3 sqlite3
libapache2-mod-perl2 libcrypt-jwt-perl libjson-perl python3-jwt
python3-cryptography python3-prometheus-client clang libclang-rt-14-dev wrk
valgrind debhelper lintian redis-server memcached chromium chromium-driver
python3-selenium"
# the test IdP's self-test (t/unit/idp.t): curl, openssl and Perl's TLS client
TEST="$TEST curl openssl libio-socket-ssl-perl"

missing() {
    m=""
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
             | grep -q "ok installed"; then
            m="$m $p"
        fi
    done
    echo "$m"
}

case "${1:-}" in
check-build)
    # shellcheck disable=SC2086
    m=$(missing $BUILD)
    if [ -n "$m" ]; then
        echo "mod_jwtauth: these build packages are missing:$m" >&2
        echo "mod_jwtauth: install them (apt-get install$m), or run" \
             "'make test', which installs what it needs" >&2
        exit 1
    fi
    exit 0 ;;
test) PKGS="$BUILD $TEST" ;;
"") echo "usage: build/deps.sh check-build | test | package..." >&2
    exit 2 ;;
*) PKGS="$*" ;;
esac

# shellcheck disable=SC2086
m=$(missing $PKGS)
[ -z "$m" ] && exit 0

echo "deps: installing:$m"
if [ "$(id -u)" != 0 ]; then
    echo "deps: not root: install these packages first:$m" >&2
    exit 1
fi
# keep maintainer scripts from starting a system apache2 (we never use it)
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $m
