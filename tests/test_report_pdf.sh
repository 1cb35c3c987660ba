#!/bin/sh
# test_report_pdf: mesosim report on recorded sessions renders PDFs with the expected pages, no
# blank page and B-mode content where the snapshots go (pdftoppm from poppler-utils).
# Usage: test_report_pdf.sh MESOSIM SOURCE_DIR
set -eu
exe=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Runs a command that must succeed and checks its stdout holds a text.
expect() { # text command...
    want=$1
    shift
    got=$("$@") || fail "$* exited with status $?"
    case $got in *"$want"*) ;; *) fail "$*: '$want' not in $got" ;; esac
}
command -v pdftoppm >/dev/null || fail "pdftoppm is missing (apt-get install poppler-utils)"

db=$tmp/records.db
for s in adult_back.novice adult_back.expert thin_skin.expert; do
    sc=${s%.*}
    "$exe" run --scenario "$src/scenarios/$sc.json" --actions "$src/scenarios/sessions/$s.log" \
        --report "$tmp/$s.json" --trainee "Dr Test" --db "$db" >/dev/null
done
id=$("$exe" history --db "$db" --trainee "Dr Test" --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["sessions"][1]["id"])')

# A session's debrief: page 1 case, score, feedback; 2 injections, events, checklist; 3 the
# snapshots; 4 the learning curve.
out=$("$exe" report --session "$id" --db "$db" --out "$tmp/s.pdf")
echo "$out" | grep -q '"pages":4' || fail "session debrief: $out"
echo "$out" | grep -q '"injection_snapshots":2' || fail "session debrief snapshots: $out"
pages=$(pdfinfo "$tmp/s.pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" = 4 ] || fail "pdfinfo says $pages pages, not 4"
pdftoppm -r 72 -gray "$tmp/s.pdf" "$tmp/page"

# Checks the PGM pages: none blank (ink on more than 1 % of it beyond the footer), and on
# page 3 the first snapshot's area (x 60..280 pt, y 100..150 pt at 72 dpi) is speckle-like:
# mid grey on average with a wide spread, not white paper or a flat fill.
python3 - "$tmp" <<'PY'
import glob, sys
def pgm(path):
    data = open(path, 'rb').read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b'P5', path
    w, h = int(parts[1]), int(parts[2])
    return w, h, parts[4][:w * h]
pages = sorted(glob.glob(sys.argv[1] + '/page-*.pgm'))
assert len(pages) == 4, pages
for p in pages:
    w, h, px = pgm(p)
    body = px[:w * int(h * 0.9)]
    ink = sum(1 for v in body if v < 200) / len(body)
    if ink < 0.01:
        sys.exit(f'FAIL: {p} is blank ({ink:.4f} of it inked)')
w, h, px = pgm(pages[2])
region = [px[y * w + x] for y in range(100, 150) for x in range(60, 280)]
mean = sum(region) / len(region)
sd = (sum((v - mean) ** 2 for v in region) / len(region)) ** 0.5
if not (30 < mean < 220 and sd > 20):
    sys.exit(f'FAIL: the snapshot area is not B-mode-like (mean {mean:.1f}, sd {sd:.1f})')
print(f'pages ok; snapshot area mean {mean:.1f}, sd {sd:.1f}')
PY

# The trainee's record and the programme's.
expect '"pages":2' "$exe" report --trainee "Dr Test" --db "$db" --out "$tmp/t.pdf"
expect '"pages":2' "$exe" report --cohort --db "$db" --out "$tmp/c.pdf"
# Blind versus guided (issue 13): a trainee with no blind session says so; one with blind runs
# of blind_back.json and of its guided twin (the ultrasound shown) gets their rates, counted
# here from the reports, in their record and in the programme's.
pdftotext -layout "$tmp/t.pdf" - | grep -q "No blind session yet" || fail "trainee record: no 'No blind session yet'"
sed 's/"ultrasound": false/"ultrasound": true/' "$src/scenarios/blind_back.json" >"$tmp/twin.json"
for r in "$src/scenarios/blind_back.json:expert:b1" "$src/scenarios/blind_back.json:novice:b2" "$tmp/twin.json:expert:g1"; do
    "$exe" run --scenario "${r%%:*}" --actions "$src/scenarios/sessions/blind_back.$(echo "$r" | cut -d: -f2).log" \
        --report "$tmp/${r##*:}.json" --trainee "Dr Blind" --db "$db" --force >/dev/null
done
arm() { # the intradermal/injections of report files, as the PDF writes them
    python3 -c 'import json,sys
n = d = 0
for f in sys.argv[1:]:
    inj = json.load(open(f))["injections"]
    n += len(inj); d += sum(i["verdict"] == "intradermal" for i in inj)
print("%d/%d (%.0f %%)" % (d, n, 100.0 * d / n))' "$@"
}
blind=$(arm "$tmp/b1.json" "$tmp/b2.json")
guided=$(arm "$tmp/g1.json")
expect '"pages":2' "$exe" report --trainee "Dr Blind" --db "$db" --out "$tmp/b.pdf"
pdftotext -layout "$tmp/b.pdf" "$tmp/b.txt"
grep -q "^Blind versus guided" "$tmp/b.txt" && grep -q "every session (2 blind, 1 guided) *$blind *$guided" "$tmp/b.txt" &&
    grep -q "the cases done both ways *$blind *$guided" "$tmp/b.txt" || fail "blind versus guided: $(cat "$tmp/b.txt")"
"$exe" report --cohort --db "$db" --out "$tmp/c2.pdf" >/dev/null
pdftotext -layout "$tmp/c2.pdf" - | grep -q "^Dr Blind *$blind *$guided" || fail "the programme's blind versus guided"
# From report files, with the session's log for the snapshots.
expect '"injection_snapshots":2' "$exe" report --from "$tmp/adult_back.expert.json" \
    --log "$src/scenarios/sessions/adult_back.expert.log" --scenario "$src/scenarios/adult_back.json" \
    --out "$tmp/f.pdf"

# Bad input: plain words, exit 1 or 2, no crash.
if "$exe" report --session nosuch --db "$db" --out "$tmp/x.pdf" 2>"$tmp/err"; then fail "unknown session accepted"; fi
grep -qi "session" "$tmp/err" || fail "unknown session: $(cat "$tmp/err")"
set +e
"$exe" report --trainee "Dr Test" --db "$db" --out "$tmp/x.pdf" --p0 0.3 --p1 0.2 2>"$tmp/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "below" "$tmp/err" || fail "swapped rates: rc $rc, $(cat "$tmp/err")"
echo '{"nope":1}' > "$tmp/bad.json"
if "$exe" report --from "$tmp/bad.json" --out "$tmp/x.pdf" 2>"$tmp/err"; then fail "a non-report accepted"; fi
grep -q "not a mesosim session report" "$tmp/err" || fail "non-report: $(cat "$tmp/err")"
# The LC-CUSUM check: within 18 cases nobody can signal (19 straight successes are needed at
# the defaults); within 19 only a run of 19 successes, 0.9^19 = 0.135 at p0.
expect '"signal_at_p1":0.0000,"signal_at_p0":0.0000' "$exe" report --cusum-check 18
expect '"signal_at_p0":0.13' "$exe" report --cusum-check 19
echo "test_report_pdf: ok"
