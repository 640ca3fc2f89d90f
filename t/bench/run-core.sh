#!/bin/bash
# make bench-core: verifications per second and instructions per
# verification (callgrind) for HS256, RS256, ES256 and EdDSA tokens of a
# realistic size (~300-700 bytes), for the core, for the floor (the bare
# OpenSSL primitive on the same bytes plus the signature's base64url
# decode) and for Debian's libjwt.  Prints the ratios.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
d="$top/t/bench/run"
bin="$top/t/bench/bench_core"
n=${BENCH_CORE_N:-200}
mkdir -p "$d"
[ -s "$d/hs.key" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$d/hs.key"
[ -s "$d/rsa.pem" ] || openssl genpkey -quiet -algorithm RSA \
    -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.pem"
[ -s "$d/ec.pem" ] || openssl genpkey -quiet -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$d/ec.pem"
[ -s "$d/ed.pem" ] || openssl genpkey -quiet -algorithm ED25519 -out "$d/ed.pem"
for k in rsa ec ed; do
    [ -s "$d/$k.pub" ] || openssl pkey -in "$d/$k.pem" -pubout -out "$d/$k.pub"
done

echo "== verifications per second (0.5 s each, one core)"
"$bin" rate "$d"

echo
echo "== instructions per verification (valgrind --tool=callgrind, $n runs)"
declare -A ir
for impl in core floor libjwt; do
    for alg in HS256 RS256 ES256 EdDSA; do
        out=$(mktemp)
        if valgrind --tool=callgrind --instr-atstart=no \
               --callgrind-out-file="$out" "$bin" ir "$d" "$impl" "$alg" "$n" \
               >/dev/null 2>&1; then
            total=$(callgrind_annotate "$out" 2>/dev/null \
                    | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
            ir[$impl.$alg]=$((total / n))
        else
            ir[$impl.$alg]=""       # does not verify (libjwt 1.x: no EdDSA)
        fi
        rm -f "$out"
    done
done
printf '%-6s %12s %12s %12s %12s %14s\n' alg core floor libjwt core/floor core/libjwt
for alg in HS256 RS256 ES256 EdDSA; do
    c=${ir[core.$alg]} f=${ir[floor.$alg]} l=${ir[libjwt.$alg]}
    printf '%-6s %12s %12s %12s %12s %14s\n' "$alg" "$c" "$f" "${l:-n/a}" \
        "$(awk -v a="$c" -v b="$f" 'BEGIN {printf "%.2f", a / b}')" \
        "$( [ -n "$l" ] && awk -v a="$c" -v b="$l" 'BEGIN {printf "%.2f", a / b}' || echo 'n/a')"
done
