# Sourced by build/test.sh and build/run-demo.sh.
# reachable DIR: can user nobody (httpd's children, when root starts
# httpd) enter DIR and every directory above it?  Always true for a
# user other than root (httpd's children then run as that user).
reachable() {
    local d="$1"
    [ "$(id -u)" != 0 ] && return 0
    while [ "$d" != "/" ]; do
        runuser -u nobody -- test -x "$d" 2>/dev/null || return 1
        d=$(dirname "$d")
    done
    return 0
}
