#!/bin/sh
# How long `mesosim report` takes to print a PDF (issue 12: a three-page PDF under 2 s).
# Records three bundled sessions for one trainee and one for another, then times, best of 5:
# a session's debrief (4 pages: the case and score, the tables, the B-mode snapshots replayed
# at each injection, the learning curve), the trainee's record and the programme's (3 pages).
# usage: bench/report_pdf.sh [MESOSIM_BINARY]
set -eu
bin=${1:-build/mesosim}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_bench_report.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
db=$tmp/records.db
for s in adult_back.novice adult_back.expert thin_skin.expert; do
    "$bin" run --scenario "scenarios/${s%.*}.json" --actions "scenarios/sessions/$s.log" \
        --report "$tmp/$s.json" --trainee "Dr Bench" --db "$db" >/dev/null
done
"$bin" run --scenario scenarios/tutorial.json --actions scenarios/sessions/tutorial.expert.log \
    --report "$tmp/t.json" --trainee "Dr Other" --db "$db" >/dev/null
id=$("$bin" history --db "$db" --trainee "Dr Bench" --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["sessions"][1]["id"])')
best() { # label command...
    label=$1
    shift
    b=999999
    for i in 1 2 3 4 5; do
        t0=$(date +%s%N)
        out=$("$@")
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        [ "$ms" -lt "$b" ] && b=$ms
    done
    echo "$label: $b ms best of 5 ($out)"
}
best "session debrief" "$bin" report --session "$id" --db "$db" --out "$tmp/s.pdf"
best "trainee record " "$bin" report --trainee "Dr Bench" --db "$db" --out "$tmp/t.pdf"
best "cohort record  " "$bin" report --cohort --db "$db" --out "$tmp/c.pdf"
