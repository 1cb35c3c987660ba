#include "suggest.h"

#include <stdbool.h>
#include <string.h>

#include <jansson.h>

int suggest_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64 || nb > 64)
        return 1000;
    int row[65];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

const char *suggest_closest(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int best_d = 1000;
    size_t wn = strlen(word);
    for (int i = 0; i < n; i++) {
        int d = suggest_distance(word, cands[i]);
        size_t cn = strlen(cands[i]);
        size_t longer = wn > cn ? wn : cn;
        bool prefix = wn >= 1 && wn < cn && strncmp(word, cands[i], wn) == 0 && cands[i][wn] == '_';
        if ((prefix || (size_t)d * 3 <= longer) && d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

const char *suggest_json_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}
