#!/bin/sh
# test_igtl_peers.sh MESOSIM SOURCE_DIR WORK_DIR: mesosim against the real OpenIGTLink peers of
# Debian's openigtlink-examples, built here (about 15 s, once; kept in WORK_DIR):
#   - TrackerClient sends TRANSFORM "Tracker" to our server on 127.0.0.1: with --igtl-probe
#     Tracker and a calibration of scale 0.1, the session's probe ends where one of its poses
#     puts it (its path is deterministic: position 50 (cos phi, sin phi, cos phi), phi += 0.2 a
#     message, TrackerClient.cxx), and nothing it sent was dropped;
#   - ReceiveServer takes our IMAGE stream (--igtl-image-to): it reads each frame, checks the
#     CRC and prints its geometry.
# Skipped (77) when the examples or a C++ compiler are missing, unless CI=true. Every process
# is bounded by timeout; ports: ours picked free by the kernel (--igtl-port 0), ReceiveServer's
# tried until one is free.
set -u
mesosim=$1
src=$2
work=$3
ex=/usr/share/doc/openigtlink-examples/examples

skip() {
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: $1 (CI must run this test: apt-get install openigtlink-examples g++)"
        exit 1
    fi
    echo "SKIP: $1"
    exit 77
}
fail() {
    echo "FAIL: $*"
    exit 1
}

[ -f "$ex/CMakeLists.txt" ] || skip "openigtlink-examples is not installed"
command -v c++ >/dev/null 2>&1 || skip "no C++ compiler (g++)"
tc=$work/Tracker/TrackerClient
rs=$work/Receiver/ReceiveServer
if [ ! -x "$tc" ] || [ ! -x "$rs" ]; then
    mkdir -p "$work"
    if ! { cmake -S "$ex" -B "$work" && make -C "$work" TrackerClient ReceiveServer; } >"$work/build.log" 2>&1; then
        tail -20 "$work/build.log"
        fail "cannot build the OpenIGTLink examples (log: $work/build.log)"
    fi
fi

tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Waits for "OpenIGTLink on 127.0.0.1:PORT" on a live run's stderr; prints PORT.
port_of() {
    i=0
    while [ $i -lt 100 ]; do
        p=$(sed -n 's/.*OpenIGTLink on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1")
        if [ -n "$p" ]; then
            echo "$p"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# Value of "key" in the report's igtl object (the first after "igtl"), for numbers and bools.
igtl_value() {
    awk -v key="\"$2\":" '/"igtl":/ { on = 1 } on && index($0, key) { sub(/.*": */, ""); sub(/,$/, ""); print; exit }' "$1"
}

# --- TrackerClient drives the probe -------------------------------------------------------
cat >"$tmp/cal.json" <<'JSON'
{"scale": 0.1, "offset_mm": [0, 0, 0], "rotation": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}
JSON
timeout 30 "$mesosim" run --scenario "$src/scenarios/adult_back.json" --igtl-port 0 --igtl-probe Tracker \
    --igtl-calibration "$tmp/cal.json" --duration 3 --report "$tmp/r1.json" >"$tmp/run1.out" 2>"$tmp/run1.err" &
run=$!
pids="$run"
port=$(port_of "$tmp/run1.err") || fail "mesosim run did not say its port: $(cat "$tmp/run1.err")"
# 20 messages a second for 1.5 s; TrackerClient runs until killed.
timeout 1.5 "$tc" 127.0.0.1 "$port" 20 >"$tmp/tc.out" 2>&1
wait "$run" || fail "mesosim run failed: $(cat "$tmp/run1.err")"
pids=
[ -s "$tmp/r1.json" ] || fail "no report"
received=$(igtl_value "$tmp/r1.json" received)
dropped=$(igtl_value "$tmp/r1.json" dropped)
probe_poses=$(igtl_value "$tmp/r1.json" probe_poses)
x=$(igtl_value "$tmp/r1.json" x_mm)
y=$(igtl_value "$tmp/r1.json" y_mm)
echo "TrackerClient: received $received, dropped $dropped, probe poses $probe_poses, probe at ($x, $y)"
[ "${received:-0}" -ge 10 ] || fail "fewer than 10 TRANSFORMs arrived from TrackerClient ($received)"
[ "$dropped" = "0" ] || fail "$dropped of TrackerClient's messages were dropped"
[ "$probe_poses" = "$received" ] || fail "the \"Tracker\" device did not drive the probe ($probe_poses of $received)"
# The probe is where TrackerClient's k-th message put it, scaled by 0.1, for some k >= 1
# (the driver rounds to 0.001 mm).
awk -v x="$x" -v y="$y" 'BEGIN {
    phi = 0.0
    for (k = 0; k < 1000; k++) {
        if (k >= 1 && (x - 5.0 * cos(phi)) ^ 2 < 4e-6 && (y - 5.0 * sin(phi)) ^ 2 < 4e-6) { print "matches message " k; exit 0 }
        phi += 0.2
    }
    exit 1
}' || fail "the probe at ($x, $y) is on none of TrackerClient's positions"

# --- ReceiveServer takes the IMAGE stream --------------------------------------------------
rport=
try=0
while [ $try -lt 10 ] && [ -z "$rport" ]; do
    cand=$((20000 + ($$ * 7919 + try * 1013) % 40000))
    timeout 30 "$rs" "$cand" >"$tmp/rs.out" 2>&1 &
    rsp=$!
    sleep 0.3
    if kill -0 "$rsp" 2>/dev/null && ! grep -q "Cannot create" "$tmp/rs.out"; then
        rport=$cand
        pids="$rsp"
    fi
    try=$((try + 1))
done
[ -n "$rport" ] || fail "ReceiveServer found no free port"
timeout 30 "$mesosim" run --scenario "$src/scenarios/adult_back.json" --igtl-port 0 --igtl-image \
    --igtl-image-to "127.0.0.1:$rport" --duration 2 --report "$tmp/r2.json" >"$tmp/run2.out" 2>"$tmp/run2.err" ||
    fail "mesosim run with --igtl-image-to failed: $(cat "$tmp/run2.err")"
sleep 0.5
kill "$rsp" 2>/dev/null
wait "$rsp" 2>/dev/null
pids=
n=$(grep -c "Receiving IMAGE data type" "$tmp/rs.out")
sent=$(igtl_value "$tmp/r2.json" images_sent)
echo "ReceiveServer: $n IMAGE messages read of $sent sent"
grep -m1 -A8 "Receiving IMAGE" "$tmp/rs.out"
[ "$n" -ge 10 ] || fail "ReceiveServer read $n IMAGE messages in 2 s (30 fps asked)"
grep -q "Device Name *: Image" "$tmp/rs.out" || fail "no IMAGE named \"Image\""
grep -q "Scalar Type *: 3" "$tmp/rs.out" || fail "the IMAGE is not 8-bit unsigned (scalar type 3)"
grep -q "Dimensions *: (256, [0-9][0-9]*, 1)" "$tmp/rs.out" || fail "the IMAGE is not one slice of 256 lines"
echo "ok"
