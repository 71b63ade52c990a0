#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md in one run, into one log file:
#   cargo bench -p corona           core, generator, io, pool, stacks, scope (plain harnesses)
#   corona/benches/instructions.sh  instructions per operation of the hot paths (valgrind)
#   corona/benches/http.sh          HTTP servers under wrk (needs `wrk`; skipped, and said so)
# The log starts with the machine (CPUs, model, kernel, memory, load) so that figures and the
# machine they came from stay together. Run it on an otherwise idle machine: it takes several
# minutes (the million-coroutine case alone about a minute per side and repetition).
#
# Usage: corona/benches/run-all.sh [log file]   (default: target/bench-<date>.log)
set -euo pipefail
cd "$(dirname "$0")/../.."

LOG=${1:-target/bench-$(date -u +%Y%m%dT%H%M%SZ).log}
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

{
  echo "# corona benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "# CPUs: $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "# kernel: $(uname -r), memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $(rustc --version)"
} | tee -a "$LOG"

for bench in core generator io pool stacks scope; do
  echo | tee -a "$LOG"
  echo "## cargo bench -p corona --bench $bench" | tee -a "$LOG"
  cargo bench --quiet -p corona --bench "$bench" 2>&1 | tee -a "$LOG"
done

# A script that needs a tool the machine may lack: run it, or say it was skipped and why.
script_needing() { # tool script [how to get the tool]
  echo | tee -a "$LOG"
  echo "## $2" | tee -a "$LOG"
  if command -v "$1" >/dev/null; then
    "$2" 2>&1 | tee -a "$LOG"
  else
    echo "skipped: needs $1${3:+ ($3)}" | tee -a "$LOG"
  fi
}
script_needing valgrind corona/benches/instructions.sh
script_needing wrk corona/benches/http.sh "apt-get install wrk"

echo | tee -a "$LOG"
echo "# load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$LOG"
echo "log: $LOG"
