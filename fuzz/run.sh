#!/usr/bin/env bash
# Runs one fuzz target: first every input of fuzz/corpus/NAME (the seeds, and each crash found so
# far, kept as a regression input), then new inputs for FUZZ_SECONDS seconds (default 30). New
# interesting inputs go to WORK_DIR/NAME/, a crash to WORK_DIR/NAME/crash-*: copy it into
# fuzz/corpus/NAME/ with the fix.
#   fuzz/run.sh FUZZER NAME WORK_DIR
set -euo pipefail
fuzzer=$1 name=$2 work=$3/$name
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
case "$name" in  # a little above the longest input the code under test reads
  time) max_len=64 ;;
  jwt) max_len=5000 ;;
  *) max_len=16384 ;;
esac
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=$max_len -print_final_stats=1 -dict="$here/dict/$name.dict" -artifact_prefix="$work/" \
  "$work" "$here/corpus/$name"
