/* Gateways (README, "Gateways"): connected sockets, the error queue
 * (IP_RECVERR), path MTU, interface binding and raw socket options. Plain
 * C, no lua.h: pk_errq.c decodes an error-queue message, pk_gw_posix.c
 * and pk_sock_win.c make the system calls. */
#ifndef PK_GW_H
#define PK_GW_H

#include "pk_sock.h"

/* The error queue: Linux's IP_RECVERR with struct sock_extended_err.
 * (Windows' headers name IP_RECVERR too, for something else.) */
#if defined(__linux__) && defined(IP_RECVERR) && defined(IPV6_RECVERR)
#include <linux/errqueue.h>
#define PK_HAVE_ERRQUEUE 1
#endif

/* The Linux socket options of the gateways, all or none (one
 * configuration: cppcheck checks every one). */
#if defined(PK_HAVE_ERRQUEUE) && defined(IP_MTU_DISCOVER) \
    && defined(IPV6_MTU_DISCOVER) && defined(IP_MTU) && defined(IPV6_MTU) \
    && defined(SO_BINDTODEVICE) && defined(SO_MARK) && defined(IP_FREEBIND) \
    && defined(IPV6_FREEBIND) && defined(IP_TRANSPARENT) \
    && defined(IPV6_TRANSPARENT) && defined(IP_RECVORIGDSTADDR) \
    && defined(IPV6_RECVORIGDSTADDR)
#define PK_HAVE_GW_LINUX 1
#endif

/* Where an error came from (SO_EE_ORIGIN_* on Linux). */
enum {
    PK_ORIGIN_NONE = 0, PK_ORIGIN_LOCAL = 1, PK_ORIGIN_ICMP = 2,
    PK_ORIGIN_ICMP6 = 3, PK_ORIGIN_TIMESTAMPING = 4, PK_ORIGIN_ZEROCOPY = 5,
    PK_ORIGIN_TXTIME = 6
};

/* One error read from the error queue. */
typedef struct pk_errinfo {
    int found;                   /* an extended error was in the control data */
    int err;                     /* ee_errno */
    int origin;                  /* PK_ORIGIN_* */
    int type, code;              /* ICMP type and code */
    uint32_t info;               /* ee_info: the MTU for EMSGSIZE */
    int has_offender;
    pk_sockaddr offender;        /* who reported it (ICMP only) */
    pk_sockaddr to;              /* where the failed datagram was going */
    size_t len;                  /* bytes of the quoted datagram stored */
    int truncated;               /* the quoted part was longer than the buffer */
} pk_errinfo;

/* Path MTU discovery modes of option mtu-discover, in the order of
 * their names ("dont", "want", "do", "probe"). */
enum { PK_PMTUD_DONT, PK_PMTUD_WANT, PK_PMTUD_DO, PK_PMTUD_PROBE };

/* Longest name option device accepts (IFNAMSIZ - 1 on Linux: the kernel
 * would cut a longer one and bind to another interface). */
#define PK_DEVICE_MAX 15
/* Room for the name getoption("device") reads back (Windows names are
 * longer than Linux ones). */
#define PK_DEVICE_NAMECAP 260
/* Largest value of setsockopt/getsockopt as bytes. */
#define PK_SOCKOPT_MAX 256

/* pk_errq.c */
int pk_errq_decode(const void *control, size_t len, pk_errinfo *out);
const char *pk_errq_origin_name(int origin);

/* pk_options.c: the system's value of a mode, and back (-1: none). */
int pk_pmtud_to_sys(int mode);
int pk_pmtud_from_sys(int value);

/* pk_gw_posix.c / pk_sock_win.c */
int pk_sock_connect(pk_sock *s, const pk_sockaddr *peer);
int pk_sock_peer(const pk_sock *s, pk_sockaddr *a);
int pk_sys_setbytes(pk_socket_t fd, int level, int name, const void *v,
                    size_t len);
int pk_sys_getbytes(pk_socket_t fd, int level, int name, void *v,
                    size_t *len);
int pk_sock_set_device(pk_sock *s, const char *name);
int pk_sock_get_device(const pk_sock *s, char *name, size_t cap);
int pk_sock_recverr(pk_sock *s, void *buf, size_t cap, pk_errinfo *e);

#endif
