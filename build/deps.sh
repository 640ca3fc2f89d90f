#!/bin/sh
# Install the Debian 12 packages that building and testing mod_jwtauth
# need, when some are missing.  Quiet when everything is there.
set -eu

PKGS="apache2 apache2-dev apache2-utils libjansson-dev libssl-dev pkg-config
libapr1-dev libaprutil1-dev libaprutil1-dbd-sqlite3 sqlite3
libapache2-mod-perl2 libcrypt-jwt-perl libjson-perl python3-jwt
python3-cryptography clang libclang-rt-14-dev wrk valgrind"
[ $# -gt 0 ] && PKGS="$*"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "deps: not root: install these packages first:$missing" >&2
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
apt-get install -y -q --no-install-recommends $missing
