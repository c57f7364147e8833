/* The C baselines of `make bench`'s bulk-flow rows: what a plain C
 * program pays per 1,200-byte datagram of one flow, with and without
 * segmentation offload, on loopback or across a veth pair between two
 * network namespaces. Usage:
 *
 *   cbulk MODE K ROUNDS [NS_TX NS_RX]
 *   cbulk spawn NS_TX NS_RX -- COMMAND [ARG...]
 *
 * MODE: sendmmsg (64 datagrams per call), gso (the same 64 as UDP_SEGMENT
 * sends of at most 54 segments, 64,800 bytes, as the module groups them:
 * 54 + 10), recvmmsg (64 per call, each datagram handled), gro (UDP_GRO on:
 * 32 buffers of 64 KiB per call, each cut into its datagrams, each
 * handled). Handling a datagram is what bench/cloop.c's C server does:
 * find IP_PKTINFO and format the sender's and the destination's address.
 * The receiver of the send modes has UDP_GRO on; the receive modes are fed
 * by a UDP_SEGMENT sender. Each round sends or fills K datagrams, times
 * only the sends or the drain in process CPU time, checks that all K
 * arrived, and prints nanoseconds per datagram, one number per round.
 *
 * NS_TX, NS_RX: network namespaces (/run/netns) for the sender and the
 * receiver, with 198.51.100.1 and 198.51.100.2 on a veth pair; "-" or
 * absent: loopback, 127.0.0.1 both. spawn makes the same sockets (sender,
 * receiver, and a second receiver for gro) and runs COMMAND in NS_RX with
 * them open, their descriptors in BULK_TX_FD, BULK_RX_FD, BULK_RXG_FD
 * and the receivers' address in BULK_RX_ADDR (bench/bulk.lua). Buffers
 * are forced to 32 MiB where allowed (root), else rmem_max caps them. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cbench.h"

#define DGRAM 1200
#define BATCH 64
#define SEGS 54                          /* 54 * 1200 = 64800 <= 65472 */
#define SLOTS 32
#define SLOT 65536

static unsigned char payload[DGRAM * BATCH];
static unsigned char rbuf[SLOTS][SLOT];
static volatile unsigned long sink;

/* Enters network namespace ns (NULL or "-": stays). */
static void enter(const char *ns)
{
    char path[256];
    int fd;
    if (!ns || strcmp(ns, "-") == 0) return;
    snprintf(path, sizeof path, "/run/netns/%s", ns);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) die(path);
    if (setns(fd, CLONE_NEWNET)) die("setns");
    close(fd);
}

/* A UDP socket bound to text:0 (address in *a), big buffers, a 1 s
 * receive limit, IP_PKTINFO on; UDP_GRO on if gro. */
static int open_udp(const char *text, struct sockaddr_in *a, int gro)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 32 << 20, on = 1;
    socklen_t len = sizeof *a;
    struct timeval limit = { 1, 0 };
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size))
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on)) die("IP_PKTINFO");
    if (gro && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on)) die("UDP_GRO");
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &a->sin_addr) != 1) die(text);
    if (bind(fd, (struct sockaddr *)a, sizeof *a)) die("bind");
    if (getsockname(fd, (struct sockaddr *)a, &len)) die("getsockname");
    return fd;
}

/* Sends n (<= BATCH) datagrams to `to` in one sendmmsg: one message each,
 * or with gso as UDP_SEGMENT messages of up to SEGS. */
static void send_batch(int tx, const struct sockaddr_in *to, int n, int gso)
{
    struct mmsghdr h[BATCH];
    struct iovec iov[BATCH];
    union { size_t len; void *ptr; unsigned char b[CMSG_SPACE(sizeof(uint16_t))]; } c[BATCH];
    int i, k = 0, done = 0;
    for (i = 0; i < n; k++) {
        int segs = gso ? (n - i < SEGS ? n - i : SEGS) : 1;
        memset(&h[k], 0, sizeof h[k]);
        iov[k].iov_base = payload + (size_t)i * DGRAM;
        iov[k].iov_len = (size_t)segs * DGRAM;
        h[k].msg_hdr.msg_name = (void *)(uintptr_t)to;
        h[k].msg_hdr.msg_namelen = sizeof *to;
        h[k].msg_hdr.msg_iov = &iov[k];
        h[k].msg_hdr.msg_iovlen = 1;
        if (segs > 1) {
            struct cmsghdr *cm;
            uint16_t seg = DGRAM;
            h[k].msg_hdr.msg_control = &c[k];
            h[k].msg_hdr.msg_controllen = sizeof c[k];
            cm = CMSG_FIRSTHDR(&h[k].msg_hdr);
            cm->cmsg_level = IPPROTO_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof seg);
            memcpy(CMSG_DATA(cm), &seg, sizeof seg);
        }
        i += segs;
    }
    while (done < k) {
        int r = sendmmsg(tx, h + done, (unsigned)(k - done), 0);
        if (r <= 0) die("sendmmsg");
        done += r;
    }
}

/* Sends k datagrams in batches of BATCH. */
static void send_all(int tx, const struct sockaddr_in *to, int k, int gso)
{
    int i;
    for (i = 0; i < k; i += BATCH) send_batch(tx, to, k - i < BATCH ? k - i : BATCH, gso);
}

/* The segment size a message's UDP_GRO control message gives (0: none). */
static int gro_size(struct msghdr *m)
{
    struct cmsghdr *c;
    int seg = 0;
    for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO)
            memcpy(&seg, CMSG_DATA(c), sizeof seg);
    return seg;
}

/* What a C server does with one datagram of len bytes: find IP_PKTINFO
 * and format both addresses (when format). */
static void handle(struct msghdr *m, size_t len, int format)
{
    char from[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
    struct sockaddr_in *sin = (struct sockaddr_in *)m->msg_name;
    struct cmsghdr *c;
    from[0] = dst[0] = '\0';
    for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            if (format) inet_ntop(AF_INET, &pi.ipi_addr, dst, sizeof dst);
            sink += (unsigned long)pi.ipi_ifindex;
        }
    if (format) inet_ntop(AF_INET, &sin->sin_addr, from, sizeof from);
    sink += len + ntohs(sin->sin_port) + (unsigned char)from[0] + (unsigned char)dst[0];
}

/* Receives datagrams until k arrived (or none for 1 s): recvmmsg of up to
 * BATCH buffers of 2 KiB, or with gro SLOTS buffers of 64 KiB, each cut
 * into its datagrams; each datagram handled (format: with address text).
 * Returns the count. */
static int receive(int rx, int k, int gro, int format)
{
    static union { size_t len; void *ptr; unsigned char b[256]; } control[BATCH];
    struct mmsghdr h[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    int got = 0, slots = gro ? SLOTS : BATCH;
    while (got < k) {
        int i, r;
        for (i = 0; i < slots; i++) {
            size_t len = gro ? SLOT : 2048;
            recv_slot(&h[i], &iov[i], &rbuf[0][0] + (size_t)i * len, len, &from[i],
                      &control[i], sizeof control[i]);
        }
        r = recvmmsg(rx, h, (unsigned)slots, MSG_WAITFORONE, NULL);
        if (r <= 0) return got;
        for (i = 0; i < r; i++) {
            size_t len = h[i].msg_len, seg = (size_t)gro_size(&h[i].msg_hdr), off;
            if (!seg || seg >= len) {            /* one datagram */
                handle(&h[i].msg_hdr, len, format);
                got++;
                continue;
            }
            for (off = 0; off < len; off += seg, got++)
                handle(&h[i].msg_hdr, len - off < seg ? len - off : seg, format);
        }
    }
    return got;
}

/* The sender and the receiver(s), in their namespaces (see the top). */
static void open_pair(const char *ns_tx, const char *ns_rx, int *tx,
                      struct sockaddr_in *txa, int *rx, struct sockaddr_in *rxa, int rx_gro)
{
    int veth = ns_tx && strcmp(ns_tx, "-") != 0;
    enter(ns_tx);
    *tx = open_udp(veth ? "198.51.100.1" : "127.0.0.1", txa, 0);
    enter(ns_rx);
    *rx = open_udp(veth ? "198.51.100.2" : "127.0.0.1", rxa, rx_gro);
}

/* One round trip before measuring: neighbour resolution on the veth. */
static void warm_up(int tx, const struct sockaddr_in *to, int rx)
{
    if (sendto(tx, "w", 1, 0, (const struct sockaddr *)to, sizeof *to) != 1) die("warm-up send");
    if (recv(rx, rbuf[0], SLOT, 0) != 1) die("warm-up receive");
}

/* cbulk spawn NS_TX NS_RX -- COMMAND...: see the top. */
static int spawn(int argc, char **argv)
{
    struct sockaddr_in txa, rxa, rga;
    char v[64], addr[INET_ADDRSTRLEN];
    int tx, rx, rg;
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: cbulk spawn NS_TX NS_RX -- COMMAND [ARG...]\n");
        return 2;
    }
    open_pair(argv[2], argv[3], &tx, &txa, &rx, &rxa, 0);
    warm_up(tx, &rxa, rx);
    rg = open_udp(inet_ntop(AF_INET, &rxa.sin_addr, addr, sizeof addr), &rga, 0);
    snprintf(v, sizeof v, "%d", tx); setenv("BULK_TX_FD", v, 1);
    snprintf(v, sizeof v, "%d", rx); setenv("BULK_RX_FD", v, 1);
    snprintf(v, sizeof v, "%d", rg); setenv("BULK_RXG_FD", v, 1);
    setenv("BULK_RX_ADDR", addr, 1);
    execvp(argv[5], argv + 5);
    die(argv[5]);
    return 2;
}

int main(int argc, char **argv)
{
    struct sockaddr_in txa, rxa;
    const char *mode;
    int k, rounds, r, tx, rx, gso, gro, sending;

    if (argc >= 2 && strcmp(argv[1], "spawn") == 0) return spawn(argc, argv);
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s sendmmsg|gso|recvmmsg|gro K ROUNDS [NS_TX NS_RX]\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    k = atoi(argv[2]);
    rounds = atoi(argv[3]);
    gso = strcmp(mode, "gso") == 0;
    gro = strcmp(mode, "gro") == 0;
    sending = gso || strcmp(mode, "sendmmsg") == 0;
    if (!sending && !gro && strcmp(mode, "recvmmsg") != 0) {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    memset(payload, 'x', sizeof payload);
    open_pair(argc == 6 ? argv[4] : NULL, argc == 6 ? argv[5] : NULL, &tx, &txa, &rx, &rxa,
              sending || gro);
    warm_up(tx, &rxa, rx);
    for (r = 0; r < rounds; r++) {
        double t0, t1;
        int got;
        if (sending) {
            t0 = cpu_now();
            send_all(tx, &rxa, k, gso);
            t1 = cpu_now();
            got = receive(rx, k, 1, 0);
        } else {
            send_all(tx, &rxa, k, 1);
            t0 = cpu_now();
            got = receive(rx, k, gro, 1);
            t1 = cpu_now();
        }
        if (got != k) {
            fprintf(stderr, "cbulk %s: %d of %d datagrams arrived (receive buffer too small?)\n",
                    mode, got, k);
            return 1;
        }
        printf("%s%.1f", r ? " " : "", (t1 - t0) / k);
    }
    printf("\n");
    return 0;
}
