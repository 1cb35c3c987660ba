# cli_util.sh: what the command-line tests share. A test sets bin (the mesosim binary), then
#     . "$(dirname "$0")/cli_util.sh"
#     cu_begin NAME        # $tmp: a fresh folder, removed on exit; fails=0
# and ends with `cu_finish WHAT`, which prints the count and exits 1 when a check failed.
#     fail MESSAGE         counts a failure and says it
#     run ARGS...          runs "$bin" ARGS: sets rc, out (stdout) and err (stderr)
#     expect_rc RC WHAT    fails unless the last run exited RC

cu_begin() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/mesosim_$1.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
    fails=0
}

fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

run() {
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "$2: exit status $rc, expected $1 (stdout: $out; stderr: $err)"
}

cu_finish() {
    if [ "$fails" -ne 0 ]; then
        echo "$fails check(s) failed"
        exit 1
    fi
    echo "$1: all checks passed"
}
