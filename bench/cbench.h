/* What the C loops of make bench share (bench/cloop.c, bench/cbulk.c):
 * dying on a failed call, the process's CPU clock, and setting up one
 * receive slot of a recvmmsg batch. */
#ifndef CBENCH_H
#define CBENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Points slot h of a recvmmsg batch at buf (len bytes, through iov), the
 * sender's address from and control space of controllen bytes. */
static void recv_slot(struct mmsghdr *h, struct iovec *iov, void *buf, size_t len,
                      struct sockaddr_in *from, void *control, size_t controllen)
{
    iov->iov_base = buf;
    iov->iov_len = len;
    memset(h, 0, sizeof *h);
    h->msg_hdr.msg_name = from;
    h->msg_hdr.msg_namelen = sizeof *from;
    h->msg_hdr.msg_iov = iov;
    h->msg_hdr.msg_iovlen = 1;
    h->msg_hdr.msg_control = control;
    h->msg_hdr.msg_controllen = controllen;
}

#endif
