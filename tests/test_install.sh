#!/bin/sh
# cmake --install into a temporary DESTDIR: the program, the bundled cases (with their schema and
# sessions) and the docs land where GNUInstallDirs says; the program's data directory is the one
# the cases were installed to; the installed program prints its help, validates the installed
# cases, renders the default case and replays the installed demo session to the same report as
# the program in the build tree.
# usage: test_install.sh BUILD_DIR SOURCE_DIR FULL_BINDIR FULL_DATADIR FULL_DOCDIR
set -u
build=$(cd "$1" && pwd) || exit 1
src=$(cd "$2" && pwd) || exit 1
bindir=$3
datadir=$4
docdir=$5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

dest=$tmp/root
if ! DESTDIR=$dest "${CMAKE:-cmake}" --install "$build" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    echo "FAIL: cmake --install"
    exit 1
fi
# Every file goes under DESTDIR: nothing written to the real prefix.
outside=$(grep -- '-- \(Installing\|Up-to-date\):' "$tmp/install.log" | grep -v -- ": $dest/")
[ -z "$outside" ] || fail "installed outside DESTDIR: $outside"

bin=$dest$bindir/mesosim
data=$dest$datadir
[ -x "$bin" ] || fail "no executable $bindir/mesosim"
for f in "$src"/scenarios/*.json "$src"/scenarios/sessions/*; do
    rel=${f#"$src"/scenarios/}
    cmp -s "$f" "$data/scenarios/$rel" || fail "scenarios/$rel not installed to $datadir/scenarios"
done
[ -f "$data/scenarios/scenario.schema.json" ] || fail "no schema in $datadir/scenarios"
[ -f "$dest$docdir/README.md" ] || fail "no README.md in $docdir"
for f in "$src"/docs/*.md; do
    [ -f "$dest$docdir/$(basename "$f")" ] || fail "docs/$(basename "$f") not installed to $docdir"
done
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }

cd "$tmp" || exit 1
"$bin" --help >help.txt 2>&1 || fail "installed mesosim --help: exit status $?"
grep -q "^usage: mesosim" help.txt || fail "installed mesosim --help prints no usage: $(cat help.txt)"
# The directory the program searches for its cases is where the install put them.
grep -qF "$datadir/scenarios" help.txt || fail "the program does not look in $datadir/scenarios: $(cat help.txt)"

cases=$(ls "$data"/scenarios/*.json | grep -v '\.schema\.json$')
# shellcheck disable=SC2086
"$bin" validate $cases >validate.txt 2>&1 || fail "installed mesosim validate on the installed cases: $(cat validate.txt)"
grep -q "valid" validate.txt || fail "validate printed no summary: $(cat validate.txt)"

"$bin" render --out default.png >render.txt 2>&1 || fail "installed mesosim render (default case): $(cat render.txt)"
[ "$(head -c 4 default.png 2>/dev/null | tail -c 3)" = PNG ] || fail "render wrote no PNG"

"$bin" run --scenario "$data/scenarios/adult_back.json" --actions "$data/scenarios/sessions/adult_back_demo.jsonl" \
    --report installed.json >run.txt 2>&1 || fail "installed mesosim run on the demo session: $(cat run.txt)"
"$build/mesosim" run --scenario "$src/scenarios/adult_back.json" \
    --actions "$src/scenarios/sessions/adult_back_demo.jsonl" --report built.json >/dev/null 2>&1 ||
    fail "build-tree mesosim run on the demo session"
cmp -s installed.json built.json || fail "the installed program's demo report differs from the build tree's"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "installed to DESTDIR: $bindir/mesosim, $(echo "$cases" | wc -l) cases in $datadir/scenarios, docs in $docdir; help, validate, render, run OK"
