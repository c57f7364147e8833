/* The C baselines of `make bench`: what a plain C server on loopback pays
 * per 64-byte datagram. Usage:
 *
 *   cloop MODE K ROUNDS
 *
 * MODE is recvfrom (no packet info), recvmsg (IP_PKTINFO, both addresses
 * formatted with inet_ntop), recvmmsg (the same work, 32 datagrams per
 * call), recvmsg-raw / recvmmsg-raw (the same without formatting: what the
 * kernel costs) or sendmsg (an IP_PKTINFO control message choosing the
 * source).
 * Each round fills the receive queue with K datagrams (untimed), times only
 * the drain (or only the sends), checks that all K arrived, and prints the
 * nanoseconds per datagram, one number per round, on one line. Time is
 * process CPU time (CLOCK_PROCESS_CPUTIME_ID), as os.clock in the Lua half,
 * so other work on a shared machine does not count. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cbench.h"

#define DGRAM 64
#define BATCH 32
#define BUFSZ 65536

static unsigned char buf[BATCH][BUFSZ];
static volatile unsigned long sink;   /* keeps the work from being optimised out */
static int format = 1;                /* 0 for the -raw modes */

/* A UDP socket on 127.0.0.1, port chosen by the kernel, with a receive
 * buffer as large as root (SO_RCVBUFFORCE) or rmem_max allows. */
static int open_bound(struct sockaddr_in *addr, int pktinfo)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 32 << 20, on = 1;
    socklen_t len = sizeof *addr;
    struct timeval limit = { 1, 0 };      /* a lost datagram must not hang */
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (pktinfo && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on))
        die("IP_PKTINFO");
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr)) die("bind");
    if (getsockname(fd, (struct sockaddr *)addr, &len)) die("getsockname");
    return fd;
}

/* Sends k datagrams of DGRAM bytes to addr (the untimed fill). */
static void fill(int tx, const struct sockaddr_in *to, int k)
{
    unsigned char data[DGRAM];
    int i;
    memset(data, 'x', sizeof data);
    for (i = 0; i < k; i++)
        if (sendto(tx, data, sizeof data, 0, (const struct sockaddr *)to,
                   sizeof *to) != DGRAM)
            die("sendto");
}

/* Receives whatever is queued without waiting; returns the count. */
static int drain(int rx)
{
    int n = 0;
    while (recv(rx, buf[0], BUFSZ, MSG_DONTWAIT) >= 0) n++;
    return n;
}

/* Plain recvfrom: the sender's address, no packet info. */
static int run_recvfrom(int rx, int k)
{
    int i;
    for (i = 0; i < k; i++) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(rx, buf[0], BUFSZ, 0, (struct sockaddr *)&from, &len);
        if (n < 0) return i;
        sink += (unsigned long)n + from.sin_port;
    }
    return k;
}

/* What a C server does with one datagram: find IP_PKTINFO and format the
 * sender's and the destination's address (unless format is off). */
static void handle(struct msghdr *m, ssize_t n)
{
    char from[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    struct cmsghdr *c;
    struct sockaddr_in *sin = (struct sockaddr_in *)m->msg_name;
    dst[0] = from[0] = '\0';
    for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            if (format) inet_ntop(AF_INET, &pi.ipi_addr, dst, sizeof dst);
            sink += (unsigned long)pi.ipi_ifindex + pi.ipi_addr.s_addr;
        }
    if (format) inet_ntop(AF_INET, &sin->sin_addr, from, sizeof from);
    sink += (unsigned long)n + ntohs(sin->sin_port) + (unsigned char)from[0]
            + (unsigned char)dst[0];
}

/* recvmsg with IP_PKTINFO, one datagram per call. */
static int run_recvmsg(int rx, int k)
{
    union { struct cmsghdr align; unsigned char b[256]; } control;
    int i;
    for (i = 0; i < k; i++) {
        struct sockaddr_in from;
        struct iovec iov = { buf[0], BUFSZ };
        struct msghdr m;
        ssize_t n;
        memset(&m, 0, sizeof m);
        m.msg_name = &from;
        m.msg_namelen = sizeof from;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = &control;
        m.msg_controllen = sizeof control;
        n = recvmsg(rx, &m, 0);
        if (n < 0) return i;
        handle(&m, n);
    }
    return k;
}

/* recvmmsg with IP_PKTINFO, BATCH datagrams per call, the same work per
 * datagram as run_recvmsg. */
static int run_recvmmsg(int rx, int k)
{
    /* aligned as cmsghdr (size_t cmsg_len), whose flexible member -pedantic
     * refuses inside a union */
    static union { size_t align; unsigned char b[256]; } control[BATCH];
    struct mmsghdr h[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    int done = 0;
    while (done < k) {
        int i, r, want = k - done < BATCH ? k - done : BATCH;
        for (i = 0; i < want; i++)
            recv_slot(&h[i], &iov[i], buf[i], BUFSZ, &from[i], &control[i], sizeof control[i]);
        r = recvmmsg(rx, h, (unsigned)want, MSG_WAITFORONE, NULL);
        if (r <= 0) return done;
        for (i = 0; i < r; i++) handle(&h[i].msg_hdr, (ssize_t)h[i].msg_len);
        done += r;
    }
    return done;
}

/* sendmsg with an IP_PKTINFO choosing the source address. */
static int run_sendmsg(int tx, const struct sockaddr_in *to, int k)
{
    union { struct cmsghdr align; unsigned char b[CMSG_SPACE(sizeof(struct in_pktinfo))]; } control;
    unsigned char data[DGRAM];
    int i;
    memset(data, 'x', sizeof data);
    for (i = 0; i < k; i++) {
        struct iovec iov = { data, sizeof data };
        struct msghdr m;
        struct cmsghdr *c;
        struct in_pktinfo pi;
        memset(&m, 0, sizeof m);
        m.msg_name = (void *)(uintptr_t)to;
        m.msg_namelen = sizeof *to;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = &control;
        m.msg_controllen = sizeof control;
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof pi);
        memset(&pi, 0, sizeof pi);
        pi.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK);
        memcpy(CMSG_DATA(c), &pi, sizeof pi);
        if (sendmsg(tx, &m, 0) != DGRAM) return i;
    }
    return k;
}

int main(int argc, char **argv)
{
    struct sockaddr_in to, txaddr;
    const char *mode;
    int k, rounds, r, rx, tx, send_mode;

    if (argc != 4) {
        fprintf(stderr, "usage: %s recvfrom|recvmsg[-raw]|recvmmsg[-raw]|sendmsg K ROUNDS\n",
                argv[0]);
        return 2;
    }
    mode = argv[1];
    if (strcmp(mode, "recvmsg-raw") == 0) { mode = "recvmsg"; format = 0; }
    if (strcmp(mode, "recvmmsg-raw") == 0) { mode = "recvmmsg"; format = 0; }
    k = atoi(argv[2]);
    rounds = atoi(argv[3]);
    send_mode = strcmp(mode, "sendmsg") == 0;
    rx = open_bound(&to, strcmp(mode, "recvfrom") != 0 && !send_mode);
    tx = open_bound(&txaddr, 0);
    for (r = 0; r < rounds; r++) {
        double t0, t1;
        int got;
        if (send_mode) {
            t0 = cpu_now();
            got = run_sendmsg(tx, &to, k);
            t1 = cpu_now();
            if (got == k) got = drain(rx);
        } else {
            fill(tx, &to, k);
            t0 = cpu_now();
            if (strcmp(mode, "recvfrom") == 0) got = run_recvfrom(rx, k);
            else if (strcmp(mode, "recvmsg") == 0) got = run_recvmsg(rx, k);
            else if (strcmp(mode, "recvmmsg") == 0) got = run_recvmmsg(rx, k);
            else { fprintf(stderr, "unknown mode %s\n", mode); return 2; }
            t1 = cpu_now();
        }
        if (got != k) {
            fprintf(stderr, "%s: %d of %d datagrams arrived (receive buffer too small?)\n",
                    mode, got, k);
            return 1;
        }
        printf("%s%.1f", r ? " " : "", (t1 - t0) / k);
    }
    printf("\n");
    close(rx);
    close(tx);
    return 0;
}
