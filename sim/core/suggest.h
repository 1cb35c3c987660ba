/* suggest: "did you mean" for names people type (scenario keys, enum values, action verbs).
 *
 * Pure functions over caller-owned strings; no allocation. */
#ifndef MESOSIM_SUGGEST_H
#define MESOSIM_SUGGEST_H

/* Levenshtein edit distance; 1000 for words over 64 characters (never typos of short ones). */
int suggest_distance(const char *a, const char *b);

/* The candidate the word plausibly meant: the closest within a third of the longer word's
 * length, or the candidate the word is with its unit suffix left off ("freq" for "freq_mhz").
 * NULL when none is close. */
const char *suggest_closest(const char *word, const char *const *cands, int n);

#endif
