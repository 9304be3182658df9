#!/usr/bin/env bash
# Times `apportion report` (release build) on generated months and prints the wall time and
# peak memory of each run. Usage: scripts/bench-report.sh [ROWS...] (default: 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet
bin=target/release/apportion
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for rows in "${@:-1000000}"; do
    dir="$work/month-$rows"
    "$bin" sample --rows "$rows" --out "$dir" 2>/dev/null
    logs="$dir/gateway-2026-11.csv"
    cat "$logs" > /dev/null   # into the page cache
    size=$(du -h "$logs" | cut -f1)
    for run in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$work/time" \
            "$bin" report --config "$dir/apportion.toml" --ledger "$dir/ledger-2026-10.csv" \
            --format json "$logs" > /dev/null
        read -r seconds kib < "$work/time"
        echo "rows=$rows file=$size run=$run seconds=$seconds peak_rss_mib=$((kib / 1024))"
    done
done
