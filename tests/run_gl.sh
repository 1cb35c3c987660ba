#!/bin/sh
# Runs a GL test program under a display: run_gl.sh xvfb|offscreen PROGRAM [ARGS...].
# xvfb: a private Xvfb server; offscreen: SDL's EGL pbuffer driver, no X at all.
# Locally, when the asked-for way is not available the other is tried, so the test only skips
# (77) when neither Xvfb nor offscreen GL works on this machine. With CI=true there is no skip
# and no stand-in: the asked-for way must give a GL context, or the test fails saying why.
mode=$1
shift
have_xvfb() { command -v Xvfb >/dev/null 2>&1; }
# A private Xvfb on a display number the server picks itself (-displayfd): two runs at once
# (two checkouts, two CI jobs) cannot share or kill each other's server, as xvfb-run -a can.
under_xvfb() {
    fifo=$(mktemp -u "${TMPDIR:-/tmp}/run_gl.XXXXXX")
    mkfifo "$fifo" || return 77
    # -noreset: by default the server resets when its last client leaves, and a test that
    # closes its window and opens another (test_window's remapped bindings) can land in the
    # reset and be refused ("x11 not available").
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$fifo" >/dev/null 2>&1 &
    xpid=$!
    read -r num <"$fifo"
    rm -f "$fifo"
    if [ -z "$num" ]; then
        kill "$xpid" 2>/dev/null
        return 77
    fi
    DISPLAY=":$num" SDL_VIDEODRIVER=x11 "$@"
    rc=$?
    kill "$xpid" 2>/dev/null
    wait "$xpid" 2>/dev/null
    return $rc
}
under_offscreen() { SDL_VIDEODRIVER=offscreen "$@"; }
finish() {
    if [ "$1" -eq 77 ] && [ "${CI:-}" = true ]; then
        echo "run_gl.sh: FAIL: no GL context (neither Xvfb nor SDL offscreen EGL worked) and CI=true," \
             "where the window tests must run: install xvfb xauth libgl1-mesa-dri libegl-mesa0" >&2
        exit 1
    fi
    exit "$1"
}
export SDL_VIDEODRIVER
# No sound card in tests: SDL's dummy audio driver, so ALSA does not fill the log.
export SDL_AUDIODRIVER="${SDL_AUDIODRIVER:-dummy}"
if [ "$mode" = xvfb ]; then
    if have_xvfb; then
        under_xvfb "$@"
        finish $?
    fi
    if [ "${CI:-}" = true ]; then
        echo "run_gl.sh: FAIL: Xvfb missing and CI=true, where the Xvfb run must happen:" \
             "install xvfb" >&2
        exit 1
    fi
    echo "run_gl.sh: Xvfb missing (install xvfb); trying SDL_VIDEODRIVER=offscreen" >&2
    under_offscreen "$@"
    finish $?
fi
under_offscreen "$@"
rc=$?
if [ $rc -eq 77 ] && [ "${CI:-}" = true ]; then
    echo "run_gl.sh: FAIL: no GL context under SDL_VIDEODRIVER=offscreen (EGL pbuffer) and CI=true," \
         "where the offscreen run must happen: install libegl-mesa0 libgl1-mesa-dri" >&2
    exit 1
fi
if [ $rc -eq 77 ] && have_xvfb; then
    echo "run_gl.sh: no offscreen EGL here; running under Xvfb instead" >&2
    under_xvfb "$@"
    rc=$?
fi
finish $rc
