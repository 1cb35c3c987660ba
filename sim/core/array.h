/* array: growing a plain C array by doubling, the one helper the session, the score figures,
 * the driver's queue and the window's lists share. The caller owns the array (free it). */
#ifndef MESOSIM_ARRAY_H
#define MESOSIM_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Makes *items (of *cap elements of elem bytes) hold at least need elements; doubling keeps
 * appends O(1). False when out of memory (the array is left as it was). */
bool array_grow(void **items, int *cap, int need, size_t elem);

#endif
