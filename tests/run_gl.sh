#!/bin/sh
# Runs a GL test program under a display: run_gl.sh xvfb|offscreen PROGRAM [ARGS...].
# xvfb: a private Xvfb server (xvfb-run); offscreen: SDL's EGL pbuffer driver, no X at all.
# When the asked-for way is not available the other is tried, so the test only skips (77)
# when neither Xvfb nor offscreen GL works on this machine.
mode=$1
shift
have_xvfb() { command -v xvfb-run >/dev/null 2>&1 && command -v xauth >/dev/null 2>&1; }
under_xvfb() { SDL_VIDEODRIVER=x11 xvfb-run -a -s "-screen 0 1280x800x24" "$@"; }
under_offscreen() { SDL_VIDEODRIVER=offscreen "$@"; }
export SDL_VIDEODRIVER
if [ "$mode" = xvfb ]; then
    if have_xvfb; then
        under_xvfb "$@"
        exit $?
    fi
    echo "run_gl.sh: xvfb-run or xauth missing (install xvfb xauth); trying SDL_VIDEODRIVER=offscreen" >&2
    under_offscreen "$@"
    exit $?
fi
under_offscreen "$@"
rc=$?
if [ $rc -eq 77 ] && have_xvfb; then
    echo "run_gl.sh: no offscreen EGL here; running under Xvfb instead" >&2
    under_xvfb "$@"
    rc=$?
fi
exit $rc
