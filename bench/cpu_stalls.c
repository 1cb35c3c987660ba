/* cpu_stalls: how long this machine stops a thread that never sleeps.
 *
 * The haptics loop (sim/haptics) has a 1 ms deadline; when it misses one, the question is
 * whether the loop was late or the machine was. This program answers the second: one thread
 * per CPU, pinned, reads CLOCK_MONOTONIC in a tight loop for N seconds and records every gap
 * between two reads. On bare metal with nothing else running the gaps are microseconds (timer
 * interrupts); a virtual machine whose host deschedules its virtual CPUs shows gaps of
 * milliseconds that no guest priority can prevent (the same idea as the kernel's hwlat
 * tracer and rt-tests' hwlatdetect). Where the process may, the threads run as SCHED_FIFO at
 * the haptics loop's priority, so only what stops a real-time thread is counted (kernel
 * threads and other programs cannot); each rests 100 ms of every second, untimed, so the
 * kernel's real-time throttle (95 % of each second, sched_rt_runtime_us) never stops them.
 * Without the right to real-time scheduling they run as ordinary threads and say so.
 *
 * usage: cpu_stalls [SECONDS] [--json]    (default 60 s)
 * Prints per CPU the largest gap, how many gaps exceeded 0.5 ms and 1 ms, and the times of the
 * ten largest. Nothing else should run meanwhile. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64
#define WORST 10

typedef struct gap {
    double at_s, ms;
} gap;

typedef struct probe {
    int cpu;
    double seconds;
    double t0;
    double max_ms;
    long over_05ms, over_1ms;
    gap worst[WORST];
    int pinned, realtime;
} probe;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void keep_worst(probe *p, double at_s, double ms)
{
    int k = WORST - 1;
    if (ms <= p->worst[k].ms)
        return;
    while (k > 0 && p->worst[k - 1].ms < ms) {
        p->worst[k] = p->worst[k - 1];
        k--;
    }
    p->worst[k] = (gap){at_s, ms};
}

static void *run(void *arg)
{
    probe *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->cpu, &set);
    p->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    /* The haptics loop's priority (sim/haptics/haptics.c). */
    const struct sched_param fifo = {.sched_priority = 80};
    p->realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &fifo) == 0;
    double prev = now_s(), end = p->t0 + p->seconds, rest_at = prev + 0.9;
    while (prev < end) {
        double t = now_s();
        if (p->realtime && t >= rest_at) {
            const struct timespec rest = {.tv_nsec = 100000000L};
            nanosleep(&rest, NULL);
            prev = now_s();
            rest_at = prev + 0.9;
            continue;
        }
        double ms = (t - prev) * 1e3;
        if (ms > 0.5) {
            p->over_05ms++;
            if (ms > 1.0)
                p->over_1ms++;
            keep_worst(p, prev - p->t0, ms);
        }
        if (ms > p->max_ms)
            p->max_ms = ms;
        prev = t;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 60.0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: cpu_stalls [SECONDS] [--json]\n"
                   "Busy-reads the clock on every CPU for SECONDS (60) and reports the gaps: how long\n"
                   "the machine stopped a thread that never sleeps (real-time where allowed, resting\n"
                   "100 ms a second). Run it with nothing else busy.\n");
            return 0;
        } else {
            char *end;
            seconds = strtod(argv[i], &end);
            if (*end || !(seconds > 0.0 && seconds <= 3600.0)) {
                fprintf(stderr, "cpu_stalls: SECONDS must be a number from 0 to 3600, not '%s'\n", argv[i]);
                return 2;
            }
        }
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > MAX_CPUS)
        n = MAX_CPUS;
    static probe pr[MAX_CPUS];
    pthread_t th[MAX_CPUS];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        pr[i] = (probe){.cpu = i, .seconds = seconds, .t0 = t0};
        if (pthread_create(&th[i], NULL, run, &pr[i]) != 0) {
            fprintf(stderr, "cpu_stalls: cannot start a thread for CPU %d\n", i);
            return 1;
        }
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    if (json)
        printf("{\"seconds\":%.1f,\"cpus\":[", seconds);
    for (int i = 0; i < n; i++) {
        const probe *p = &pr[i];
        if (json) {
            printf("%s{\"cpu\":%d,\"pinned\":%s,\"realtime\":%s,\"max_gap_ms\":%.4f,\"gaps_over_0_5ms\":%ld,"
                   "\"gaps_over_1ms\":%ld,\"worst\":[",
                   i ? "," : "", p->cpu, p->pinned ? "true" : "false", p->realtime ? "true" : "false", p->max_ms,
                   p->over_05ms, p->over_1ms);
            for (int k = 0; k < WORST && p->worst[k].ms > 0.0; k++)
                printf("%s{\"at_s\":%.4f,\"ms\":%.4f}", k ? "," : "", p->worst[k].at_s, p->worst[k].ms);
            printf("]}");
        } else {
            printf("cpu %d%s%s: largest gap %.3f ms; %ld gaps over 0.5 ms, %ld over 1 ms\n", p->cpu,
                   p->pinned ? "" : " (not pinned)", p->realtime ? " (real-time)" : " (ordinary thread)", p->max_ms,
                   p->over_05ms, p->over_1ms);
            for (int k = 0; k < WORST && p->worst[k].ms > 0.0; k++)
                printf("  %.3f ms at %.3f s\n", p->worst[k].ms, p->worst[k].at_s);
        }
    }
    if (json)
        printf("]}\n");
    return 0;
}
