/* suggest: helping people fix what they typed into scenario files and action logs: "did you
 * mean" for names (keys, enum values, verbs), and what a JSON value was, for messages.
 *
 * Pure functions over caller-owned data; no allocation. */
#ifndef MESOSIM_SUGGEST_H
#define MESOSIM_SUGGEST_H

/* Levenshtein edit distance; 1000 for words over 64 characters (never typos of short ones). */
int suggest_distance(const char *a, const char *b);

/* The candidate the word plausibly meant: the closest within a third of the longer word's
 * length, or the candidate the word is with its unit suffix left off ("freq" for "freq_mhz").
 * NULL when none is close. */
const char *suggest_closest(const char *word, const char *const *cands, int n);

/* "an object", "an array", "a string", "a number", "a boolean" or "null". */
struct json_t;
const char *suggest_json_type(const struct json_t *v);

#endif
