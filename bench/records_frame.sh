#!/bin/sh
# What recording costs the window's frame (issue 12: at most +1 ms on the p99 frame time).
# Runs `mesosim --bench-frames` twice on the same scripted session, without and with
# --trainee (the session recorded as it goes into a fresh SQLite store), alternating three
# times, and prints each run's JSON line, the difference of the best p99s, and the recorders'
# own time on the frame thread (record_ms_p99, record_ms_max). The window needs
# a display: this runs it under tests/run_gl.sh (a private Xvfb, else SDL's offscreen GL).
# usage: bench/records_frame.sh [MESOSIM_BINARY] [FRAMES]
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/mesosim}
frames=${2:-600}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_bench_frame.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
run() { # out-file [options...]
    out=$1
    shift
    sh tests/run_gl.sh xvfb "$bin" --bench-frames "$frames" --json "$@" >>"$out"
}
for i in 1 2 3; do
    run "$tmp/plain"
    run "$tmp/rec" --trainee "Dr Bench" --db "$tmp/records.db"
done
cat "$tmp/plain" "$tmp/rec"
p99() { sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p' "$1" | sort -n | head -1; }
sessions=$(sqlite3 "$tmp/records.db" 'SELECT count(*) FROM sessions')
echo "p99 without recording $(p99 "$tmp/plain") ms, with $(p99 "$tmp/rec") ms (best of 3; $sessions sessions recorded)"
awk -v a="$(p99 "$tmp/plain")" -v b="$(p99 "$tmp/rec")" 'BEGIN { printf "p99 difference: %+.3f ms (budget +1 ms)\n", b - a }'
# The recorders' own time on the frame thread, free of the frame time's noise (worst of 3).
rec=$(sed -n 's/.*"record_ms_p99":\([0-9.]*\).*/\1/p' "$tmp/rec" | sort -n | tail -1)
recmax=$(sed -n 's/.*"record_ms_max":\([0-9.]*\).*/\1/p' "$tmp/rec" | sort -n | tail -1)
echo "recorders on the frame thread while recording: p99 $rec ms, max $recmax ms (worst of 3)"
