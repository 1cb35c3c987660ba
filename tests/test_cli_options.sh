#!/bin/sh
# The option table (sim/app/cli_util.h, cli_parse_args) from the outside: --help prints the
# usage and exits 0; a missing or bad value, an unknown option and a second operand exit 2
# with the same words in every command that reads its options through the table.
# usage: test_cli_options.sh MESOSIM_BINARY
set -u
bin=$1
. "$(dirname "$0")/cli_util.sh"
cu_begin options

# expect_err RC WORDS WHAT ARGS...: the run exits RC and says WORDS on stderr
expect_err() {
    want_rc=$1 words=$2 what=$3
    shift 3
    run "$@"
    expect_rc "$want_rc" "$what"
    case $err in *"$words"*) ;; *) fail "$what: stderr lacks '$words': $err" ;; esac
}

for c in bench replay history; do
    run "$c" --help
    expect_rc 0 "$c --help"
    case $out in "usage: mesosim $c"*) ;; *) fail "$c --help prints no usage: $out" ;; esac
done

expect_err 2 "mesosim bench: --frames needs a whole number from 1 to 1000000 (got '0')" "bench --frames 0" \
    bench --frames 0
expect_err 2 "mesosim bench: --frames needs a whole number from 1 to 1000000" "bench --frames without a value" \
    bench --frames
expect_err 2 "--threads needs a whole number from 1 to 8 (got '2x')" "bench --threads 2x" bench --threads 2x
expect_err 2 "mesosim bench: unknown option '--bogus'" "bench --bogus" bench --bogus
case $err in *"usage: mesosim bench"*) ;; *) fail "bench --bogus shows no usage: $err" ;; esac
expect_err 2 "mesosim bench: unexpected argument 'frames'" "bench frames" bench frames
expect_err 2 "mesosim bench: --scenario needs a value" "bench --scenario without a value" bench --scenario

expect_err 2 "mesosim bench --sweep: --frames needs a whole number from 1 to 100000 (got '100001')" \
    "bench --sweep --frames 100001" bench --sweep --frames 100001
expect_err 2 "mesosim bench --sweep: unknown option '--isa' (--frames N, --threads N, --json)" \
    "bench --sweep --isa" bench --sweep --isa base
expect_err 2 "mesosim bench --driver: --presses needs a whole number from 1 to 1000000 (got 'x')" \
    "bench --driver --presses x" bench --driver --presses x
expect_err 2 "mesosim bench --haptics: --seconds needs a whole number from 1 to 3600 (got '0')" \
    "bench --haptics --seconds 0" bench --haptics --seconds 0
expect_err 2 "mesosim bench --igtl: unknown option '--json2' (--seconds N, --json)" "bench --igtl --json2" \
    bench --igtl --json2

expect_err 2 "mesosim replay: one session at a time ('ab12' and 'cd34')" "replay with two sessions" \
    replay ab12 cd34 --report "$tmp/r.json"
expect_err 2 "mesosim replay: --db needs a value" "replay --db without a value" replay ab12 --report "$tmp/r.json" --db
expect_err 2 "mesosim replay: unknown option '--frce'" "replay --frce" replay ab12 --report "$tmp/r.json" --frce
expect_err 2 "mesosim replay: a SESSION_ID and --report are required" "replay without --report" replay ab12
expect_err 2 "mesosim history: --trainee needs a value" "history --trainee without a value" history --trainee
expect_err 2 "mesosim history: unexpected argument 'everyone'" "history everyone" history everyone
[ -e "$tmp/r.json" ] && fail "a refused replay wrote its report"

cu_finish "option table"
