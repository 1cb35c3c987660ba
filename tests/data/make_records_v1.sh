#!/bin/sh
# Makes tests/data/records_v1.db: a records store in the FIRST schema (version 1 of
# sim/store/records.c, copied here as it was and never to be edited), holding one trainee and
# the demo session on the adult back: its actions and its report, as mesosim 0.1.0 wrote them.
# test_records_cli.sh opens a copy with today's program, which must upgrade it without loss.
# usage: tests/data/make_records_v1.sh MESOSIM_BINARY   (run from the source tree)
set -eu
bin=$1
out=tests/data/records_v1.db
scen=scenarios/adult_back.json
demo=scenarios/sessions/adult_back_demo.jsonl
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_v1.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/report.json" --no-record >/dev/null
hash=$(sed -n 's/^ *"scenario_hash": "\([0-9a-f]*\)".*/\1/p' "$tmp/report.json")
id=5e551011-0000-4000-8000-00000000d0e0
{
    cat <<SQL
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE trainees (name TEXT PRIMARY KEY, created_unix_s DOUBLE PRECISION NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY, trainee TEXT NOT NULL REFERENCES trainees(name), scenario TEXT NOT NULL, scenario_hash TEXT NOT NULL, simulator TEXT NOT NULL, seed INTEGER NOT NULL, started_unix_s DOUBLE PRECISION NOT NULL, ended_unix_s DOUBLE PRECISION, finished INTEGER NOT NULL DEFAULT 0, score DOUBLE PRECISION, pass INTEGER, critical_failed INTEGER, report_json TEXT);
CREATE TABLE actions (session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL, line TEXT NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE injections (session_id TEXT NOT NULL REFERENCES sessions(id), idx INTEGER NOT NULL, t_s DOUBLE PRECISION, end_s DOUBLE PRECISION, volume_ml DOUBLE PRECISION, verdict TEXT, layer TEXT, tip_depth_mm DOUBLE PRECISION, margin_mm DOUBLE PRECISION, tip_in_slice INTEGER, tip_to_plane_mm DOUBLE PRECISION, dermis_fraction DOUBLE PRECISION, wheal INTEGER, vessel_punctured INTEGER, PRIMARY KEY (session_id, idx));
INSERT INTO schema_version (version) VALUES (1);
BEGIN;
INSERT INTO trainees VALUES ('Dr Fixture', 1764547200);
INSERT INTO sessions VALUES ('$id', 'Dr Fixture', 'Adult back', '$hash', '0.1.0', 1, 1764547260, 1764547335, 1,
  97.444967, 1, 0, rtrim(CAST(readfile('$tmp/report.json') AS TEXT), char(10)));
INSERT INTO injections VALUES ('$id', 0, 39, 41, 0.1, 'intradermal', 'dermis', 1.75, 0.785984, 1, 0.031089, 0.90625, 1, 0);
SQL
    grep -v '^#' "$demo" | grep -v '^$' | sed "s/'/''/g" | awk -v id="$id" \
        '{ printf "INSERT INTO actions VALUES (\047%s\047, %d, \047%s\047);\n", id, NR, $0 }'
    echo "COMMIT;"
} >"$tmp/v1.sql"
rm -f "$out"
sqlite3 "$out" <"$tmp/v1.sql"
echo "wrote $out"
