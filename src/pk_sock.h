/* The platform layer: every system call the module makes, on plain C
 * structs, returning 0 or an error number (errno, or WSA* on Windows).
 * pk_sock_posix.c implements it for POSIX, pk_sock_win.c for Winsock;
 * pk_sockopt.c holds the option rules both share. */
#ifndef PK_SOCK_H
#define PK_SOCK_H

#include "pk_platform.h"
#include "pk_cmsg.h"

#include <stdlib.h>

/* A walk over the datagrams of received messages, some of them coalesced
 * buffers (UDP_GRO) that pk_offload.c cuts into datagrams: the next one
 * is in msg[i] at offset off, and left datagrams remain from there to
 * the end of msg[n - 1]. owner is the memory holding the messages, for
 * the binding that keeps it alive (NULL: none). */
typedef struct pk_grocur {
    const struct pk_datagram *msg;
    size_t n, i, off, left;
    void *owner;
} pk_grocur;

/* Segmentation offload state of a socket (pk_offload.c). */
typedef struct pk_offload {
    int gro;                     /* UDP_GRO is on: buffers may be coalesced */
    int gso;                     /* sendmany groups runs into UDP_SEGMENT sends */
    int gso_ok;                  /* a UDP_SEGMENT send has succeeded */
    pk_grocur pend;              /* datagrams received but not yet returned */
} pk_offload;

/* A socket as the module keeps it (embedded in the Lua userdata). */
typedef struct pk_sock {
    pk_socket_t fd;              /* PK_NO_SOCKET once closed */
    int family;                  /* AF_INET or AF_INET6 */
    int type;                    /* SOCK_DGRAM, SOCK_RAW (or SOCK_STREAM wrapped) */
    int protocol;
    int owned;                   /* close the descriptor on close/gc */
    double timeout;              /* < 0: block; 0: never wait; seconds */
    double poll_deadline;        /* set by an event loop's timeout() call:
                                  * the next receive waits no later (0: none) */
    int rxq_ovfl;                /* SO_RXQ_OVFL is on (see pk_sock_recv_defaults) */
    pk_offload off;              /* option gro and gso, and what gro left over */
} pk_sock;

/* One datagram received. */
typedef struct pk_datagram {
    unsigned char *data;         /* where the payload was written */
    size_t cap;                  /* its room */
    size_t len;                  /* bytes stored (<= cap) */
    int truncated;               /* the datagram was longer than cap */
    int ctruncated;              /* the kernel cut control data */
    pk_sockaddr from;
    pk_recvinfo info;
} pk_datagram;

/* The kinds of option values, for pk_option. The gateway kinds (README,
 * "Gateways"): RDONLY an integer only read (setting it is ENOPROTOOPT),
 * U32 an unsigned 32-bit integer, PMTUD a PK_PMTUD_* mode (pk_gw.h),
 * DEVICE an interface name. */
enum { PK_OPTK_BOOL, PK_OPTK_INT, PK_OPTK_IFACE,
       PK_OPTK_RDONLY, PK_OPTK_U32, PK_OPTK_PMTUD, PK_OPTK_DEVICE };
/* Where an option lives: socket level, or IP level of the socket's family
 * (both levels on a dual-stack socket). */
enum { PK_OPTL_SOCKET, PK_OPTL_IP, PK_OPTL_IPV6ONLY };
/* Where gro and gso live: the module's own state (pk_offload.c), name4
 * saying which (PK_OFFLOAD_GRO or PK_OFFLOAD_GSO). */
enum { PK_OPTL_OFFLOAD = 16 };

/* One option of setoption/getoption. */
typedef struct pk_option {
    const char *name;
    int kind;
    int where;
    int level4, name4;           /* socket level or IPv4 level */
    int level6, name6;           /* IPv6 level (-1: none) */
} pk_option;

/* Fills in what a datagram's control messages leave unsaid: with
 * SO_RXQ_OVFL on, the kernel sends no counter before the first drop, so
 * the count is 0. Every receive path calls it after pk_cmsg_decode. */
static inline void pk_sock_recv_defaults(const pk_sock *s, pk_recvinfo *info)
{
    if (s->rxq_ovfl && !(info->has & PK_HAS_DROPPED)) {
        info->dropped = 0;
        info->has |= PK_HAS_DROPPED;
    }
}

const pk_option *pk_option_find(const char *name);
int pk_protocol_number(const char *name);

int pk_sys_init(void);
double pk_now(void);
int pk_sock_open(pk_sock *s, int family, int type, int protocol);
int pk_sock_adopt(pk_sock *s, pk_socket_t fd, int take);
int pk_sock_close(pk_sock *s);
int pk_sock_bind(pk_sock *s, const pk_sockaddr *a);
int pk_sock_name(const pk_sock *s, pk_sockaddr *a);
int pk_sock_dualstack(const pk_sock *s, int *dual);
int pk_sock_set_pktinfo(pk_sock *s, int on);
int pk_sock_get_pktinfo(const pk_sock *s, int *on);
int pk_sock_setopt(pk_sock *s, const pk_option *o, int value);
int pk_sock_getopt(const pk_sock *s, const pk_option *o, int *value,
                   pk_sockaddr *addr_out);
int pk_sock_membership(pk_sock *s, int join, const pk_sockaddr *group,
                       uint32_t ifindex, const pk_sockaddr *source);
int pk_sock_recv(pk_sock *s, pk_datagram *d);
int pk_sock_send(pk_sock *s, const void *data, size_t len,
                 const pk_sockaddr *to, const void *control,
                 size_t controllen, size_t *sent);
int pk_sock_wait(const pk_sock *s, int for_write, double *deadline);
size_t pk_sock_fit_source(const pk_sock *s, const pk_layout *L, void *control,
                          size_t len);
int pk_ipv4_disabled_ignorable(int err, int (*probe_ipv4)(void));
int pk_probe_ipv4(void);
/* Replaces the probe of the IPv4-disabled rule (NULL: pk_probe_ipv4
 * again) and returns the old one: for the C unit tests. */
typedef int (*pk_probe_fn)(void);
pk_probe_fn pk_sockopt_set_probe(pk_probe_fn probe);

/* Primitives each platform file gives pk_sockopt.c. */
int pk_sys_setint(pk_socket_t fd, int level, int name, int value);
int pk_sys_getint(pk_socket_t fd, int level, int name, int *value);
int pk_sys_set_iface4(pk_socket_t fd, int level, int name, uint32_t ifindex);
int pk_sys_get_iface4(pk_socket_t fd, int level, int name, struct in_addr *out);

const char *pk_errname(int err);
const char *pk_errmsg(int err, char *buf, size_t cap);

/* Batches (pk_batch.c): recvmmsg / sendmmsg where the platform has them,
 * else a loop over pk_sock_recv / pk_sock_send. */
#define PK_BATCH_CHUNK 32            /* datagrams per system call */

/* One datagram to send: payload, destination (in the socket's family) and
 * the control messages pk_cmsg_encode wrote; err is what sending it gave
 * (0 sent, an error number refused, -1 not tried). */
typedef struct pk_outmsg {
    const void *data;
    size_t len;
    pk_sockaddr to;
    int err;
    int index;                   /* the caller's own number for it */
    size_t controllen;
    union {                      /* aligned as cmsghdr (its first member is */
        size_t len;              /* a size_t; cmsghdr itself cannot be */
        void *ptr;               /* nested: a flexible array member) */
        unsigned char bytes[PK_CMSG_SEND_CAP];
    } control;
} pk_outmsg;

int pk_sock_recvmany(pk_sock *s, pk_datagram *d, size_t n, size_t *got);
int pk_sock_sendmany(pk_sock *s, pk_outmsg *m, size_t n);

/* Queued errors (pk_gw_posix.c; POSIX receive paths only): whether a
 * receive that failed with err is to be retried, because the kernel
 * reported a queued ICMP error instead of the waiting datagram; and the
 * wait for data when poll says the socket is ready with errors alone. */
int pk_sock_queued_error(const pk_sock *s, int err);
int pk_sock_wait_past_errors(const pk_sock *s, int revents, double *deadline);

#endif
