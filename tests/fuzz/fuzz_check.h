/* fuzz_check: the property checks of the fuzz targets. They hold in every build (not assert,
 * which NDEBUG removes from the release build that replays the corpus) and abort, so libFuzzer
 * and the replay driver both report the input that broke one. */
#ifndef MESOSIM_FUZZ_CHECK_H
#define MESOSIM_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
