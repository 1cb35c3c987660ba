/* exe_util: what the C tests that run the mesosim program share (test_envelope_npy,
 * test_render_doppler): a command's exit status and first line of output, and a number read
 * from the one-line JSON the command prints. */
#ifndef MESOSIM_TESTS_EXE_UTIL_H
#define MESOSIM_TESTS_EXE_UTIL_H

#include <stddef.h>

/* Runs cmd through the shell: its exit status (-1 when it did not exit), and the first line of
 * its stdout in out ("" when none). Fails the test when the shell cannot be started. */
int eu_run(const char *cmd, char *out, size_t out_len);

/* The number after "key": in js; fails the test when the key is not there. */
double eu_json_num(const char *js, const char *key);

#endif
