#!/bin/bash
# `make run`: the seed's service on 127.0.0.1:PORT, in the foreground.
# Everything it writes lives under demo/run in the checkout.  When httpd's
# children (user nobody, as root) cannot enter the checkout (a clone under
# /root, say), what they read - the pages and the user table - is staged
# in a directory of /tmp that they can, named after the checkout, and the
# demo runs from there.
set -euo pipefail
port=${1:-8080}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/build/reachable.sh"
run="$top/demo/run"
docroot="$top/demo/htdocs"
if ! reachable "$top"; then
    stage="/tmp/mod_jwtauth-demo.$(printf '%s' "$top" | md5sum | cut -c1-12)"
    mkdir -p -m 755 "$stage"
    if [ -L "$stage" ] || [ ! -O "$stage" ]; then
        echo "make run: $stage is not a directory of ours; remove it" >&2
        exit 1
    fi
    chmod 755 "$stage"
    echo "make run: $top is closed to user nobody (httpd's children);" \
         "serving a copy of demo/htdocs from $stage"
    rm -rf "$stage/htdocs"
    cp -r "$top/demo/htdocs" "$stage/htdocs"
    run="$stage/run"
    docroot="$stage/htdocs"
fi
mkdir -p "$run"

if [ ! -s "$run/secret" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
        > "$run/secret")
fi
if [ ! -s "$run/users.db" ]; then
    hash=$(htpasswd -nbB daehan 1234 | cut -d: -f2-)
    sqlite3 "$run/users.db" <<SQL
CREATE TABLE users (username TEXT PRIMARY KEY, password TEXT NOT NULL,
                    id INTEGER NOT NULL, admin INTEGER NOT NULL);
INSERT INTO users VALUES ('daehan', '$hash', 1, 1);
SQL
fi

usergroup=""
if [ "$(id -u)" = 0 ]; then
    usergroup="User nobody
Group nogroup"
    [ "$docroot" = "$top/demo/htdocs" ] && chmod a+rX "$top/demo"
    chmod -R a+rX "$docroot"
    chmod a+rX "$run"
    chmod a+r "$run/users.db"
fi
sed -e "s|@TOP@|$top|g" -e "s|@RUN@|$run|g" -e "s|@PORT@|$port|g" \
    -e "s|@DOCROOT@|$docroot|g" \
    -e "s|@LIBEXEC@|$(apxs -q LIBEXECDIR)|g" \
    -e "/@USERGROUP@/{
r /dev/stdin
d
}" "$top/demo/httpd.conf.in" > "$run/httpd.conf" <<<"$usergroup"

httpd=$(apxs -q SBINDIR)/$(apxs -q PROGNAME)
"$httpd" -t -f "$run/httpd.conf"
cat <<TXT
mod_jwtauth demo on http://127.0.0.1:$port/  (Ctrl-C stops it)
  curl -u daehan:1234 http://127.0.0.1:$port/login
  curl -H "x-access-token: \$TOKEN" http://127.0.0.1:$port/
  log: $run/error_log
TXT
exec "$httpd" -DFOREGROUND -f "$run/httpd.conf"
