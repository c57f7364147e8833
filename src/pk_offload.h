/* Segmentation offload (README, "Offload"), plain C with no lua_State:
 * the datagrams of a buffer the kernel coalesced (UDP_GRO) and the runs
 * of sendmany items that go out as one UDP_SEGMENT send (pk_split.c, which
 * the fuzzer spec/fuzz/fuzz_split.c runs unchanged); options gro and gso
 * with their silent fallback, and a hook through which the C tests make
 * the kernel refuse (pk_offload.c). */
#ifndef PK_OFFLOAD_H
#define PK_OFFLOAD_H

#include "pk_sock.h"

/* Room for one buffer from the kernel: a coalesced one holds at most
 * 64 KiB (an IP datagram's length field), so it is never cut. */
#define PK_GRO_SLOT ((size_t)65536)
/* Most buffers one receive takes from the kernel. */
#define PK_GRO_SLOTS 32
/* Most datagrams, and bytes of payload, in one UDP_SEGMENT send. The
 * bytes leave room for the IPv6, UDP and link headers within a device's
 * 64 KiB, so the kernel passes the send on whole instead of cutting it up
 * in software (it takes up to 65,507 bytes, but then does that). */
#define PK_GSO_MAX_SEGS 64
#define PK_GSO_MAX_BYTES ((size_t)65472)

/* What the hook is asked about: setting gro, setting gso, a UDP_SEGMENT
 * send. */
enum { PK_OFFLOAD_GRO = 1, PK_OFFLOAD_GSO = 2, PK_OFFLOAD_GSO_SEND = 3 };

/* One datagram of a received message: where its bytes are, and whether
 * it was longer than that (the kernel cut the message). */
typedef struct pk_dgview {
    const pk_datagram *msg;      /* the message: sender and control data */
    const unsigned char *data;
    size_t len;
    int truncated;
} pk_dgview;

size_t pk_gro_count(const pk_datagram *m);
void pk_gro_init(pk_grocur *c, const pk_datagram *msg, size_t n);
int pk_gro_next(pk_grocur *c, pk_dgview *v);
void pk_gro_skip(pk_grocur *c, size_t k);

size_t pk_gso_run(const pk_outmsg *m, size_t n);

int pk_offload_setopt(pk_sock *s, int which, int on);
int pk_offload_getopt(const pk_sock *s, int which, int *on);
int pk_offload_unsupported(int err);
/* pk_batch.c: whether sendmany can make UDP_SEGMENT sends here. */
int pk_sock_gso_capable(void);

/* The C tests' stand-in for a kernel that refuses: hook(what) returns the
 * error to pretend (0: none). Process-wide; NULL removes it. */
typedef int (*pk_offload_hook_fn)(int what);
pk_offload_hook_fn pk_offload_set_hook(pk_offload_hook_fn hook);
int pk_offload_refused(int what);
int pk_offload_hooked(void);

#endif
