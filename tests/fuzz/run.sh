#!/bin/sh
# run.sh BUILD_DIR SECONDS: runs each libFuzzer target of a MESOSIM_FUZZ=ON build for at most
# SECONDS on a copy of its corpus (tests/fuzz/corpus/<target>, which stays as it is). Fails when
# a target crashes, leaks, hangs past 5 s on one input or goes over 2 GiB; the input that did it
# is left in BUILD_DIR/fuzz-findings/<target>/ and named, to be fixed and added to the corpus.
# tests/fuzz/<target>.dict, where there is one, gives the fuzzer the format's words.
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
status=0
for t in scenario actions bindings igtl; do
    bin=$build/tests/fuzz/fuzz_$t
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is missing (configure with -DCMAKE_C_COMPILER=clang -DMESOSIM_FUZZ=ON)" >&2
        exit 2
    fi
    work=$build/fuzz-work/$t
    found=$build/fuzz-findings/$t
    rm -rf "$work" "$found"
    mkdir -p "$work" "$found"
    cp "$here/corpus/$t"/* "$work"/
    dict=
    [ -f "$here/$t.dict" ] && dict=-dict=$here/$t.dict
    log=$build/fuzz-$t.log
    # -close_fd_mask=2: the targets' own messages (bad bindings lines) would drown the log;
    # libFuzzer and the sanitizers still report on their own copy of stderr.
    if "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -close_fd_mask=2 \
        -artifact_prefix="$found/" -print_final_stats=1 $dict "$work" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "run.sh: fuzz_$t: ${runs:-?} inputs, $cov, corpus $(ls "$work" | wc -l) files, no crash"
    else
        status=1
        echo "run.sh: fuzz_$t FAILED; the report:" >&2
        grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written|==[0-9]+==' "$log" | head -20 >&2 ||
            tail -5 "$log" >&2
        for f in "$found"/*; do
            [ -f "$f" ] || continue
            echo "run.sh: input $f:" >&2
            head -c 600 "$f" | od -c | head -12 >&2
        done
    fi
done
exit $status
