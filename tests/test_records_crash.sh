#!/bin/sh
# Killing the program mid-session: a session process recording into the records
# (tests/records_crash_child.c, the demo with a pause between actions) is killed with SIGKILL
# at seeded random moments, several times into one database. Afterwards the database passes
# PRAGMA integrity_check, every killed session holds every action applied before the one in
# progress, and each replays (mesosim replay) from what was saved; a session that ran to its
# end replays to its recorded report.
# usage: test_records_crash.sh CHILD MESOSIM_BINARY SOURCE_DIR [SEED] [RUNS]
set -u
child=$1
bin=$2
src=$3
seed=${4:-12}
runs=${5:-6}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_crash.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
scen=$src/scenarios/adult_back.json
demo=$src/scenarios/sessions/adult_back_demo.jsonl
db=$tmp/rec.db
delay_ms=40
# 27 actions x 40 ms: kill between 0.05 and 1.0 s after the session began, from the seed.
times=$(awk -v s="$seed" -v n="$runs" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%.3f ", 0.05 + 0.95 * rand() }')
k=0
for t in $times; do
    k=$((k + 1))
    "$child" "$db" "$scen" "$demo" "$delay_ms" >"$tmp/out$k" 2>"$tmp/err$k" &
    pid=$!
    # The moment counts from the session's start (a sanitizer build starts slowly).
    w=0
    while ! grep -q '^session ' "$tmp/out$k" && [ "$w" -lt 200 ]; do
        sleep 0.05
        w=$((w + 1))
    done
    sleep "$t"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    id=$(sed -n 's/^session //p' "$tmp/out$k")
    applied=$(sed -n 's/^applied //p' "$tmp/out$k" | tail -1)
    applied=${applied:-0}
    [ -n "$id" ] || { fail "run $k (kill at $t s): no session started: $(cat "$tmp/err$k")"; continue; }
    [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "run $k: integrity check failed"
    saved=$(sqlite3 "$db" "SELECT count(*) FROM actions WHERE session_id = '$id'")
    # The action in progress (applied, its commit on the way) may be lost; nothing before it.
    [ "$saved" -ge $((applied - 1)) ] || fail "run $k (kill at $t s): $applied applied, only $saved saved"
    "$bin" replay "$id" --db "$db" --report "$tmp/replay$k.json" >"$tmp/rout$k" 2>"$tmp/rerr$k" ||
        fail "run $k: the saved session does not replay: $(cat "$tmp/rerr$k")"
    echo "run $k: killed at $t s after $applied actions applied, $saved saved, replayed"
done
# One run to its end: the recorded report, and its replay to the same bytes.
"$child" "$db" "$scen" "$demo" 0 >"$tmp/full" 2>&1 || fail "full run: $(cat "$tmp/full")"
id=$(sed -n 's/^session //p' "$tmp/full")
"$bin" replay "$id" --db "$db" --report "$tmp/full.json" >"$tmp/rfull" 2>&1 || fail "full run replay: $(cat "$tmp/rfull")"
grep -q '"recorded_report":"identical"' "$tmp/rfull" || fail "full run: $(cat "$tmp/rfull")"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity check at the end"
[ "$fails" -eq 0 ] && echo "test_records_crash: ok"
[ "$fails" -eq 0 ]
