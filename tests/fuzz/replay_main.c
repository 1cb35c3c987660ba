/* replay_main: runs files through a fuzz target's LLVMFuzzerTestOneInput, so every test run
 * (gcc release, ASan+UBSan) replays the corpus without libFuzzer. Arguments are files or
 * directories (their regular files, in name order). A failing check aborts with the file
 * named just before; exit 1 when a file cannot be read or no file was given. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_check.h"
#include "textfile.h"

/* Corpus files are small; this bounds a stray large file. */
#define REPLAY_MAX_BYTES (16u << 20)

static int run_file(const char *path)
{
    char *buf;
    size_t len;
    int e;
    if (textfile_read(path, REPLAY_MAX_BYTES, &buf, &len, &e) != TEXTFILE_OK) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* The exact size, so ASan sees a read past the end as the fuzzer would. */
    uint8_t *data = malloc(len ? len : 1);
    if (!data) {
        free(buf);
        return -1;
    }
    memcpy(data, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    char **names = NULL;
    int n = 0, cap = 0, status = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **more = realloc(names, (size_t)cap * sizeof *names);
            if (!more) {
                status = -1;
                break;
            }
            names = more;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            status = -1;
            break;
        }
        snprintf(names[n++], len, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (status == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            status = run_file(names[i]);
            (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return status;
}

int main(int argc, char **argv)
{
    int count = 0, status = 0;
    for (int i = 1; i < argc && status == 0; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            status = run_dir(argv[i], &count);
        } else {
            status = run_file(argv[i]);
            count++;
        }
    }
    if (status == 0 && count == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    fprintf(stderr, "replay: %d inputs %s\n", count, status ? "(stopped at an unreadable one)" : "passed");
    return status ? 1 : 0;
}
