/*
 * RAMP SysY runtime library: input and output of ints and characters, and a timer.
 *
 * Built for x86-64 (stages T3 and T4 run natively) and for RV64 (stage T5, static, under
 * qemu-riscv64). Timer totals go to stderr at exit, so stdout holds only what the program
 * printed. With -DRAMP_CALLGRIND the timer also switches callgrind's instruction
 * collection on and off, so performance is measured between starttime() and stoptime().
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef RAMP_CALLGRIND
#include <valgrind/callgrind.h>
#endif

int getint() {
    int value = 0;
    if (scanf("%d", &value) != 1) {
        return 0;
    }
    return value;
}

int getch() {
    int c = getchar();
    return c == EOF ? -1 : c;
}

int getarray(int a[]) {
    int n = getint();
    for (int i = 0; i < n; i++) {
        a[i] = getint();
    }
    return n;
}

void putint(int a) { printf("%d", a); }

void putch(int a) { putchar(a); }

void putarray(int n, int a[]) {
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

void _sysy_starttime(int line) {
    if (!ramp_timer_report_registered) {
        atexit(ramp_timer_report);
        ramp_timer_report_registered = 1;
    }
    if (ramp_timer_count < RAMP_MAX_TIMERS) {
        ramp_timers[ramp_timer_count].start_line = line;
    }
    ramp_timer_open = 1;
#ifdef RAMP_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
#endif
    clock_gettime(CLOCK_MONOTONIC, &ramp_timer_started);
}

void _sysy_stoptime(int line) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
#ifdef RAMP_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
#endif
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
