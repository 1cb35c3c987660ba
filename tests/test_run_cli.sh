#!/bin/sh
# mesosim run from the outside: the demo session scores a pass, the report is written, frames
# are written per injection, a broken action file is refused with FILE:LINE: reason, bad usage
# exits 2, and two runs give the same report bytes.
# usage: test_run_cli.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/cli_util.sh"
cu_begin run
scen=$src/scenarios/adult_back.json
demo=$src/scenarios/sessions/adult_back_demo.jsonl

"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r1.json" --frames "$tmp/frames" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "demo: exit $rc: $(cat "$tmp/err")"
grep -q '"pass":true' "$tmp/out" || fail "demo: stdout says no pass: $(cat "$tmp/out")"
grep -q '"verdict": "intradermal"' "$tmp/r1.json" || fail "demo: no intradermal verdict in the report"
grep -q '"pass": true' "$tmp/r1.json" || fail "demo: report says no pass"
for f in injection_01_start injection_01_end injection_02_start injection_02_end; do
    [ -s "$tmp/frames/$f.png" ] || fail "demo: no frame $f.png"
done
ls "$tmp" | grep -q tmp && fail "a temporary report file was left behind"

"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/r2.json" >/dev/null 2>&1
cmp -s "$tmp/r1.json" "$tmp/r2.json" || fail "two runs of the demo differ"

printf '{"t":0,"do":"step","name":"positioning"}\n\n{"t":1,"do":"advance"}\n' >"$tmp/bad.jsonl"
"$bin" run --scenario "$scen" --actions "$tmp/bad.jsonl" --report "$tmp/r3.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "bad line: exit $rc, expected 1"
grep -qF "$tmp/bad.jsonl:3: \"advance\" needs key \"mm\"" "$tmp/err" || fail "bad line: stderr: $(cat "$tmp/err")"
[ -e "$tmp/r3.json" ] && fail "bad line: a report was written"

printf '{"t":0,"do":"advance","mm":1}\n' >"$tmp/late.jsonl"
"$bin" run --scenario "$scen" --actions "$tmp/late.jsonl" --report "$tmp/r4.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "advance before entry: exit $rc, expected 1"
grep -qF "late.jsonl:1: advance needs the needle on the skin" "$tmp/err" || fail "advance before entry: stderr: $(cat "$tmp/err")"

# A version-2 log names the scenario it was recorded on by content hash: played on a changed
# case it stops and says so; --force replays it anyway.
{ printf '{"mesosim_log":2,"simulator":"0.0.9","scenario":"Adult back","scenario_hash":"0123456789abcdef","seed":1}\n'
  cat "$demo"; } >"$tmp/v2.jsonl"
"$bin" run --scenario "$scen" --actions "$tmp/v2.jsonl" --report "$tmp/r5.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "v2 log on a changed scenario: exit $rc, expected 1"
grep -q "recorded on scenario \"Adult back\" with content hash 0123456789abcdef" "$tmp/err" ||
    fail "v2 mismatch: stderr: $(cat "$tmp/err")"
grep -q -- "--force" "$tmp/err" || fail "v2 mismatch: no --force hint: $(cat "$tmp/err")"
[ -e "$tmp/r5.json" ] && fail "v2 mismatch: a report was written"
"$bin" run --scenario "$scen" --actions "$tmp/v2.jsonl" --report "$tmp/r6.json" --force >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || fail "v2 --force: exit $rc: $(cat "$tmp/err")"
grep -q '"scenario_hash": "[0-9a-f]\{16\}"' "$tmp/r6.json" || fail "report has no scenario_hash"
grep -q '"simulator_version": "' "$tmp/r6.json" || fail "report has no simulator_version"
# Logs recorded under the hash's first definition (tests/fixtures, made before it changed)
# still replay on their unchanged cases without --force; on a changed case they are refused.
for c in adult_back knee_peripatellar; do
    "$bin" run --scenario "$src/scenarios/$c.json" --actions "$src/tests/fixtures/${c}_hash1.jsonl" \
        --report "$tmp/h1.json" >"$tmp/out" 2>"$tmp/err" || fail "$c: a log of the first hash: $(cat "$tmp/err")"
    grep -q '"pass":true' "$tmp/out" || fail "$c: a log of the first hash: $(cat "$tmp/out")"
done
sed 's/"seed": 1,/"seed": 2,/' "$scen" >"$tmp/seed2.json"
"$bin" run --scenario "$tmp/seed2.json" --actions "$src/tests/fixtures/adult_back_hash1.jsonl" \
    --report "$tmp/h2.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "the case has changed since" "$tmp/err" ||
    fail "a log of the first hash on a changed case: exit $rc: $(cat "$tmp/err")"
printf '{"mesosim_log":9,"simulator":"9","scenario":"x","scenario_hash":"0123456789abcdef"}\n' >"$tmp/v9.jsonl"
"$bin" run --scenario "$scen" --actions "$tmp/v9.jsonl" --report "$tmp/r7.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "v9 log: exit $rc, expected 1"
grep -q "newer than this simulator reads" "$tmp/err" || fail "v9 log: stderr: $(cat "$tmp/err")"

"$bin" run --scenario "$scen" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "missing options: exit $rc, expected 2"
"$bin" run --help | grep -q "usage: mesosim run" || fail "--help prints no usage"

cu_finish "mesosim run"
