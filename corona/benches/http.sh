#!/usr/bin/env bash
# HTTP/1.1 keep-alive servers under `wrk`, each on one thread (examples/http_server.rs):
#   corona  the sync httparse server, one coroutine per connection over corona::io::Blocking
#   native  the same code written as native tokio async
#   hyper   hyper's HTTP/1 server
# Loopback only. Bounded: ROUNDS rounds of SECONDS-second runs, the servers interleaved in
# each round. Prints, per server, the median over rounds of requests/s, p99 latency and the
# server's CPU time per request (utime + stime from /proc/PID/stat).
#
# Usage: corona/benches/http.sh [rounds=3] [seconds=5] [connections=50]
# Needs `wrk` (Debian/Ubuntu: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${1:-3}
RUN_SECONDS=${2:-5}
CONNECTIONS=${3:-50}
SERVERS="corona native hyper"
PORT=18180

command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet -p corona-examples --example http_server
BIN=target/release/examples/http_server
CLK_TCK=$(getconf CLK_TCK)
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# wrk's "99%  1.23ms" line, in milliseconds.
p99_ms() {
  awk '$1 == "99%" {
    v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v);
    if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000;
    print v }'
}

echo "wrk -t1 -c$CONNECTIONS -d${RUN_SECONDS}s, $ROUNDS interleaved rounds, $(nproc) CPUs"
for round in $(seq "$ROUNDS"); do
  for server in $SERVERS; do
    PORT=$((PORT + 1))
    # The server exits by itself after this long even if this script dies.
    "$BIN" serve "$server" "127.0.0.1:$PORT" $((RUN_SECONDS + 30)) >/dev/null &
    pid=$!
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
      sleep 0.1
    done
    before=$(cpu_ticks "$pid")
    out=$(timeout $((RUN_SECONDS + 30)) wrk -t1 -c"$CONNECTIONS" -d"${RUN_SECONDS}s" --latency \
      "http://127.0.0.1:$PORT/")
    after=$(cpu_ticks "$pid")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    requests=$(echo "$out" | awk '/requests in/ { print $1 }')
    rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
    p99=$(echo "$out" | p99_ms)
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ { print }')
    cpu_us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
      'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    printf "round %d %-7s %10.0f req/s  p99 %7.2f ms  %6s us CPU/request %s\n" \
      "$round" "$server" "$rps" "$p99" "$cpu_us" "$errors"
    echo "$server $rps $p99 $cpu_us" >>"$RESULTS"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo
printf "%-8s %12s %10s %16s %14s\n" server "req/s" "p99 ms" "CPU us/request" "CPU vs native"
native_cpu=$(awk '$1 == "native" { print $4 }' "$RESULTS" | median)
for server in $SERVERS; do
  rps=$(awk -v s="$server" '$1 == s { print $2 }' "$RESULTS" | median)
  p99=$(awk -v s="$server" '$1 == s { print $3 }' "$RESULTS" | median)
  cpu=$(awk -v s="$server" '$1 == s { print $4 }' "$RESULTS" | median)
  printf "%-8s %12.0f %10.2f %16.2f %14.2f\n" "$server" "$rps" "$p99" "$cpu" \
    "$(awk -v a="$cpu" -v b="$native_cpu" 'BEGIN { print a / b }')"
done
