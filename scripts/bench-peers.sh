#!/usr/bin/env bash
# Compares `apportion report` with the same attribution written as one DuckDB query
# (scripts/peers/duckdb_month.py, whose docstring says exactly what it covers and leaves
# out), on months made by the project's own generator. It checks that both give the same
# figures per department, line and shared line, then prints the timings as a table.
#
# Usage: scripts/bench-peers.sh [--runs N] [--keep DIR] [ROWS...]
#   ROWS        row counts of the months to compare (default: 1000000 10000000)
#   --runs N    runs of each tool per month, in alternation (default 5; BENCH_PEERS_RUNS)
#   --keep DIR  keep the generated months and DuckDB's virtual environment in DIR and reuse
#               them next time (BENCH_PEERS_DIR); by default everything goes into a
#               temporary folder removed on exit. Generating 10,000,000 rows takes minutes.
#
# Exits 1 when the two disagree on any figure, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/apportion
helper=scripts/peers/duckdb_month.py
runs=${BENCH_PEERS_RUNS:-5}
keep=${BENCH_PEERS_DIR:-}
rows=()

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
}

parse_arguments() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --runs) runs=${2:?--runs needs a number}; shift 2 ;;
            --keep) keep=${2:?--keep needs a folder}; shift 2 ;;
            -h|--help) usage ;;
            -*) echo "unknown option $1" >&2; usage ;;
            *) rows+=("$1"); shift ;;
        esac
    done
    [ ${#rows[@]} -gt 0 ] || rows=(1000000 10000000)
    case "$runs" in ''|*[!0-9]*|0) echo "--runs must be a positive number" >&2; exit 2 ;; esac
}

# Months (and the virtual environment) live in the kept folder when one is given; the
# outputs of the runs always go to a temporary folder.
prepare_folders() {
    scratch=$(mktemp -d)
    if [ -n "$keep" ]; then
        mkdir -p "$keep"
        work=$(cd "$keep" && pwd)
        trap 'rm -rf "$scratch"' EXIT
    else
        work=$(mktemp -d)
        trap 'rm -rf "$scratch" "$work"' EXIT
    fi
    timings=$scratch/timings.tsv
    : > "$timings"
}

build() {
    echo "building apportion (release)" >&2
    cargo build --release --quiet
}

# The helper reads the configuration with tomllib, which came with Python 3.11.
check_python() {
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "python3 3.11 or later is needed (tomllib)" >&2
        exit 2
    fi
}

# DuckDB from PyPI: the python3 on the path if it has it, else a virtual environment in
# the work folder (reused with --keep), else the user's site-packages.
ensure_duckdb() {
    if python3 -c 'import duckdb' 2>/dev/null; then
        py=python3
        return
    fi
    local venv=$work/venv
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
        echo "installing duckdb from PyPI" >&2
        if python3 -m venv "$venv" 2>/dev/null; then
            "$venv/bin/python" -m pip install --quiet duckdb
        else
            rm -rf "$venv"
            python3 -m pip install --quiet --user duckdb
            py=python3
            return
        fi
    fi
    py=$venv/bin/python
}

# A month of N rows, generated once; `.complete` marks a month whose generation finished.
generate() {
    local n=$1 dir=$work/month-$1
    if [ ! -f "$dir/.complete" ]; then
        echo "generating $n rows into $dir" >&2
        rm -rf "$dir"
        "$bin" sample --rows "$n" --out "$dir" > /dev/null
        touch "$dir/.complete"
    fi
}

# One timed run of apportion. Without --ledger: the query cannot use the prior ledger, so
# neither does the run it is compared with. An empty data directory keeps any saved review
# session of the month out of the figures.
run_apportion() {
    local n=$1 run=$2 dir=$work/month-$1
    rm -rf "$scratch/data" && mkdir "$scratch/data"
    APPORTION_DATA=$scratch/data /usr/bin/time -f '%e %M' -o "$scratch/time" \
        "$bin" report --config "$dir/apportion.toml" --format json \
        "$dir/gateway-2026-11.csv" > "$scratch/apportion-$n-$run.json"
    read -r seconds kib < "$scratch/time"
    echo "$n apportion $seconds $kib -" >> "$timings"
}

# One timed run of the DuckDB query, in its own Python process (2 threads).
run_duckdb() {
    local n=$1 run=$2 dir=$work/month-$1
    local out=$scratch/duckdb-$n-$run.json
    /usr/bin/time -f '%e %M' -o "$scratch/time" \
        "$py" "$helper" query --threads 2 --config "$dir/apportion.toml" --out "$out" \
        "$dir/gateway-2026-11.csv"
    read -r seconds kib < "$scratch/time"
    local query
    query=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["query_seconds"])' "$out")
    echo "$n duckdb $seconds $kib $query" >> "$timings"
}

# The figures of one run pair must agree; the first disagreement stops the bench.
check_agreement() {
    local n=$1 run=$2 report
    if report=$(python3 "$helper" compare --label "$n rows, run $run" \
            "$scratch/apportion-$n-$run.json" "$scratch/duckdb-$n-$run.json"); then
        [ "$run" -eq 1 ] && echo "$report"
        return 0
    fi
    echo "$report"
    echo "apportion and DuckDB disagree on the month of $n rows (run $run); see above." >&2
    exit 1
}

# Runs in alternation, each after bringing the log into the page cache.
measure() {
    local n=$1 log=$work/month-$1/gateway-2026-11.csv run
    for run in $(seq 1 "$runs"); do
        cat "$log" > /dev/null
        run_apportion "$n" "$run"
        cat "$log" > /dev/null
        run_duckdb "$n" "$run"
        check_agreement "$n" "$run"
    done
}

main() {
    parse_arguments "$@"
    check_python
    prepare_folders
    build
    ensure_duckdb
    local n files=()
    for n in "${rows[@]}"; do
        generate "$n"
        measure "$n"
        files+=("$n=$work/month-$n/gateway-2026-11.csv")
    done
    echo
    echo "$("$bin" --version) against duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)')," \
         "same figures in every run."
    python3 "$helper" summary "$timings" "${files[@]}"
}

main "$@"
