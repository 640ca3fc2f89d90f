#!/bin/bash
# Shows that each row of t/unit/test_policy.c guards its member: for every
# MEMBER(...) line of jose/policy.c (the one definition of a policy's
# identity), build test_policy against a copy of the core with that line
# deleted, and require that it fails.  A member whose removal no test
# notices would be a member nothing checks.  TAP output.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
work=$(mktemp -d /tmp/policy-drop.XXXXXX)
trap 'rm -rf "$work"' EXIT
cflags="$(apr-1-config --cflags --cppflags --includes)"
libs="$(apr-1-config --link-ld) -ljansson -lcrypto"

mapfile -t lines < <(grep -n '^    MEMBER(' jose/policy.c | cut -d: -f1)
echo "1..${#lines[@]}"
n=0
fail=0
for l in "${lines[@]}"; do
    n=$((n + 1))
    what=$(sed -n "${l}p" jose/policy.c | sed 's/^ *//; s/,$//')
    rm -rf "$work/jose" && cp -r jose "$work/jose"
    sed -i "${l}d" "$work/jose/policy.c"
    if ! cc -O0 -I"$work/jose" $cflags -o "$work/test_policy" \
            t/unit/test_policy.c "$work"/jose/*.c $libs 2>"$work/cc.log"; then
        echo "not ok $n - without $what: the test does not even build"
        sed 's/^/# /' "$work/cc.log" | head -5
        fail=1
        continue
    fi
    out=$("$work/test_policy" 2>&1)
    rc=$?
    failed=$(grep -c '^not ok' <<<"$out")
    if [ $rc -ne 0 ] && [ "$failed" -gt 0 ]; then
        echo "ok $n - without $what: test_policy fails ($failed rows," \
             "e.g. $(grep -m1 '^not ok' <<<"$out" | sed 's/^not ok [0-9]* - //'))"
    else
        echo "not ok $n - without $what: test_policy still passes (rc $rc)"
        fail=1
    fi
done
exit $fail
