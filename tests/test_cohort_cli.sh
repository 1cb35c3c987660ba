#!/bin/sh
# mesosim cohort from the outside: 20 files that validate and are canonical, the same bytes
# for the same seed and others for another, the make-up in the files, bad usage refused.
# usage: test_cohort_cli.sh MESOSIM_BINARY
set -u
bin=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_cohort.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

"$bin" cohort --seed 5 --out "$tmp/a" >"$tmp/out" 2>&1 || fail "cohort --seed 5 exited $?: $(cat "$tmp/out")"
n=$(ls "$tmp/a"/cohort_*.json 2>/dev/null | wc -l)
[ "$n" -eq 20 ] || fail "expected 20 files, got $n"
"$bin" validate "$tmp/a"/*.json >/dev/null 2>&1 || fail "generated cases do not validate"
"$bin" format --check "$tmp/a"/*.json >/dev/null 2>&1 || fail "generated cases are not canonical"
"$bin" cohort --seed 5 --out "$tmp/b" >/dev/null 2>&1
diff -r "$tmp/a" "$tmp/b" >/dev/null || fail "the same seed wrote different files"
"$bin" cohort --seed 6 --out "$tmp/c" >/dev/null 2>&1
cmp -s "$tmp/a/cohort_01.json" "$tmp/c/cohort_01.json" && fail "another seed wrote the same patient"
females=$(grep -l '"sex": "female"' "$tmp/a"/*.json | wc -l)
[ "$females" -eq 9 ] || fail "expected 9 female patients (5 adolescents, 4 adults), got $females"
teens=$(grep -l '"age_years": 1[456],' "$tmp/a"/*.json | wc -l)
[ "$teens" -eq 10 ] || fail "expected 10 patients aged 14-16, got $teens"

"$bin" cohort --out "$tmp/d" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "cohort without --seed should exit 2"
grep -q -- "--seed and --out" "$tmp/err" || fail "no plain message for the missing --seed: $(cat "$tmp/err")"
"$bin" cohort --seed x --out "$tmp/d" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "cohort --seed x should exit 2"
"$bin" cohort --seed 1 --out /proc/no/such >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] || fail "cohort into an impossible folder should exit 1"

# --region: the same patients at the lateral elbow, every file valid, thinner skin, the region named.
"$bin" cohort --seed 7 --out "$tmp/e" --region lateral_elbow >/dev/null || fail "cohort --region lateral_elbow failed"
"$bin" validate "$tmp/e"/*.json >/dev/null || fail "the elbow cohort does not validate"
elbows=$(grep -l '"region": "lateral_elbow"' "$tmp/e"/*.json | wc -l)
[ "$elbows" -eq 20 ] || fail "expected 20 elbow patients, got $elbows"
grep -q '"tissue": "tendon"' "$tmp/e/cohort_12.json" || fail "the elbow patient has no tendon"
"$bin" cohort --seed 7 --out "$tmp/f" --region elbow >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "cohort --region elbow should exit 2"
grep -q "lateral_elbow" "$tmp/err" || fail "no list of regions for a bad --region: $(cat "$tmp/err")"

[ "$fails" -eq 0 ] && echo "test_cohort_cli: all passed"
exit "$fails"
