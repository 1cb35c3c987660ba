#!/bin/sh
# A -DMESOSIM_IGTL=OFF build: `mesosim run --igtl-port` and the window's --igtl-* options exit 2
# with a plain message saying the build has no OpenIGTLink (in a build without the window, the
# window's say it has no window); nothing is started.
# usage: test_no_igtl.sh MESOSIM_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
fails=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # expected-status pattern-a pattern-b args...
    want=$1 a=$2 b=$3
    shift 3
    err=$("$bin" "$@" 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq "$want" ] || fail "mesosim $*: exit status $rc, expected $want"
    case $err in *"$a"* | *"$b"*) ;; *) fail "mesosim $*: no '$a' in: $err" ;; esac
}
check 2 "this build has no OpenIGTLink" "-" run --scenario "$src/scenarios/adult_back.json" --igtl-port 0 \
    --duration 1 --report "$tmp/r.json"
[ -e "$tmp/r.json" ] && fail "mesosim run --igtl-port wrote a report"
for args in "--igtl-port 0" "--igtl-bind 127.0.0.1" "--igtl-calibration x.json"; do
    # shellcheck disable=SC2086
    err=$("$bin" $args 2>&1 >/dev/null)
    rc=$?
    case "$rc:$err" in
    2:*"this build has no OpenIGTLink"* | 1:*"this build has no window"*) ;;
    *) fail "mesosim $args: exit status $rc, message: $err" ;;
    esac
done
# A recorded session still plays.
"$bin" run --scenario "$src/scenarios/adult_back.json" --actions "$src/scenarios/sessions/adult_back_demo.jsonl" \
    --report "$tmp/plain.json" --no-record >/dev/null 2>&1 || fail "mesosim run of the demo session: exit status $?"
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "no OpenIGTLink: run and the window's 3 options each refused with the message"
