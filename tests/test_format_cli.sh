#!/bin/sh
# mesosim format from the outside: --check exit codes and the list of files that differ,
# rewriting to the canonical form (idempotent, still valid), invalid files left alone with
# validate-style lines; and mesosim render refusing a probe pose off the patch.
# usage: test_format_cli.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/cli_util.sh"
cu_begin format

run format --help
expect_rc 0 "--help"
case $out in *"usage: mesosim format"*) ;; *) fail "--help prints no usage: $out" ;; esac
run --help
case $out in *"format "*) ;; *) fail "mesosim --help does not list format: $out" ;; esac

run format
expect_rc 2 "no files"
run format --bogus x.json
expect_rc 2 "unknown option"

# The bundled cases are kept canonical.
run format --check "$src"/scenarios/adult_back.json "$src"/scenarios/adolescent_back.json \
    "$src"/scenarios/hyperkeratosis.json "$src"/scenarios/thin_skin.json \
    "$src"/scenarios/excess_adipose.json
expect_rc 0 "--check on the bundled cases"
[ -z "$out" ] || fail "bundled cases not canonical: $out"

# A hand-written file: valid, not canonical.
printf '{"version": 1, "name": "hand", "probe": {"freq_mhz": 15.0, "pose": {"x_mm": 1e1}}}\n' >"$tmp/h.json"
cp "$src/scenarios/adult_back.json" "$tmp/a.json"
printf '{"version": 1, "name": "b"}\n' >"$tmp/b.json"
cp "$tmp/h.json" "$tmp/h0.json"
run format --check "$tmp/a.json" "$tmp/h.json" "$tmp/b.json"
expect_rc 1 "--check on hand-written files"
[ "$out" = "$tmp/h.json
$tmp/b.json" ] || fail "--check lists: $out"
cmp -s "$tmp/h.json" "$tmp/h0.json" || fail "--check wrote h.json"
run format "$tmp/h.json"
expect_rc 0 "format h.json"
grep -q '^    "freq_mhz": 15,$' "$tmp/h.json" || fail "h.json: freq_mhz not canonical: $(cat "$tmp/h.json")"
grep -q '^      "x_mm": 10,$' "$tmp/h.json" || fail "h.json: x_mm not canonical"

run format "$tmp/a.json" "$tmp/b.json"
expect_rc 0 "format"
run format --check "$tmp/a.json" "$tmp/b.json"
expect_rc 0 "--check after format"
[ -z "$out" ] || fail "--check after format lists: $out"
cp "$tmp/a.json" "$tmp/a1.json"
run format "$tmp/a.json"
cmp -s "$tmp/a.json" "$tmp/a1.json" || fail "format is not idempotent"
run validate "$tmp/a.json" "$tmp/b.json"
expect_rc 0 "validate after format"
ls "$tmp" | grep -q tmp && fail "temporary files left: $(ls "$tmp")"

# The formatted file renders the same image as the hand-written one.
run render --scenario "$tmp/h0.json" --out "$tmp/orig.png"
expect_rc 0 "render original"
run render --scenario "$tmp/h.json" --out "$tmp/fmt.png"
expect_rc 0 "render formatted"
cmp -s "$tmp/orig.png" "$tmp/fmt.png" || fail "the formatted case renders another image"

# --check after the files, and an invalid file: validate's lines, left alone, exit 1.
printf '{"version": 1,\n "probe": {"freq_mhz": 30}}\n' >"$tmp/bad.json"
cp "$tmp/bad.json" "$tmp/bad0.json"
run format "$tmp/bad.json" --check
expect_rc 1 "invalid file"
grep -qxF "$tmp/bad.json:2:24: probe.freq_mhz: must be within 10..22 MHz, got 30" "$tmp/out" ||
    fail "invalid file: no validate-style line in: $out"
run format "$tmp/bad.json"
expect_rc 1 "format of an invalid file"
cmp -s "$tmp/bad.json" "$tmp/bad0.json" || fail "an invalid file was rewritten"
run format "$tmp/missing.json"
expect_rc 1 "missing file"
case $out in *"missing.json:0:0: \$: cannot open"*) ;; *) fail "missing file: $out" ;; esac

# render: off the patch is refused, as validate and run do.
run render --scenario "$src/scenarios/adult_back.json" --probe x=25 --out "$tmp/off.png"
expect_rc 1 "render off the patch"
case $err in *"off the 40 x 40 mm patch"*) ;; *) fail "render off the patch: $err" ;; esac
[ -e "$tmp/off.png" ] && fail "render off the patch wrote an image"
run render --scenario "$src/scenarios/adult_back.json" --probe y=-20.5 --out "$tmp/off.png"
expect_rc 1 "render off the patch in y"
run render --scenario "$src/scenarios/adult_back.json" --probe x=19.5 --out "$tmp/edge.png"
expect_rc 0 "render at the patch's edge"
run render --scenario "$src/scenarios/adult_back.json" --probe tilt=40 --out "$tmp/t.png"
expect_rc 2 "render tilt beyond the limit"
case $err in *"must be within -30..30 deg"*) ;; *) fail "render tilt: $err" ;; esac
run render --scenario "$src/scenarios/adult_back.json" --freq 30 --out "$tmp/t.png"
expect_rc 2 "render --freq beyond the limit"
case $err in *"must be within 10..22 MHz, got 30"*) ;; *) fail "render --freq: $err" ;; esac

cu_finish "mesosim format"
