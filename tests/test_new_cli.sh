#!/bin/sh
# mesosim new from the outside: --list names the presets, a case is written from each in the
# canonical form (format --check finds nothing to change, validate passes), named after its
# file; an existing file is kept without --force and replaced with it; bad usage exits 2.
# usage: test_new_cli.sh MESOSIM_BINARY
set -u
bin=$1
. "$(dirname "$0")/cli_util.sh"
cu_begin new

run new --list
expect_rc 0 "--list"
presets=$(echo "$out" | awk '{print $1}')
for p in normal adult adolescent hyperkeratosis thin_skin excess_adipose; do
    echo "$presets" | grep -qx "$p" || fail "--list lacks $p: $out"
done
run --help
case $out in *"new "*) ;; *) fail "mesosim --help does not list new: $out" ;; esac

for p in $presets; do
    run new --preset "$p" --out "$tmp/my_$p.json"
    expect_rc 0 "new --preset $p"
    run validate "$tmp/my_$p.json"
    expect_rc 0 "the $p case validates"
    run format --check "$tmp/my_$p.json"
    expect_rc 0 "the $p case is canonical"
    grep -q "\"name\": \"my_$p\"" "$tmp/my_$p.json" || fail "the $p case is not named after its file"
done
# The presets differ: each skin is its own case.
[ "$(cksum <"$tmp/my_thin_skin.json")" != "$(cksum <"$tmp/my_excess_adipose.json")" ] ||
    fail "thin_skin and excess_adipose wrote the same case"

cp "$tmp/my_normal.json" "$tmp/keep"
run new --preset thin_skin --out "$tmp/my_normal.json"
expect_rc 1 "an existing file without --force"
case $err in *"exists"*"--force"*) ;; *) fail "no words about the existing file: $err" ;; esac
cmp -s "$tmp/keep" "$tmp/my_normal.json" || fail "the existing file was changed without --force"
run new --preset thin_skin --out "$tmp/my_normal.json" --force
expect_rc 0 "--force"
# The same case as the thin_skin one but for its name.
grep -v '"name"' "$tmp/my_thin_skin.json" >"$tmp/a"
grep -v '"name"' "$tmp/my_normal.json" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || fail "--force did not write the thin_skin case"

run new --preset nosuch --out "$tmp/x.json"
expect_rc 2 "an unknown preset"
case $err in *"no preset 'nosuch'"*"thin_skin"*) ;; *) fail "the unknown preset is not named with the list: $err" ;; esac
[ -e "$tmp/x.json" ] && fail "an unknown preset wrote a file"
run new --preset normal
expect_rc 2 "no --out"
run new --out "$tmp/y.json" --bogus
expect_rc 2 "an unknown option"
run new --preset normal --out "$tmp/no/such/dir/z.json"
expect_rc 1 "an unwritable place"
[ -n "$err" ] || fail "no words for an unwritable place"

cu_finish "mesosim new"
