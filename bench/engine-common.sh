# Sourced by bench/engine.sh and bench/measures.sh after they set `store` and `threads`:
# builds target/release/phm unless PHM names a binary, checks that the store has a current
# snapshot, sets `pin` (taskset to the first `threads` cores when the machine has more) and
# reads the snapshot once so every timed run starts from the same page cache.
if [ -z "${PHM:-}" ]; then
  cargo build --release -q -p phm
  PHM=./target/release/phm
fi
if [ ! -d "$store/current/person" ]; then
  echo "no snapshot at $store/current (make one with bench/ingest.sh)" >&2
  exit 2
fi
pin=()
if [ "$(nproc)" -gt "$threads" ]; then
  pin=(taskset -c "0-$((threads - 1))")
fi
cat "$store"/current/*/*.parquet > /dev/null
