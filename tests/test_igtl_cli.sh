#!/bin/sh
# test_igtl_cli.sh MESOSIM SOURCE_DIR SIM_PEN: the live options of `mesosim run`. Bad usage is
# refused with a message (exit 2), an unusable plugin, calibration, address or port is a plain
# error (exit 1); a whole session driven by the simulated pen plugin writes a report with the
# haptics and the final pose, and the forces the pen received rise and drop at the pop.
set -u
mesosim=$1
src=$2
pen=$3
scen=$src/scenarios/adult_back.json
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
# expect STATUS TEXT ARGS...: mesosim exits STATUS and says TEXT on stderr.
expect() {
    want=$1 text=$2
    shift 2
    timeout 30 "$mesosim" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "mesosim $* exited $got, not $want: $(cat "$tmp/err")"
    grep -q -- "$text" "$tmp/err" || fail "mesosim $*: no \"$text\" in: $(cat "$tmp/err")"
}

expect 2 "need --igtl-port or --haptic-plugin" run --scenario "$scen" --duration 1 --report "$tmp/r.json"
expect 2 "0..65535" run --scenario "$scen" --igtl-port 70000 --duration 1 --report "$tmp/r.json"
expect 2 "need --igtl-port" run --scenario "$scen" --igtl-image --haptic-plugin "$pen" --duration 1 --report "$tmp/r.json"
expect 2 "needs --scenario, --duration and --report" run --scenario "$scen" --igtl-port 0 --report "$tmp/r.json"
expect 2 "seconds" run --scenario "$scen" --igtl-port 0 --duration -3 --report "$tmp/r.json"
expect 1 "cannot load the haptic plugin" run --scenario "$scen" --haptic-plugin "$tmp/none.so" --duration 1 --report "$tmp/r.json"
expect 1 "sim_pen: speed_mm_s=fast" run --scenario "$scen" --haptic-plugin "$pen" --haptic-args speed_mm_s=fast --duration 1 --report "$tmp/r.json"
expect 1 "not an IPv4 address" run --scenario "$scen" --igtl-port 0 --igtl-bind nowhere --duration 1 --report "$tmp/r.json"
echo '{"scale": -1}' >"$tmp/cal.json"
expect 1 "scale must be" run --scenario "$scen" --igtl-port 0 --igtl-calibration "$tmp/cal.json" --duration 1 --report "$tmp/r.json"
expect 1 "cannot connect" run --scenario "$scen" --igtl-port 0 --igtl-image-to 127.0.0.1:1 --duration 1 --report "$tmp/r.json"
[ ! -e "$tmp/r.json" ] || fail "a refused run wrote a report"

# A port in use: the second server says so.
timeout 30 "$mesosim" run --scenario "$scen" --igtl-port 0 --duration 3 --report "$tmp/r0.json" 2>"$tmp/first.err" &
pids=$!
i=0
port=
while [ $i -lt 100 ] && [ -z "$port" ]; do
    port=$(sed -n 's/.*OpenIGTLink on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/first.err")
    sleep 0.05
    i=$((i + 1))
done
[ -n "$port" ] || fail "the first server did not say its port"
expect 1 "cannot listen on 127.0.0.1:$port" run --scenario "$scen" --igtl-port "$port" --duration 1 --report "$tmp/r.json"
wait
pids=
grep -q '"igtl"' "$tmp/r0.json" || fail "a live report without the igtl object"
grep -q '"received": 0' "$tmp/r0.json" || fail "messages counted where none were sent"

# A whole session with the simulated pen: it enters, the forces rise and drop at the pop.
timeout 60 "$mesosim" run --scenario "$scen" --duration 3 --report "$tmp/pen.json" --haptic-plugin "$pen" \
    --haptic-args "log=$tmp/forces.txt,speed_mm_s=2,depth_mm=3,start_mm=1" >"$tmp/out" 2>"$tmp/err" ||
    fail "the pen session failed: $(cat "$tmp/err")"
grep -q '"haptics"' "$tmp/pen.json" || fail "no haptics object in the report"
grep -q '"plugin_entries": 1' "$tmp/pen.json" || fail "the pen did not enter once: $(grep -A8 '"haptics"' "$tmp/pen.json")"
grep -q '"in_skin": true' "$tmp/pen.json" || fail "the needle is not in the skin at the end"
[ "$(wc -l <"$tmp/forces.txt")" -gt 1000 ] || fail "the pen received fewer than 1000 forces"
awk '{ m = sqrt($2 * $2 + $3 * $3 + $4 * $4); f[NR] = m; if (m > peak) { peak = m; at = NR } }
     END {
         if (f[1] > 1e-9) { print "force in the air: " f[1]; exit 1 }
         if (peak < 0.2) { print "no load: peak " peak; exit 1 }
         low = peak; for (i = at + 1; i <= NR && i < at + 200; i++) if (f[i] < low) low = f[i]
         if (low > 0.5 * peak) { print "no drop after the peak " peak ": " low; exit 1 }
         printf "pen forces: peak %.3f N at sample %d, then %.3f N\n", peak, at, low
     }' "$tmp/forces.txt" || fail "the pen's forces do not rise and pop"
echo ok
