#!/bin/sh
# The records on a real PostgreSQL server (tests/pg_server.sh: Debian's postgresql, a
# temporary cluster): a session recorded through a postgresql:// URL lists in history and
# replays to the identical report; the schema is migrated there as in SQLite (blind and
# guided sessions compared there, schema 3 upgraded to 4 from the reports it kept); the server
# stopped and restarted mid-session loses nothing and duplicates nothing (the station's
# outbox sends it on, then empties); a station that starts with the server down records into
# its outbox and sends it when the server is back; the password is never printed and a URL
# that holds one is refused.
# usage: test_records_pg.sh CHILD MESOSIM_BINARY SOURCE_DIR
set -u
child=$1
bin=$2
src=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_pg.XXXXXX") || exit 1
chmod 711 "$tmp" # the server runs as nobody when the tests run as root (pg_server.sh)
pg=$tmp/pg
server() { sh "$src/tests/pg_server.sh" "$@"; }
trap 'server destroy "$pg"; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
url=$(server start "$pg") || { echo "FAIL: cannot start a PostgreSQL server"; exit 1; }
export PGPASSFILE=$pg/pgpass XDG_DATA_HOME=$tmp/xdg
port=$(cat "$pg/port")
password=$(cut -d: -f5 "$pg/pgpass")
q() { psql -X -q -t -A -h 127.0.0.1 -p "$port" -U mesosim -d records -c "$1"; }
scen=$src/scenarios/adult_back.json
demo=$src/scenarios/sessions/adult_back_demo.jsonl
outbox=$tmp/xdg/mesosim/outbox.db

"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r1.json" --trainee "Dr Ada" --db "$url" >"$tmp/out" 2>"$tmp/err" ||
    fail "run on the server: $(cat "$tmp/err")"
id=$(sed -n 's/.*"session":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out")
[ "$(q 'SELECT version FROM schema_version')" = 4 ] || fail "the server's schema is not version 4"
[ "$(q "SELECT count(*) FROM actions WHERE session_id = '$id'")" = 27 ] || fail "the server does not hold the 27 actions"
[ "$(q "SELECT count(*) FROM injections WHERE session_id = '$id' AND verdict = 'intradermal'")" = 2 ] ||
    fail "the server does not hold the injections"
"$bin" history --trainee "Dr Ada" --db "$url" --json >"$tmp/h.json" 2>"$tmp/err" || fail "history: $(cat "$tmp/err")"
grep -q "\"id\": \"$id\"" "$tmp/h.json" || fail "history on the server: $(cat "$tmp/h.json")"
"$bin" replay "$id" --db "$url" --report "$tmp/r2.json" >"$tmp/out" 2>"$tmp/err" || fail "replay: $(cat "$tmp/err")"
cmp -s "$tmp/r1.json" "$tmp/r2.json" || fail "replay from the server: the report differs"

# Blind versus guided on the server: a blind run and its guided twin's, the blind column and
# the intradermal count from their reports; then the server's store taken back to schema 3
# upgrades to 4 with blind derived from the reports it kept, history's figures unchanged.
blindc=$src/scenarios/blind_back.json
sed 's/"ultrasound": false/"ultrasound": true/' "$blindc" >"$tmp/twin.json"
"$bin" run --scenario "$blindc" --actions "$src/scenarios/sessions/blind_back.expert.log" --report "$tmp/b1.json" \
    --trainee "Dr Blind" --db "$url" --force >/dev/null 2>"$tmp/err" || fail "blind run on the server: $(cat "$tmp/err")"
"$bin" run --scenario "$tmp/twin.json" --actions "$src/scenarios/sessions/blind_back.novice.log" --report "$tmp/g1.json" \
    --trainee "Dr Blind" --db "$url" --force >/dev/null 2>"$tmp/err" || fail "guided run on the server: $(cat "$tmp/err")"
nb=$(grep -c '"verdict": "intradermal"' "$tmp/b1.json")
ng=$(grep -c '"verdict": "intradermal"' "$tmp/g1.json")
want="0|$ng
1|$nb"
[ "$(q "SELECT blind, intradermal FROM sessions WHERE trainee = 'Dr Blind' ORDER BY blind")" = "$want" ] ||
    fail "the server's blind and intradermal: $(q "SELECT blind, intradermal FROM sessions WHERE trainee = 'Dr Blind'")"
"$bin" history --trainee "Dr Blind" --db "$url" --json >"$tmp/bh.json" 2>"$tmp/err" || fail "history: $(cat "$tmp/err")"
q "ALTER TABLE sessions DROP COLUMN blind; ALTER TABLE sessions DROP COLUMN intradermal; UPDATE schema_version SET version = 3"
"$bin" history --trainee "Dr Blind" --db "$url" --json >"$tmp/bh3.json" 2>"$tmp/err" || fail "history after 3: $(cat "$tmp/err")"
[ "$(q 'SELECT version FROM schema_version')" = 4 ] || fail "the server's schema 3 was not upgraded to 4"
python3 - "$tmp" "$nb" "$ng" <<'PY' || fail "the server's blind_vs_guided: $(cat "$tmp/bh.json")"
import json, sys
t, nb, ng = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
h = json.load(open(t + '/bh.json'))
assert h == json.load(open(t + '/bh3.json'))
c = h['blind_vs_guided']['cases']
assert len(c) == 1 and c[0]['blind']['intradermal'] == nb and c[0]['guided']['intradermal'] == ng, c
assert c[0]['blind']['injections'] == len(json.load(open(t + '/b1.json'))['injections']), c
PY

# The server stopped and restarted mid-session.
# 27 actions 300 ms apart: the server is down from about the 3rd action and back, on a loaded
# machine, well before the session's end at 8 s.
"$child" "$url" "$scen" "$demo" 300 >"$tmp/cout" 2>"$tmp/cerr" &
pid=$!
sleep 0.8
server stop "$pg" || fail "cannot stop the server"
sleep 0.5
server restart "$pg" >/dev/null || fail "cannot restart the server"
wait "$pid" || fail "the session failed: $(cat "$tmp/cerr")"
cid=$(sed -n 's/^session //p' "$tmp/cout")
grep -q "not answering" "$tmp/cerr" || fail "the station did not notice the server going: $(cat "$tmp/cerr")"
[ "$(q "SELECT count(*) FROM sessions WHERE id = '$cid'")" = 1 ] || fail "restart: the session is not once on the server"
[ "$(q "SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM actions WHERE session_id = '$cid'")" = "27|27|1|27" ] ||
    fail "restart: actions lost or doubled: $(q "SELECT count(*), max(seq) FROM actions WHERE session_id = '$cid'")"
[ "$(q "SELECT count(*) FROM injections WHERE session_id = '$cid'")" = 2 ] || fail "restart: injections"
[ "$(sqlite3 "$outbox" 'SELECT count(*) FROM sessions')" = 0 ] || fail "restart: the outbox still holds sessions"
"$bin" replay "$cid" --db "$url" --report "$tmp/r3.json" >"$tmp/out" 2>"$tmp/err" || fail "restart: replay: $(cat "$tmp/err")"
grep -q '"recorded_report":"identical"' "$tmp/out" || fail "restart: replay: $(cat "$tmp/out")"

# A station that starts while the server is down.
server stop "$pg"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r4.json" --trainee "Dr Bo" --db "$url" >"$tmp/out" 2>"$tmp/err" ||
    fail "run with the server down: $(cat "$tmp/err")"
grep -q "not answering" "$tmp/err" || fail "server down: no word of it: $(cat "$tmp/err")"
[ "$(sqlite3 "$outbox" "SELECT count(*) FROM sessions WHERE trainee = 'Dr Bo'")" = 1 ] || fail "server down: not in the outbox"
server restart "$pg" >/dev/null || fail "cannot restart the server"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r5.json" --trainee "Dr Bo" --db "$url" >/dev/null 2>"$tmp/err" ||
    fail "run after the restart: $(cat "$tmp/err")"
[ "$(q "SELECT count(*) FROM sessions s JOIN reports r ON r.session_id = s.id WHERE s.trainee = 'Dr Bo' AND s.ended_unix_s IS NOT NULL")" = 2 ] ||
    fail "server back: the outbox was not sent"
[ "$(sqlite3 "$outbox" 'SELECT count(*) FROM sessions')" = 0 ] || fail "server back: the outbox is not empty"

# A session that ends while the server is down reaches it when it is back, within the same
# run (the window goes on after a session): the writer thread goes on trying.
server stop "$pg"
"$child" "$url" "$scen" "$demo" 0 12 >"$tmp/lout" 2>"$tmp/lerr" &
pid=$!
k=0
until grep -q '^done' "$tmp/lout" || [ $k -ge 100 ]; do sleep 0.1; k=$((k + 1)); done
lid=$(sed -n 's/^session //p' "$tmp/lout")
grep -q '^done' "$tmp/lout" || fail "linger: the session did not end: $(cat "$tmp/lerr")"
[ "$(sqlite3 "$outbox" "SELECT count(*) FROM sessions WHERE id = '$lid'")" = 1 ] || fail "linger: not in the outbox"
server restart "$pg" >/dev/null || fail "cannot restart the server"
k=0
until [ "$(q "SELECT count(*) FROM reports WHERE session_id = '$lid'")" = 1 ] || [ $k -ge 80 ]; do sleep 0.1; k=$((k + 1)); done
[ "$(q "SELECT count(*) FROM reports WHERE session_id = '$lid'")" = 1 ] ||
    fail "linger: the server back, the ended session was not sent within the run: $(cat "$tmp/lerr")"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[ "$(q "SELECT count(*) FROM actions WHERE session_id = '$lid'")" = 27 ] || fail "linger: actions lost"
[ "$(sqlite3 "$outbox" "SELECT count(*) FROM sessions WHERE id = '$lid'")" = 0 ] || fail "linger: still in the outbox"

# The password: refused in a URL, never printed.
"$bin" history --db "postgresql://mesosim:$password@127.0.0.1:$port/records" >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q PGPASSFILE "$tmp/err" || fail "a URL with a password: $(cat "$tmp/err")"
cat "$tmp"/err "$tmp"/cerr "$tmp"/out "$tmp"/cout "$tmp"/lerr | grep -qF "$password" && fail "the password was printed"
server stop "$pg"
"$bin" history --db "$url" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot connect to $url" "$tmp/err" || fail "server gone: $(cat "$tmp/err")"

[ "$fails" -eq 0 ] && echo "test_records_pg: ok"
[ "$fails" -eq 0 ]
