/* array: the doubling growth of a plain array. */
#include "array.h"

#include <stdlib.h>

bool array_grow(void **items, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int c = *cap > 0 ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*items, (size_t)c * elem);
    if (!p)
        return false;
    *items = p;
    *cap = c;
    return true;
}
