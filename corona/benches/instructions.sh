#!/usr/bin/env bash
# Instructions per operation on corona's hot paths (benches/instructions.rs), counted by
# callgrind: each case runs with 1,000 and 11,000 operations, and the difference over 10,000
# is one operation's cost. Exact and repeatable: compare two builds with it, not wall clocks.
#
# Usage: corona/benches/instructions.sh [case ...]   (default: every case; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=$(cargo bench --no-run -p corona --bench instructions 2>&1 |
  grep -o 'target/[^ )]*/instructions-[0-9a-f]*' | tail -n 1)
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  mapfile -t cases < <("$bin" | awk 'NR > 1 { print $1 }')
fi

instructions() { # case n -> total instructions of the run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
    sed -n 's/.*refs: *//p' | tr -d ','
}

echo "instructions per operation (callgrind, (Ir(11000) - Ir(1000)) / 10000)"
for case in "${cases[@]}"; do
  small=$(instructions "$case" 1000)
  large=$(instructions "$case" 11000)
  what=$("$bin" | awk -v c="$case" '$1 == c { $1 = ""; sub(/^ +/, ""); print }')
  printf '%-18s %7.1f   %s\n' "$case" "$(echo "($large - $small) / 10000" | bc -l)" "$what"
done
