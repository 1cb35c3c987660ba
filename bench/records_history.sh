#!/bin/sh
# How long `mesosim history` takes on a trainee with 10 000 sessions (issue 12: under 0.2 s).
# Records one real session (the demo on the adult back), copies it 9 999 times in SQL with
# new ids (its actions, injections and feedback too: the store the query runs on is full
# size), then times history --json and history of everyone, best of 5.
# usage: bench/records_history.sh [MESOSIM_BINARY] [SESSIONS]
set -eu
bin=${1:-build/mesosim}
n=${2:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_bench_records.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
db=$tmp/records.db
"$bin" run --scenario scenarios/adult_back.json --actions scenarios/sessions/adult_back_demo.jsonl \
    --report "$tmp/r.json" --trainee "Dr Bench" --db "$db" >/dev/null
sqlite3 "$db" <<SQL
BEGIN;
CREATE TEMP TABLE k AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $n - 1) SELECT i FROM c;
CREATE TEMP TABLE src AS SELECT * FROM sessions;
INSERT INTO sessions SELECT printf('%08x-0000-4000-8000-%012x', k.i, k.i), trainee, scenario, scenario_hash, simulator,
  seed, started_unix_s + k.i, ended_unix_s + k.i, finished, score - (k.i % 50), pass, critical_failed,
  device, scenario_path, injections, actions, blind, intradermal FROM src, k;
INSERT INTO reports SELECT printf('%08x-0000-4000-8000-%012x', k.i, k.i), r.report_json FROM reports r, k;
INSERT INTO actions SELECT printf('%08x-0000-4000-8000-%012x', k.i, k.i), a.seq, a.line FROM actions a, k;
INSERT INTO injections SELECT printf('%08x-0000-4000-8000-%012x', k.i, k.i), j.idx, j.t_s, j.end_s, j.volume_ml,
  j.verdict, j.layer, j.tip_depth_mm, j.margin_mm, j.tip_in_slice, j.tip_to_plane_mm, j.dermis_fraction, j.wheal,
  j.vessel_punctured, j.approach, j.bleb_mm, j.spread_seen FROM injections j, k;
INSERT INTO feedback SELECT printf('%08x-0000-4000-8000-%012x', k.i, k.i), f.idx, f.severity, f.topic, f.injection,
  f.message FROM feedback f, k;
COMMIT;
SQL
echo "sessions: $(sqlite3 "$db" 'SELECT count(*) FROM sessions'), actions: $(sqlite3 "$db" 'SELECT count(*) FROM actions')"
best() { # command...
    b=999999
    for i in 1 2 3 4 5; do
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        [ "$ms" -lt "$b" ] && b=$ms
    done
    echo "$b"
}
echo "history --trainee --json: $(best "$bin" history --trainee "Dr Bench" --db "$db" --json) ms (best of 5)"
echo "history (every trainee):  $(best "$bin" history --db "$db") ms (best of 5)"
