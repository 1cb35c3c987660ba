#!/bin/sh
# A -DMESOSIM_GUI=OFF build: every way into the window (no command, --scenario, --bench-frames,
# --help-window) says the build has no window and exits 1; --help says so too.
# usage: test_no_window.sh MESOSIM_BINARY
set -u
bin=$1
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
msg="this build has no window (built with -DMESOSIM_GUI=OFF)"
for args in "" "--scenario x.json" "--bench-frames 10" "--help-window"; do
    # shellcheck disable=SC2086
    err=$("$bin" $args 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 1 ] || fail "mesosim $args: exit status $rc, expected 1"
    case $err in *"$msg"*) ;; *) fail "mesosim $args: no '$msg' in: $err" ;; esac
done
out=$("$bin" --help) || fail "mesosim --help: exit status $?"
case $out in *"no trainer window"*) ;; *) fail "--help does not say the build has no window: $out" ;; esac
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "no window: 4 ways in, each exits 1 with the message"
