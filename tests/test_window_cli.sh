#!/bin/sh
# The window's command line: --bench-frames prints the documented JSON; with no display the
# program says how to get one and exits non-zero (no hang, no crash); a bad scenario and a
# missing font give messages and a non-zero exit; the subcommands still answer.
# usage: test_window_cli.sh MESOSIM SOURCE_DIR (run through run_gl.sh, which picks the display)
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" --bench-frames 20 --json >"$tmp/bench.json" 2>"$tmp/bench.err"
rc=$?
if [ $rc -ne 0 ] && grep -q -e "cannot open a display" -e "no OpenGL" -e "cannot open a window" "$tmp/bench.err"; then
    cat "$tmp/bench.err" >&2
    exit 77
fi
[ $rc -eq 0 ] || { cat "$tmp/bench.err" >&2; fail "--bench-frames exited $rc"; }
for key in median_ms p95_ms max_ms frames width height; do
    grep -q "\"$key\":" "$tmp/bench.json" || fail "--bench-frames --json has no $key: $(cat "$tmp/bench.json")"
done
grep -q '"frames":20,' "$tmp/bench.json" || fail "frames is not 20: $(cat "$tmp/bench.json")"
grep -q '"gl_errors":0' "$tmp/bench.json" || fail "GL errors: $(cat "$tmp/bench.json")"
"$bin" --bench-frames 5 >"$tmp/bench.txt" 2>&1 || fail "--bench-frames text form failed"
grep -q "median" "$tmp/bench.txt" || fail "no median in: $(cat "$tmp/bench.txt")"

# No display at all, no driver named: a message that names both ways out.
env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER timeout 60 "$bin" >"$tmp/nodisp.out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "no display: exit $rc (124 is a hang)"
[ $rc -lt 128 ] || fail "no display: killed by signal $((rc - 128))"
grep -q "SDL_VIDEODRIVER=offscreen" "$tmp/nodisp.out" || fail "no display: message lacks SDL_VIDEODRIVER=offscreen"
grep -q "Xvfb" "$tmp/nodisp.out" || fail "no display: message lacks Xvfb"

# A case that does not exist, and one that is broken: messages, exit 1.
timeout 60 "$bin" --scenario "$tmp/none.json" >"$tmp/none.out" 2>&1
[ $? -eq 1 ] || fail "missing scenario: expected exit 1"
grep -q "none.json" "$tmp/none.out" || fail "missing scenario: message does not name the file"
printf '{"version": 1, "name": 3}\n' >"$tmp/bad.json"
timeout 60 "$bin" --scenario "$tmp/bad.json" >"$tmp/bad.out" 2>&1
[ $? -eq 1 ] || fail "bad scenario: expected exit 1"
grep -q "bad.json:1:" "$tmp/bad.out" || fail "bad scenario: no FILE:LINE: message: $(cat "$tmp/bad.out")"

# --trainee records, --no-record does not: both at once is refused before any window opens.
timeout 60 "$bin" --no-record --trainee Ann >"$tmp/norec.out" 2>&1
[ $? -eq 2 ] || fail "--no-record with --trainee: expected exit 2"
grep -q "no-record" "$tmp/norec.out" || fail "--no-record with --trainee: message: $(cat "$tmp/norec.out")"

# No font: a message naming the package, exit 1.
MESOSIM_FONT="$tmp/no-font.ttf" timeout 60 "$bin" --bench-frames 3 >"$tmp/font.out" 2>&1
[ $? -eq 1 ] || fail "missing font: expected exit 1"
grep -q "fonts-dejavu-core" "$tmp/font.out" || fail "missing font: message lacks the package: $(cat "$tmp/font.out")"

# The bindings file was written with the defaults on first run.
grep -q "^needle_advance = Space" "$tmp/config/mesosim/bindings.conf" || fail "no default bindings file"

"$bin" render --help >/dev/null || fail "render --help"
"$bin" run --help >/dev/null || fail "run --help"
"$bin" validate "$src/scenarios/adult_back.json" >/dev/null || fail "validate"
echo "ok"
