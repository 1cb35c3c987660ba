/* hash: integer hashes for procedural, tissue-fixed randomness.
 *
 * Scatterers and textures are never stored or regenerated: they are a pure function of the
 * integer voxel (or lattice) coordinates in the phantom frame and the scenario seed, so the
 * same tissue always gives the same echo, whatever the probe does. The mixer is the
 * "lowbias32" integer hash (two multiply-xorshift rounds), cheap enough to vectorise. */
#ifndef MESOSIM_HASH_H
#define MESOSIM_HASH_H

#include <stdint.h>

static inline uint32_t hash_mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Hash of a 3-D integer lattice point. The odd multipliers decorrelate the axes. */
static inline uint32_t hash_voxel(int32_t ix, int32_t iy, int32_t iz, uint32_t seed)
{
    return hash_mix32(((uint32_t)ix * 0x8da6b343U) ^ ((uint32_t)iy * 0xd8163841U) ^
                      ((uint32_t)iz * 0xcb1ab31fU) ^ seed);
}

/* Uniform in [-1, 1). */
static inline double hash_unit(uint32_t h)
{
    return (double)(int32_t)h * (1.0 / 2147483648.0);
}

#endif
