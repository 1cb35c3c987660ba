/* cmd_export: mesosim export, session reports as CSV or xAPI statements (docs/report.md),
 * optionally sent to a learning record store with libcurl. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "commands.h"
#include "export.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim export --format csv|xapi [--trainee NAME] [--db PATH|URL] [--out FILE]\n"
            "       mesosim export --format csv|xapi --from REPORT.json... [--trainee NAME] [--out FILE]\n"
            "       xAPI: [--home-page IRL] [--activity-base IRI] [--lrs URL]\n"
            "Writes the sessions of one trainee (or everyone's) from the records, or report files, for\n"
            "other tools (docs/report.md): CSV, one row per session and per injection (RFC 4180), or\n"
            "xAPI 1.0.3 statements as a JSON array. --out: a file (default: stdout). --lrs: also POST\n"
            "the statements to the LRS at URL (URL/statements), with the user and password from\n"
            "MESOSIM_LRS_USER and MESOSIM_LRS_PASSWORD (never printed). --home-page: the programme's\n"
            "page that names the trainees' accounts (default https://mesosim.invalid/trainees).\n"
            "Exit status: 0 written, 1 a bad file or store or a refused post, 2 bad usage.\n");
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

/* POSTs the statements; false after telling why (the URL is shown without credentials). */
static bool post_lrs(const char *url, const char *body)
{
    char shown[512], target[1024];
    records_redact(url, shown, sizeof shown);
    size_t len = strlen(url);
    snprintf(target, sizeof target, "%s%sstatements", url, len && url[len - 1] == '/' ? "" : "/");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "mesosim export: libcurl does not start\n");
        return false;
    }
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "X-Experience-API-Version: 1.0.3");
    bool ok = c && h;
    if (ok) {
        const char *user = getenv("MESOSIM_LRS_USER"), *pass = getenv("MESOSIM_LRS_PASSWORD");
        curl_easy_setopt(c, CURLOPT_URL, target);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        if (user) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(c, CURLOPT_USERNAME, user);
            curl_easy_setopt(c, CURLOPT_PASSWORD, pass ? pass : "");
        }
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK) {
            fprintf(stderr, "mesosim export: the LRS at %s cannot be reached: %s\n", shown,
                    curl_easy_strerror(rc));
            ok = false;
        } else if (status < 200 || status >= 300) {
            fprintf(stderr, "mesosim export: the LRS at %s refused the statements (HTTP %ld)\n", shown,
                    status);
            ok = false;
        }
    } else {
        fprintf(stderr, "mesosim export: out of memory preparing the post\n");
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return ok;
}

int cmd_export(int argc, char **argv)
{
    const char *format = NULL, *trainee = NULL, *db = NULL, *out = NULL, *lrs = NULL;
    export_xapi_def xd = export_xapi_default_def();
    char **from = NULL;
    int n_from = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--from")) {
            from = argv + i + 1;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2))
                i++, n_from++;
            continue;
        }
        const char **dst = !strcmp(a, "--format")          ? &format
                           : !strcmp(a, "--trainee")       ? &trainee
                           : !strcmp(a, "--db")            ? &db
                           : !strcmp(a, "--out")           ? &out
                           : !strcmp(a, "--lrs")           ? &lrs
                           : !strcmp(a, "--home-page")     ? &xd.home_page
                           : !strcmp(a, "--activity-base") ? &xd.activity_base
                                                           : NULL;
        if (!dst) {
            fprintf(stderr, "mesosim export: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "mesosim export: %s needs a value\n", a);
            return 2;
        }
        *dst = v;
        i++;
    }
    if (!format || (strcmp(format, "csv") && strcmp(format, "xapi"))) {
        fprintf(stderr, "mesosim export: --format must be csv or xapi\n");
        usage(stderr);
        return 2;
    }
    if (lrs && strcmp(format, "xapi")) {
        fprintf(stderr, "mesosim export: --lrs sends xAPI statements: use it with --format xapi\n");
        return 2;
    }
    if (from && n_from == 0) {
        fprintf(stderr, "mesosim export: --from needs at least one report file\n");
        return 2;
    }
    report_cli_set set = {0};
    records *r = NULL;
    int status = 1;
    char *text = NULL, err[300];
    if (n_from > 0) {
        if (!report_cli_load_files("export", from, n_from, trainee, &set))
            goto done;
    } else if (!(r = report_cli_open_db("export", db)) ||
               !report_cli_load_db("export", r, trainee, &set)) {
        goto done;
    }
    xd.platform = "mesosim " MESOSIM_VERSION;
    if (!strcmp(format, "csv")) {
        text = export_csv(set.reports, set.meta, set.count, err, sizeof err);
    } else {
        json_t *st = export_xapi(&xd, set.reports, set.meta, set.count, err, sizeof err);
        if (st) {
            text = json_dumps(st, JSON_INDENT(2));
            json_decref(st);
            if (!text)
                snprintf(err, sizeof err, "out of memory writing the statements");
        }
    }
    if (!text) {
        fprintf(stderr, "mesosim export: %s\n", err);
        goto done;
    }
    if (out) {
        if (atomic_file_write(out, text, strlen(text), err, sizeof err) != 0) {
            fprintf(stderr, "mesosim export: %s\n", err);
            goto done;
        }
    } else {
        fputs(text, stdout);
        if (strcmp(format, "csv"))
            fputc('\n', stdout);
    }
    if (lrs && !post_lrs(lrs, text))
        goto done;
    status = 0;
done:
    free(text);
    records_close(r);
    report_cli_set_free(&set);
    return status;
}
