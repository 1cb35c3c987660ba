/* haptics_seq: the newest value of a small struct, handed between threads without a lock.
 *
 * The 1 kHz force loop runs at a real-time priority; a mutex it shares with an ordinary thread
 * (the network thread, the window) stalls it whenever that thread is preempted while holding it
 * (priority inversion: the holder may wait milliseconds for a core). A sequence lock never makes
 * the reader wait on the writer: the writer makes the counter odd, stores the words, makes it
 * even again; a reader that saw the same even counter before and after its copy has a whole
 * value, else it tries again or keeps the one it had (Lamport 1977; Boehm, "Can seqlocks get
 * along with programming language memory models?", MSPC 2012). Every word is an atomic access
 * (release stores, acquire loads: plain moves on x86-64), so it is no data race for the C11
 * model nor for ThreadSanitizer, and no standalone fence is needed (gcc's TSan does not model
 * those).
 *
 * One writer at a time: callers with several writers serialise them (a mutex that only writers
 * take). The storage is the caller's: a counter and HAPTICS_SEQ_WORDS(T) 64-bit words. */
#ifndef MESOSIM_HAPTICS_SEQ_H
#define MESOSIM_HAPTICS_SEQ_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HAPTICS_SEQ_WORDS(type) ((sizeof(type) + 7) / 8)

/* Publishes n bytes of src. Returns the new (even) counter. */
static inline uint64_t haptics_seq_write(uint64_t *seq, uint64_t *words, const void *src, size_t n)
{
    uint64_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
    __atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
    for (size_t i = 0; 8 * i < n; i++) {
        uint64_t w = 0;
        memcpy(&w, (const char *)src + 8 * i, n - 8 * i < 8 ? n - 8 * i : 8);
        /* Release: a reader that sees this word sees the odd counter too. */
        __atomic_store_n(&words[i], w, __ATOMIC_RELEASE);
    }
    __atomic_store_n(seq, s + 2, __ATOMIC_RELEASE);
    return s + 2;
}

/* One try at a whole copy into dst (n bytes); false when a write was under way (dst is then
 * garbage). *version (optional) gets the counter the copy belongs to: 0 before any write. */
static inline bool haptics_seq_try_read(const uint64_t *seq, const uint64_t *words, void *dst, size_t n,
                                        uint64_t *version)
{
    uint64_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    if (s1 & 1u)
        return false;
    for (size_t i = 0; 8 * i < n; i++) {
        uint64_t w = __atomic_load_n(&words[i], __ATOMIC_ACQUIRE);
        memcpy((char *)dst + 8 * i, &w, n - 8 * i < 8 ? n - 8 * i : 8);
    }
    if (__atomic_load_n(seq, __ATOMIC_RELAXED) != s1)
        return false;
    if (version)
        *version = s1;
    return true;
}

/* Tries until it has a whole copy: for a reader that may wait (the writer's store is a few
 * nanoseconds; it is the reader here that is not real-time). It yields the core now and then,
 * should the writer be an ordinary thread preempted on the same core. */
static inline uint64_t haptics_seq_read(const uint64_t *seq, const uint64_t *words, void *dst, size_t n)
{
    uint64_t v = 0;
    for (unsigned k = 1; !haptics_seq_try_read(seq, words, dst, n, &v); k++)
        if (k % 64 == 0)
            sched_yield();
    return v;
}

#endif
