#!/bin/sh
# The records from the outside: mesosim run --trainee records a session that history lists and
# replay plays back to the identical report; a changed case is refused in plain words (and
# --force replays it); the first schema's fixture (tests/data/records_v1.db) upgrades without
# loss and replays; bad usage exits 2; a junk file, an unknown session and a store from a
# newer program give plain errors. The settings file (records.conf) gives run, history and
# replay their db; one others can read, one with a password in its URL, or one with an unknown
# key is refused in plain words. A case run guided and with --blind is one case in history, an
# arm each, and the blind session replays blind from the records or from its log's header.
# usage: test_records_cli.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_records.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# The settings file of whoever runs the tests must not redirect these runs.
XDG_CONFIG_HOME=$tmp/config
export XDG_CONFIG_HOME
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
scen=$src/scenarios/adult_back.json
demo=$src/scenarios/sessions/adult_back_demo.jsonl
db=$tmp/rec.db
num2() { # the first number after "KEY": in a file, to 2 decimals
    sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" "$1" | head -1 | awk '{ printf "%.2f", $1 }'
}

"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r1.json" --trainee "Dr Ada" --db "$db" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "run --trainee: exit $rc: $(cat "$tmp/err")"
id=$(sed -n 's/.*"session":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out")
[ -n "$id" ] || fail "run --trainee: no session id on stdout: $(cat "$tmp/out")"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r0.json" --trainee "Dr Bo" --db "$db" >/dev/null 2>&1 ||
    fail "second trainee's run failed"

"$bin" history --trainee "Dr Ada" --db "$db" --json >"$tmp/h.json" 2>"$tmp/err" || fail "history: $(cat "$tmp/err")"
[ "$(grep -c '"id":' "$tmp/h.json")" = 1 ] || fail "history: not one session: $(cat "$tmp/h.json")"
grep -q "\"id\": \"$id\"" "$tmp/h.json" || fail "history: wrong id"
grep -q '"pass": true' "$tmp/h.json" || fail "history: no pass"
[ "$(num2 "$tmp/h.json" score)" = "$(num2 "$tmp/r1.json" total)" ] || fail "history: the score is not the report's"
"$bin" history --db "$db" >"$tmp/all" || fail "history of everyone failed"
grep -q "^Dr Ada .* 1 .* 1 " "$tmp/all" && grep -q "^Dr Bo " "$tmp/all" || fail "history of everyone: $(cat "$tmp/all")"

"$bin" replay "$id" --db "$db" --report "$tmp/r2.json" >"$tmp/out" 2>"$tmp/err" || fail "replay: $(cat "$tmp/err")"
cmp -s "$tmp/r1.json" "$tmp/r2.json" || fail "replay: the report differs from the recorded run's"
grep -q '"recorded_report":"identical"' "$tmp/out" || fail "replay: $(cat "$tmp/out")"
"$bin" replay "$(echo "$id" | cut -c1-8)" --db "$db" --report "$tmp/r3.json" >/dev/null 2>&1 || fail "replay by prefix"

# A case changed since the session: refused, with --force replayed.
sed 's/"seed": 1,/"seed": 2,/' "$scen" >"$tmp/case.json"
"$bin" run --scenario "$tmp/case.json" --actions "$demo" --report "$tmp/c1.json" --trainee "Dr Cy" --db "$db" --force >"$tmp/out" 2>/dev/null ||
    fail "run on the copied case"
cid=$(sed -n 's/.*"session":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out")
sed 's/"seed": 2,/"seed": 3,/' "$scen" >"$tmp/case2.json" && mv "$tmp/case2.json" "$tmp/case.json"
"$bin" replay "$cid" --db "$db" --report "$tmp/c2.json" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "changed case: exit $rc, expected 1"
grep -q "the case has changed since" "$tmp/err" || fail "changed case: $(cat "$tmp/err")"
[ -e "$tmp/c2.json" ] && fail "changed case: a report was written"
"$bin" replay "$cid" --db "$db" --report "$tmp/c2.json" --force >/dev/null 2>&1 || fail "changed case with --force"

# The first schema upgrades without loss and its session replays.
cp "$src/tests/data/records_v1.db" "$tmp/v1.db"
"$bin" history --trainee "Dr Fixture" --db "$tmp/v1.db" --json >"$tmp/v1.json" 2>"$tmp/err" || fail "v1: $(cat "$tmp/err")"
[ "$(grep -c '"id":' "$tmp/v1.json")" = 1 ] && grep -q '"actions": 27,' "$tmp/v1.json" &&
    grep -q '"injections": 2,' "$tmp/v1.json" || fail "v1: upgraded history: $(cat "$tmp/v1.json")"
[ "$(sqlite3 "$tmp/v1.db" 'SELECT version FROM schema_version')" = 4 ] || fail "v1: not upgraded to version 4"
# Its report has no "blind": a guided session, its two intradermal injections counted.
[ "$(sqlite3 "$tmp/v1.db" "SELECT blind, intradermal FROM sessions")" = "0|2" ] ||
    fail "v1: blind and intradermal not derived: $(sqlite3 "$tmp/v1.db" 'SELECT blind, intradermal FROM sessions')"
grep -q '"blind": false,' "$tmp/v1.json" || fail "v1: history does not say guided: $(cat "$tmp/v1.json")"
[ "$(sqlite3 "$tmp/v1.db" "SELECT count(*) FROM feedback WHERE message LIKE 'Passed:%'")" = 1 ] || fail "v1: no feedback filled in"
[ "$(sqlite3 "$tmp/v1.db" "SELECT count(*) FROM injections WHERE approach = 'out_of_plane' AND bleb_mm > 0")" = 2 ] ||
    fail "v1: injections not filled in"
[ "$(sqlite3 "$tmp/v1.db" 'PRAGMA integrity_check')" = ok ] || fail "v1: integrity check"
"$bin" replay 5e551011 --db "$tmp/v1.db" --report "$tmp/v1r.json" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "does not say which scenario file" "$tmp/err" || fail "v1: replay without --scenario: $(cat "$tmp/err")"
# The case file it was recorded on, as it was then (tests/data/records_v1_adult_back.json): the
# scenario format has gained fields since (level, goals, bones, ...) that enter the canonical text,
# so its hash no longer matches and the replay must say so; with --force it replays, on today's
# physics, to a report of the same injections (not byte-identical: the physics moved on).
v1scen=$src/tests/data/records_v1_adult_back.json
"$bin" replay 5e551011 --db "$tmp/v1.db" --report "$tmp/v1r.json" --scenario "$v1scen" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "the case has changed since" "$tmp/err" || fail "v1: replay on the old case: $(cat "$tmp/err")"
"$bin" replay 5e551011 --db "$tmp/v1.db" --report "$tmp/v1r.json" --scenario "$v1scen" --force >"$tmp/out" 2>"$tmp/err" ||
    fail "v1: replay --force: $(cat "$tmp/err")"
grep -q '"actions":27' "$tmp/out" || fail "v1: replay: $(cat "$tmp/out")"
[ "$(grep -c '"verdict": "intradermal"' "$tmp/v1r.json")" = 2 ] || fail "v1: replayed injections: $(cat "$tmp/v1r.json")"

# Blind versus guided (issue 13): one trainee's runs of blind_back.json and of its guided twin
# (the same file with the ultrasound shown: the same case by name), and of the guided adult back
# (a case not done blind). history's figures are the counts of the reports' own verdicts.
blindc=$src/scenarios/blind_back.json
sed 's/"ultrasound": false/"ultrasound": true/' "$blindc" >"$tmp/guided_twin.json"
logs=$src/scenarios/sessions
k=0
for run in "$blindc expert" "$blindc novice" "$blindc novice" "$tmp/guided_twin.json expert" \
    "$tmp/guided_twin.json expert" "$tmp/guided_twin.json novice"; do
    set -- $run
    k=$((k + 1))
    "$bin" run --scenario "$1" --actions "$logs/blind_back.$2.log" --report "$tmp/bg$k.json" --trainee "Dr Blind" \
        --db "$db" --force >/dev/null 2>"$tmp/err" || fail "blind/guided run $k: $(cat "$tmp/err")"
done
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/bg7.json" --trainee "Dr Blind" --db "$db" >/dev/null 2>&1 ||
    fail "blind/guided: the adult back run"
"$bin" history --trainee "Dr Blind" --db "$db" --json >"$tmp/bg.json" 2>"$tmp/err" || fail "history: $(cat "$tmp/err")"
python3 - "$tmp" <<'PY' || fail "history's blind_vs_guided is not the reports' counts: $(cat "$tmp/bg.json")"
import json, sys
t = sys.argv[1]
h = json.load(open(t + '/bg.json'))
arms = {}
for k in range(1, 8):
    r = json.load(open('%s/bg%d.json' % (t, k)))
    key = (r['scenario'], bool(r.get('blind')))
    a = arms.setdefault(key, [0, 0, 0])
    a[0] += 1
    a[1] += len(r['injections'])
    a[2] += sum(i['verdict'] == 'intradermal' for i in r['injections'])
assert sum(1 for k in arms if k[1]) == 1 and len(arms) == 3, arms
def arm(o):
    assert o['rate'] is None if o['injections'] == 0 else abs(o['rate'] - o['intradermal'] / o['injections']) < 1e-5, o
    return [o['sessions'], o['injections'], o['intradermal']]
def total(blind, cases=None):
    s = [0, 0, 0]
    for (name, b), a in arms.items():
        if b == blind and (cases is None or name in cases):
            s = [x + y for x, y in zip(s, a)]
    return s
bvg = h['blind_vs_guided']
paired = [n for (n, b) in arms if b and (n, False) in arms]
assert arm(bvg['blind']) == total(True) and arm(bvg['guided']) == total(False), bvg
assert arm(bvg['same_cases']['blind']) == total(True, paired), bvg
assert arm(bvg['same_cases']['guided']) == total(False, paired), bvg
assert [c['scenario'] for c in bvg['cases']] == paired, bvg
c = bvg['cases'][0]
assert arm(c['blind']) == arms[(c['scenario'], True)] and arm(c['guided']) == arms[(c['scenario'], False)], c
blind = [s for s in h['sessions'] if s['blind']]
assert len(blind) == 3 and all(s['scenario'] == paired[0] for s in blind), h['sessions']
assert bvg['guided']['sessions'] == 4 and bvg['same_cases']['guided']['sessions'] == 3
print('blind %d/%d, guided %d/%d on the same case' % (total(True)[2], total(True)[1], total(False, paired)[2],
      total(False, paired)[1]))
PY
"$bin" history --trainee "Dr Blind" --db "$db" >"$tmp/bg.txt" || fail "history text"
grep -q "^  the cases done both ways  *blind " "$tmp/bg.txt" && [ "$(grep -c '  blind$' "$tmp/bg.txt")" = 3 ] ||
    fail "history text: blind versus guided: $(cat "$tmp/bg.txt")"

# Any case practised blind (run --blind): one trainee's guided and blind runs of the bundled adult
# back are one case in history, an arm each; the blind report is the guided one but for "blind"
# (the case file's scenario_hash in both); replay, and a log whose header says "blind", replay it
# to the identical report without --blind.
exl=$logs/adult_back.expert.log
"$bin" run --scenario "$scen" --actions "$exl" --report "$tmp/og.json" --trainee "Dr Opt" --db "$db" >/dev/null \
    2>"$tmp/err" || fail "guided run: $(cat "$tmp/err")"
"$bin" run --scenario "$scen" --actions "$exl" --report "$tmp/ob.json" --trainee "Dr Opt" --db "$db" --blind \
    >"$tmp/out" 2>"$tmp/err" || fail "run --blind: $(cat "$tmp/err")"
oid=$(sed -n 's/.*"session":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out")
"$bin" replay "$oid" --db "$db" --report "$tmp/ob2.json" >"$tmp/out" 2>"$tmp/err" || fail "replay --blind run: $(cat "$tmp/err")"
cmp -s "$tmp/ob.json" "$tmp/ob2.json" && grep -q '"recorded_report":"identical"' "$tmp/out" ||
    fail "replay of the --blind run: not the identical report: $(cat "$tmp/out")"
hash=$(sed -n 's/.*"scenario_hash": "\([0-9a-f]*\)".*/\1/p' "$tmp/og.json" | head -1)
{ printf '{"mesosim_log":2,"simulator":"0.1.0","scenario":"Adult back","scenario_hash":"%s","seed":1,"blind":true}\n' \
      "$hash"; cat "$exl"; } >"$tmp/ob.log"
"$bin" run --scenario "$scen" --actions "$tmp/ob.log" --report "$tmp/ob3.json" --no-record >/dev/null 2>"$tmp/err" ||
    fail "run of a blind header's log: $(cat "$tmp/err")"
cmp -s "$tmp/ob.json" "$tmp/ob3.json" || fail "a log whose header says blind: not the --blind run's report"
"$bin" history --trainee "Dr Opt" --db "$db" --json >"$tmp/oh.json" 2>"$tmp/err" || fail "history: $(cat "$tmp/err")"
python3 - "$tmp" <<'PY' || fail "run --blind: $(cat "$tmp/oh.json")"
import json, sys
t = sys.argv[1]
g, b = json.load(open(t + '/og.json')), json.load(open(t + '/ob.json'))
assert 'blind' not in g and b.pop('blind') is True and b == g, 'the blind report is not the guided one but for blind'
bvg = json.load(open(t + '/oh.json'))['blind_vs_guided']
assert [c['scenario'] for c in bvg['cases']] == ['Adult back'], bvg
c = bvg['cases'][0]
n = len(g['injections'])
id_ = sum(i['verdict'] == 'intradermal' for i in g['injections'])
for arm in (c['blind'], c['guided']):
    assert [arm['sessions'], arm['injections'], arm['intradermal']] == [1, n, id_], c
print('Adult back: blind and guided arms of one case, %d/%d intradermal each' % (id_, n))
PY

# Bad usage and bad stores.
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/x.json" --trainee A --no-record >/dev/null 2>&1
[ $? -eq 2 ] || fail "--trainee with --no-record: not exit 2"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/x.json" --db "$db" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--db without --trainee: not exit 2"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/x.json" --no-record >"$tmp/out" 2>&1 || fail "--no-record run"
grep -q session "$tmp/out" && fail "--no-record: a session id was printed"
"$bin" replay --db "$db" --report "$tmp/x.json" >/dev/null 2>&1
[ $? -eq 2 ] || fail "replay without an id: not exit 2"
head -c 20000 /dev/urandom >"$tmp/junk.db"
"$bin" history --db "$tmp/junk.db" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "not a usable records database" "$tmp/err" || fail "junk db: $(cat "$tmp/err")"
"$bin" replay 0000ffff --db "$db" --report "$tmp/x.json" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "no session 0000ffff" "$tmp/err" || fail "unknown session: $(cat "$tmp/err")"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/x.json" --trainee "$(printf 'a\tb')" --db "$db" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "control characters" "$tmp/err" || fail "bad name: $(cat "$tmp/err")"
# The settings file: its db serves run, history and replay when --db is not given.
conf=$XDG_CONFIG_HOME/mesosim/records.conf
mkdir -p "$XDG_CONFIG_HOME/mesosim"
printf '# the station\n  db = %s  \n\ntrainee = Dr Conf\n' "$tmp/conf.db" >"$conf"
chmod 600 "$conf"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/c.json" --trainee "Dr Conf" >"$tmp/out" 2>"$tmp/err" ||
    fail "run with the settings' db: $(cat "$tmp/err")"
cid=$(sed -n 's/.*"session":"\([0-9a-f-]*\)".*/\1/p' "$tmp/out")
[ "$(sqlite3 "$tmp/conf.db" "SELECT trainee FROM sessions WHERE id = '$cid'")" = "Dr Conf" ] ||
    fail "the settings' db does not hold the session"
"$bin" history --trainee "Dr Conf" --json >"$tmp/h.json" 2>"$tmp/err" && grep -q "\"id\": \"$cid\"" "$tmp/h.json" ||
    fail "history with the settings' db: $(cat "$tmp/err")"
"$bin" replay "$cid" --report "$tmp/c2.json" >"$tmp/out" 2>"$tmp/err" && grep -q identical "$tmp/out" ||
    fail "replay with the settings' db: $(cat "$tmp/err")"
"$bin" history --db "$db" --trainee "Dr Conf" | grep -q "0 sessions" || fail "--db does not win over the settings"
chmod 644 "$conf"
"$bin" history >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "chmod 600" "$tmp/err" || fail "a settings file others can read: $(cat "$tmp/err")"
printf 'db = postgresql://lab:secret@127.0.0.1:5/records\n' >"$conf"
chmod 600 "$conf"
"$bin" history >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "PGPASSFILE" "$tmp/err" && ! grep -q secret "$tmp/err" ||
    fail "a password in the settings' URL: $(cat "$tmp/err")"
printf 'database = %s\n' "$tmp/conf.db" >"$conf"
"$bin" history >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "line 1: unknown setting 'database'" "$tmp/err" || fail "an unknown setting: $(cat "$tmp/err")"
rm "$conf"

sqlite3 "$db" 'UPDATE schema_version SET version = 7'
"$bin" history --db "$db" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "newer than this program" "$tmp/err" || fail "newer store: $(cat "$tmp/err")"

[ "$fails" -eq 0 ] && echo "test_records_cli: ok"
[ "$fails" -eq 0 ]
