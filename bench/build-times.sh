#!/usr/bin/env bash
# Clean build times on this machine, each in a fresh target folder, appended to
# bench/build-times.md with the date, the commit and the machine:
#   release  `cargo build --release --locked -p phm` (the default build: no Ballista)
#   tests    `cargo build --locked --workspace --all-targets --all-features` (what .ci/run builds)
#   cluster  `cargo build --release --locked -p phm --features cluster` (with Ballista)
# Usage: bash bench/build-times.sh [release] [tests] [cluster]   (default: release tests)
# BENCH_TARGET_DIR picks the target folder (default: a temporary one); it is emptied first.
# Other builds running at the same time slow these down: the load average at the start is
# recorded, and a note can be given in BENCH_NOTE.
set -euo pipefail
cd "$(dirname "$0")/.."

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(release tests)
dir="${BENCH_TARGET_DIR:-$(mktemp -d)}"
results=bench/build-times.md

if [ ! -f "$results" ]; then
  cat >"$results" <<'EOF'
# Clean build times

Written by `bench/build-times.sh`: each build starts from an empty target folder (all
dependencies compiled; the crates.io downloads already on disk).

| date | commit | build | command | wall time | machine | load at start | note |
|---|---|---|---|---|---|---|---|
EOF
fi

cpu="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
rust="$(rustc --version | cut -d' ' -f2)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/build-times.md' || echo '+changes')"

for kind in "${kinds[@]}"; do
  case "$kind" in
    release) cmd=(cargo build --release --locked -p phm) ;;
    tests) cmd=(cargo build --locked --workspace --all-targets --all-features) ;;
    cluster) cmd=(cargo build --release --locked -p phm --features cluster) ;;
    *) echo "unknown build '$kind': expected release, tests or cluster" >&2; exit 2 ;;
  esac
  rm -rf "$dir"
  mkdir -p "$dir"
  load="$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "bench: $kind: ${cmd[*]} (target $dir)" >&2
  start=$(date +%s)
  CARGO_TARGET_DIR="$dir" CARGO_INCREMENTAL=0 "${cmd[@]}" >&2
  secs=$(($(date +%s) - start))
  wall="$((secs / 60)) min $((secs % 60)) s"
  echo "bench: $kind: $wall" >&2
  printf '| %s | %s | %s | `%s` | %s | %s, %s, rustc %s | %s | %s |\n' \
    "$(date -u +%Y-%m-%d)" "$commit" "$kind" "${cmd[*]}" "$wall" "$cpu" "$mem" "$rust" "$load" "${BENCH_NOTE:-}" >>"$results"
done
[ -n "${BENCH_TARGET_DIR:-}" ] || rm -rf "$dir"
