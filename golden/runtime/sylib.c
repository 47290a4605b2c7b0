/*
 * RAMP SysY runtime library: input and output of ints and characters, and a timer.
 *
 * Built for x86-64 (stages T3 and T4 run natively) and for RV64 (stage T5, static, under
 * qemu-riscv64). Timer totals go to stderr at exit, so stdout holds only what the program
 * printed. The timer only reads the clock: it does not talk to any instrumentation.
 *
 * Every build reports at exit, on stderr, every timer call in order with how many
 * input/output calls preceded it (`ramp-timer-calls: S29@2 T39@34`): the graders of T3, T4
 * and T5 compare it with the golden program's. With -DRAMP_MEASURE (the object T4 programs
 * are measured with) the runtime also brings its own memcpy, memset and memmove, simple
 * loops that run the same instructions on every x86-64 CPU (glibc picks its own by the
 * CPU's features).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Input/output calls so far: where each timer call falls relative to the program's I/O. */
static long ramp_io_calls;

static int ramp_read_int(void) {
    int value = 0;
    if (scanf("%d", &value) != 1) {
        return 0;
    }
    return value;
}

int getint() {
    ramp_io_calls++;
    return ramp_read_int();
}

int getch() {
    ramp_io_calls++;
    int c = getchar();
    return c == EOF ? -1 : c;
}

int getarray(int a[]) {
    ramp_io_calls++;
    int n = ramp_read_int();
    for (int i = 0; i < n; i++) {
        a[i] = ramp_read_int();
    }
    return n;
}

void putint(int a) {
    ramp_io_calls++;
    printf("%d", a);
}

void putch(int a) {
    ramp_io_calls++;
    putchar(a);
}

void putarray(int n, int a[]) {
    ramp_io_calls++;
    printf("%d:", n);
    for (int i = 0; i < n; i++) {
        printf(" %d", a[i]);
    }
    putchar('\n');
}

#define RAMP_MAX_TIMERS 1024

static struct {
    int start_line, stop_line;
    double seconds;
} ramp_timers[RAMP_MAX_TIMERS];
static int ramp_timer_count;
static int ramp_timer_open;
static struct timespec ramp_timer_started;
static int ramp_timer_report_registered;

static double ramp_elapsed(const struct timespec *from, const struct timespec *to) {
    return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

static void ramp_timer_report(void) {
    double total = 0.0;
    for (int i = 0; i < ramp_timer_count; i++) {
        fprintf(stderr, "ramp-timer: lines %d-%d: %.6f s\n", ramp_timers[i].start_line,
                ramp_timers[i].stop_line, ramp_timers[i].seconds);
        total += ramp_timers[i].seconds;
    }
    fprintf(stderr, "ramp-timer: total %.6f s\n", total);
}

/* Every timer call in order ('S' start, 'T' stop), with its line and the I/O calls before it. */
static struct {
    char kind;
    int line;
    long io_calls;
} ramp_timer_calls[RAMP_MAX_TIMERS];
static int ramp_timer_call_count;
static int ramp_timer_calls_registered;

static void ramp_timer_calls_report(void) {
    fprintf(stderr, "ramp-timer-calls:");
    for (int i = 0; i < ramp_timer_call_count; i++) {
        fprintf(stderr, " %c%d@%ld", ramp_timer_calls[i].kind, ramp_timer_calls[i].line,
                ramp_timer_calls[i].io_calls);
    }
    fprintf(stderr, "%s\n", ramp_timer_call_count == RAMP_MAX_TIMERS ? " ..." : "");
}

static void ramp_timer_call(char kind, int line) {
    if (!ramp_timer_calls_registered) {
        atexit(ramp_timer_calls_report);
        ramp_timer_calls_registered = 1;
    }
    if (ramp_timer_call_count < RAMP_MAX_TIMERS) {
        ramp_timer_calls[ramp_timer_call_count].kind = kind;
        ramp_timer_calls[ramp_timer_call_count].line = line;
        ramp_timer_calls[ramp_timer_call_count].io_calls = ramp_io_calls;
        ramp_timer_call_count++;
    }
}

void _sysy_starttime(int line) {
    ramp_timer_call('S', line);
    if (!ramp_timer_report_registered) {
        atexit(ramp_timer_report);
        ramp_timer_report_registered = 1;
    }
    if (ramp_timer_count < RAMP_MAX_TIMERS) {
        ramp_timers[ramp_timer_count].start_line = line;
    }
    ramp_timer_open = 1;
    clock_gettime(CLOCK_MONOTONIC, &ramp_timer_started);
}

void _sysy_stoptime(int line) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ramp_timer_call('T', line);
    if (!ramp_timer_open) {
        return;
    }
    ramp_timer_open = 0;
    if (ramp_timer_count < RAMP_MAX_TIMERS) {
        ramp_timers[ramp_timer_count].stop_line = line;
        ramp_timers[ramp_timer_count].seconds = ramp_elapsed(&ramp_timer_started, &now);
        ramp_timer_count++;
    }
}

#ifdef RAMP_MEASURE
#include <stddef.h>
#include <stdint.h>

/*
 * The measured program's memcpy, memset and memmove: word-at-a-time loops, no vector
 * instructions, no CPU dispatch, so the same call costs the same instructions everywhere.
 * `no_builtin` keeps clang from turning the loops back into calls to themselves.
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) ramp_word;

__attribute__((no_builtin)) void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n >= 8; n -= 8, d += 8, s += 8) {
        *(ramp_word *)d = *(const ramp_word *)s;
    }
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n > 0; n--) {
        *d++ = *s++;
    }
    return dst;
}

__attribute__((no_builtin)) void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    ramp_word word = (unsigned char)c * (ramp_word)0x0101010101010101ull;
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n >= 8; n -= 8, d += 8) {
        *(ramp_word *)d = word;
    }
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n > 0; n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

__attribute__((no_builtin)) void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((uintptr_t)d - (uintptr_t)s >= n) {
        return memcpy(dst, src, n); /* no overlap that a forward copy would spoil */
    }
    d += n;
    s += n;
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n >= 8; n -= 8) {
        d -= 8;
        s -= 8;
        *(ramp_word *)d = *(const ramp_word *)s;
    }
#pragma clang loop vectorize(disable) unroll(disable)
    for (; n > 0; n--) {
        *--d = *--s;
    }
    return dst;
}
#endif
