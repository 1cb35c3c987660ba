#!/bin/sh
# Bad input and hostile conditions from the outside: a scenario with a 1e-170 mm surface
# feature is refused by name, never a crash (test_robust renders such a phantom built in code); action logs with CR or CRLF line ends give the same report as LF; --report
# and --out write through a symlink and keep it; runs killed with SIGKILL at random points
# leave no temporary file.
# usage: test_robust_cli.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/cli_util.sh"
cu_begin robust
scen=$src/scenarios/adult_back.json
demo=$src/scenarios/sessions/adult_back_demo.jsonl

# A feature whose squared width underflows: the range table refuses it with its path and
# range (it used to validate and then crash render with a wild write).
tiny=$src/tests/fuzz/corpus/scenario/surface_width_1e-170.json
"$bin" render --scenario "$tiny" --probe x=0 --out "$tmp/tiny.png" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] || fail "width 1e-170: render exit $rc, expected 1: $(cat "$tmp/err")"
grep -q "phantom.surface\[0\].width_mm: must be within" "$tmp/err" || fail "width 1e-170: stderr: $(cat "$tmp/err")"
[ -e "$tmp/tiny.png" ] && fail "width 1e-170: an image was written"

# CR and CRLF line ends: the same report as the LF log (the leading comment must not swallow
# the file).
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/lf.json" >/dev/null 2>&1 || fail "LF run failed"
tr '\n' '\r' <"$demo" >"$tmp/cr.jsonl"
sed 's/$/\r/' "$demo" >"$tmp/crlf.jsonl"
for e in cr crlf; do
    "$bin" run --scenario "$scen" --actions "$tmp/$e.jsonl" --report "$tmp/$e.json" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$e log: exit $rc: $(cat "$tmp/err")"
    grep -q '"injections":2' "$tmp/out" || fail "$e log: not two injections: $(cat "$tmp/out")"
    cmp -s "$tmp/lf.json" "$tmp/$e.json" || fail "$e log: the report differs from the LF log's"
done

# Symlinks: the link stays, the file it names gets the content.
mkdir "$tmp/real"
echo old >"$tmp/real/report.json"
ln -s real/report.json "$tmp/link.json"
"$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/link.json" >/dev/null 2>"$tmp/err" ||
    fail "report through a symlink: $(cat "$tmp/err")"
[ -L "$tmp/link.json" ] || fail "--report replaced the symlink"
cmp -s "$tmp/lf.json" "$tmp/real/report.json" || fail "--report: the symlink's target has not the report"
ln -s real/image.png "$tmp/link.png"
"$bin" render --out "$tmp/link.png" >/dev/null 2>"$tmp/err" || fail "--out through a symlink: $(cat "$tmp/err")"
[ -L "$tmp/link.png" ] || fail "--out replaced the symlink"
[ -s "$tmp/real/image.png" ] || fail "--out: the symlink's target has no image"
ls -A "$tmp" "$tmp/real" | grep -q '\.tmp' && fail "a temporary file was left beside a symlink's target"

# SIGKILL at random points of runs that write four frames and a report: whatever is left must
# be whole files under their own names. One run takes about 0.1-0.5 s; the loop stops after
# 4 s of kills.
mkdir "$tmp/kill"
start=$(date +%s)
i=0
while [ $(($(date +%s) - start)) -lt 4 ]; do
    "$bin" run --scenario "$scen" --actions "$demo" --report "$tmp/kill/report.json" \
        --frames "$tmp/kill/frames" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v s="$i$$" 'BEGIN { srand(s); printf "%.3f", rand() * 0.3 }')"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    i=$((i + 1))
done
left=$(ls -A "$tmp/kill" "$tmp/kill/frames" 2>/dev/null | grep '\.tmp')
[ -z "$left" ] || fail "after $i killed runs, temporary files are left: $left"
[ "$i" -ge 5 ] || fail "only $i runs were killed"
echo "killed $i runs"

cu_finish "robustness CLI"
