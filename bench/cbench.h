/* What the C loops of make bench share (bench/cloop.c, bench/cbulk.c):
 * dying on a failed call, and the process's CPU clock. */
#ifndef CBENCH_H
#define CBENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Prints what failed, with errno's text, and exits 2. */
static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* CPU time of this process so far, in nanoseconds. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#endif
