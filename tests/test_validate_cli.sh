#!/bin/sh
# mesosim validate from the outside: exit status 0/1/2, one FILE:LINE:COL: PATH: message line
# per problem on stdout, summary on stderr.
# usage: test_validate_cli.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
. "$(dirname "$0")/cli_util.sh"
cu_begin validate

expect_line() {
    grep -qxF -- "$1" "$tmp/out" || fail "$2: no line '$1' in: $out"
}

run validate --help
expect_rc 0 "--help"
case $out in *"usage: mesosim validate"*) ;; *) fail "--help prints no usage: $out" ;; esac

run validate
expect_rc 2 "no files"
[ -z "$out" ] || fail "no files: stdout not empty: $out"

run validate --frobnicate "$src/scenarios/adult_back.json"
expect_rc 2 "unknown option"

run validate "$src"/scenarios/adult_back.json "$src"/scenarios/adolescent_back.json \
    "$src"/scenarios/hyperkeratosis.json "$src"/scenarios/thin_skin.json \
    "$src"/scenarios/excess_adipose.json
expect_rc 0 "presets"
[ -z "$out" ] || fail "presets: stdout not empty: $out"
case $err in *"5 files valid"*) ;; *) fail "presets: summary: $err" ;; esac

cat >"$tmp/bad.json" <<'JSON'
{
  "version": 1,
  "probe": {"freq_mhz": 0, "depht_mm": 15},
  "phantom": {
    "layers": [
      {"tissue": "dermis", "thickness_mm": -1},
      {"tissue": "muscle"}
    ]
  }
}
JSON
run validate "$tmp/bad.json"
expect_rc 1 "bad.json"
expect_line "$tmp/bad.json:3:25: probe.freq_mhz: must be within 10..22 MHz, got 0" "range"
expect_line "$tmp/bad.json:3:28: probe.depht_mm: unknown key \"depht_mm\" (did you mean \"depth_mm\"?)" "unknown key"
expect_line "$tmp/bad.json:6:44: phantom.layers[0].thickness_mm: must be within 0.005..50 mm, got -1" "thickness"
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "bad.json: expected 3 lines: $out"
case $err in *"1 of 1 file invalid (3 problems)"*) ;; *) fail "bad.json: summary: $err" ;; esac

# Every line has the documented shape.
if grep -vqE '^[^:]+:[0-9]+:[0-9]+: [^ ]+: .+$' "$tmp/out"; then
    fail "malformed line in: $out"
fi

printf '{\n  "version": 1,\n  "seed": 1,,\n}\n' >"$tmp/syntax.json"
run validate "$tmp/syntax.json"
expect_rc 1 "syntax"
case $out in "$tmp/syntax.json:3:13: \$: invalid JSON:"*) ;; *) fail "syntax: $out" ;; esac

run validate "$tmp/missing.json"
expect_rc 1 "missing file"
expect_line "$tmp/missing.json:0:0: \$: cannot open: No such file or directory" "missing file"

: >"$tmp/empty.json"
run validate "$src/scenarios/adult_back.json" "$tmp/empty.json"
expect_rc 1 "good and empty"
case $out in "$tmp/empty.json:0:0: \$: empty"*) ;; *) fail "empty: $out" ;; esac
case $err in *"1 of 2 files invalid"*) ;; *) fail "good and empty: summary: $err" ;; esac

cu_finish "mesosim validate"
