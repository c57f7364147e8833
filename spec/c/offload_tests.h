/* Unit tests of segmentation offload (src/pk_offload.c, the UDP_SEGMENT
 * path of src/pk_batch.c), included by test_c.c, whose CHECK they use:
 * the datagrams of coalesced buffers, walking and skipping across
 * buffers; the runs sendmany groups; and, on real loopback sockets, the
 * fallbacks when the kernel refuses, simulated with pk_offload_set_hook:
 * options that stay off without an error, a UDP_SEGMENT send refused as
 * unsupported (sent item by item, gso off only on first use), and a run
 * refused for its datagrams' own sake (every item refused, as alone). */
#include "pk_offload.h"

/* A received message of len bytes at data, coalesced with segment size
 * seg (0: none), cut by the kernel if trunc. */
static pk_datagram gro_msg(const unsigned char *data, size_t len, uint32_t seg, int trunc)
{
    pk_datagram m;
    memset(&m, 0, sizeof m);
    m.data = (unsigned char *)(uintptr_t)data;
    m.cap = m.len = len;
    m.info.gro = seg;
    m.truncated = trunc;
    return m;
}

/* Three messages: 3500 bytes in segments of 1000, an empty datagram, and
 * 2500 bytes of segments of 1000 that the kernel cut. */
static void test_gro_split(void)
{
    static unsigned char a[3500], b[1], c[2500];
    static const size_t lens[] = {1000, 1000, 1000, 500, 0, 1000, 1000, 500};
    static const size_t offs[] = {0, 1000, 2000, 3000, 0, 0, 1000, 2000};
    const unsigned char *bases[] = {a, a, a, a, b, c, c, c};
    pk_datagram m[3];
    pk_grocur cur;
    pk_dgview v;
    size_t k, i;

    m[0] = gro_msg(a, sizeof a, 1000, 0);
    m[1] = gro_msg(b, 0, 0, 0);
    m[2] = gro_msg(c, sizeof c, 1000, 1);
    CHECK(pk_gro_count(&m[0]) == 4 && pk_gro_count(&m[1]) == 1 && pk_gro_count(&m[2]) == 3,
          "gro counts %zu %zu %zu", pk_gro_count(&m[0]), pk_gro_count(&m[1]), pk_gro_count(&m[2]));
    for (k = 0; k <= 9; k++) {               /* skip k, then walk the rest */
        pk_gro_init(&cur, m, 3);
        pk_gro_skip(&cur, k);
        CHECK(cur.left == (k < 8 ? 8 - k : 0), "skip %zu: %zu left", k, cur.left);
        for (i = k; i < 8; i++) {
            int ok = pk_gro_next(&cur, &v);
            CHECK(ok && v.len == lens[i] && v.data == bases[i] + offs[i]
                  && v.truncated == (i == 7) && v.msg == &m[i < 4 ? 0 : i == 4 ? 1 : 2],
                  "skip %zu, datagram %zu: len %zu truncated %d", k, i, v.len, v.truncated);
        }
        CHECK(!pk_gro_next(&cur, &v), "skip %zu: nothing after the last", k);
    }
    /* a segment size the buffer does not exceed: one datagram */
    m[0] = gro_msg(a, 1200, 1200, 0);
    m[1] = gro_msg(a, 1200, 5000, 0);
    CHECK(pk_gro_count(&m[0]) == 1 && pk_gro_count(&m[1]) == 1, "seg >= len: one datagram");
    /* a walk that may take only some (a call's share) stops there */
    m[0] = gro_msg(a, sizeof a, 1000, 0);
    pk_gro_init(&cur, m, 1);
    cur.left = 2;
    CHECK(pk_gro_next(&cur, &v) && pk_gro_next(&cur, &v) && !pk_gro_next(&cur, &v)
          && cur.off == 2000, "a share of 2 stops after 2");
}

/* pk_gso_run: what breaks a run and what does not. */
static void test_gso_runs(void)
{
    static pk_outmsg m[80];
    static const unsigned char data[1300];
    size_t i;
    memset(m, 0, sizeof m);
    for (i = 0; i < 80; i++) {
        m[i].data = data;
        m[i].len = 1200;
        m[i].to.v4.sin_family = AF_INET;
        m[i].to.v4.sin_port = htons(9);
        m[i].to.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m[i].to.v4.sin_zero[0] = (unsigned char)i;  /* padding is not compared */
        m[i].index = (int)i + 1;
    }
    CHECK(pk_gso_run(m, 80) == 54, "1200-byte items: 54 fit in 65472 bytes (%zu)", pk_gso_run(m, 80));
    CHECK(pk_gso_run(m, 1) == 1 && pk_gso_run(m, 7) == 7, "a short list is one run");
    for (i = 0; i < 80; i++) m[i].len = 100;
    CHECK(pk_gso_run(m, 80) == 64, "at most 64 segments (%zu)", pk_gso_run(m, 80));
    m[3].len = 50;
    CHECK(pk_gso_run(m, 80) == 4, "a shorter item ends the run, in it (%zu)", pk_gso_run(m, 80));
    m[3].len = 101;
    CHECK(pk_gso_run(m, 80) == 3, "a longer item starts another (%zu)", pk_gso_run(m, 80));
    m[3].len = 0;
    CHECK(pk_gso_run(m, 80) == 3, "an empty item is never a segment");
    m[3].len = 100;
    m[3].to.v4.sin_port = htons(10);
    CHECK(pk_gso_run(m, 80) == 3, "another port: another run");
    m[3].to.v4.sin_port = htons(9);
    m[3].index = 99;
    CHECK(pk_gso_run(m, 80) == 3, "items not next to each other in the list: another run");
    m[3].index = 4;
    m[3].controllen = 16;
    CHECK(pk_gso_run(m, 80) == 3, "other control messages (source, ttl): another run");
    m[3].controllen = 0;
    m[0].len = 0;
    CHECK(pk_gso_run(m, 80) == 1, "an empty first item goes alone");
}

static int hook_err[4];      /* by PK_OFFLOAD_*: the next refusal, used once */
static int hook_calls[4];

/* The tests' kernel: refuses `what` once with hook_err[what]. */
static int test_hook(int what)
{
    int err = hook_err[what];
    hook_calls[what]++;
    hook_err[what] = 0;
    return err;
}

/* A UDP socket on 127.0.0.1 (port chosen by the kernel, in *a), that
 * never waits. */
static int loopback_socket(pk_sock *s, pk_sockaddr *a)
{
    memset(s, 0, sizeof *s);
    s->fd = PK_NO_SOCKET;
    memset(a, 0, sizeof *a);
    a->v4.sin_family = AF_INET;
    a->v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return pk_sock_open(s, AF_INET, SOCK_DGRAM, 0) || pk_sock_bind(s, a)
        || pk_sock_name(s, a) ? -1 : 0;
}

/* Sends n items of len bytes to `to`, item i filled with byte first + i,
 * through pk_sock_sendmany; err[i] gets each result. */
static void send_items(pk_sock *s, const pk_sockaddr *to, size_t n, size_t len,
                       unsigned char first, int *err)
{
    static pk_outmsg m[64];
    static unsigned char data[64][1000];
    size_t i;
    memset(m, 0, sizeof m);
    for (i = 0; i < n && i < 64; i++) {
        memset(data[i], first + (int)i, sizeof data[i]);
        m[i].data = data[i];
        m[i].len = len;
        m[i].to = *to;
        m[i].index = (int)i + 1;
    }
    pk_sock_sendmany(s, m, n);
    for (i = 0; i < n; i++) err[i] = m[i].err;
}

/* Receives what is queued on s (gro on): *nmsg buffers holding *ndg
 * datagrams, whose first bytes go to order[]. */
static void drain_queue(pk_sock *s, size_t *nmsg, size_t *ndg, unsigned char *order)
{
    static unsigned char buf[8][65536];
    pk_datagram d[8];
    *nmsg = *ndg = 0;
    s->timeout = 0;
    for (;;) {
        size_t i, got;
        pk_grocur c;
        pk_dgview v;
        for (i = 0; i < 8; i++) {
            d[i].data = buf[i];
            d[i].cap = sizeof buf[i];
        }
        if (pk_sock_recvmany(s, d, 8, &got)) return;
        *nmsg += got;
        pk_gro_init(&c, d, got);
        while (pk_gro_next(&c, &v)) {
            if (*ndg < 64) order[*ndg] = v.len ? v.data[0] : 0;
            ++*ndg;
        }
    }
}

/* Whether order[0..n) is first, first + 1, ... */
static int in_order(const unsigned char *order, size_t n, unsigned char first)
{
    size_t i;
    for (i = 0; i < n; i++) if (order[i] != (unsigned char)(first + i)) return 0;
    return 1;
}

/* Options that the kernel refuses as unsupported stay off, silently;
 * other refusals are errors. */
static void test_offload_options(pk_sock *rx, pk_sock *tx)
{
    int on = -1;
    hook_err[PK_OFFLOAD_GRO] = ENOPROTOOPT;
    CHECK(pk_offload_setopt(rx, PK_OFFLOAD_GRO, 1) == 0 && !rx->off.gro
          && pk_offload_getopt(rx, PK_OFFLOAD_GRO, &on) == 0 && on == 0,
          "gro refused as unsupported: true, and getoption false (%d)", on);
    hook_err[PK_OFFLOAD_GRO] = EPERM;
    CHECK(pk_offload_setopt(rx, PK_OFFLOAD_GRO, 1) == EPERM && !rx->off.gro,
          "gro refused otherwise: the error");
    CHECK(pk_offload_setopt(rx, PK_OFFLOAD_GRO, 1) == 0 && rx->off.gro, "gro on");
    CHECK(pk_offload_setopt(rx, PK_OFFLOAD_GRO, 0) == 0 && rx->off.gro
          && pk_sys_getint(rx->fd, IPPROTO_UDP, UDP_GRO, &on) == 0 && on,
          "gro off: no error, and still on (a queued buffer would come out unmarked)");
    hook_err[PK_OFFLOAD_GSO] = EINVAL;
    CHECK(pk_offload_setopt(tx, PK_OFFLOAD_GSO, 1) == 0 && !tx->off.gso,
          "gso refused as unsupported: off, no error");
    CHECK(pk_offload_setopt(tx, PK_OFFLOAD_GSO, 1) == 0 && tx->off.gso
          && pk_offload_getopt(tx, PK_OFFLOAD_GSO, &on) == 0 && on == 1, "gso on");
}

/* UDP_SEGMENT sends the kernel refuses, on their real path. */
static void test_gso_fallback(pk_sock *rx, const pk_sockaddr *ra, pk_sock *tx)
{
    unsigned char order[64];
    size_t nmsg, ndg, i;
    int err[64], all_sent;

    /* refused as unsupported before any went out: item by item, gso off */
    hook_err[PK_OFFLOAD_GSO_SEND] = EINVAL;
    send_items(tx, ra, 10, 1000, 1, err);
    for (all_sent = 1, i = 0; i < 10; i++) all_sent = all_sent && err[i] == 0;
    drain_queue(rx, &nmsg, &ndg, order);
    CHECK(all_sent && nmsg == 10 && ndg == 10 && in_order(order, 10, 1)
          && hook_calls[PK_OFFLOAD_GSO_SEND] == 1 && !tx->off.gso,
          "first use refused: 10 sent one by one (%zu buffers), gso off (%d)", nmsg, tx->off.gso);
    /* gso again: one send of 10 segments arrives as one buffer */
    pk_offload_setopt(tx, PK_OFFLOAD_GSO, 1);
    send_items(tx, ra, 10, 1000, 20, err);
    drain_queue(rx, &nmsg, &ndg, order);
    CHECK(err[0] == 0 && err[9] == 0 && nmsg == 1 && ndg == 10 && in_order(order, 10, 20)
          && tx->off.gso_ok, "a run: one buffer of 10 (%zu buffers, %zu datagrams)", nmsg, ndg);
    /* refused as unsupported after one went out: item by item, gso stays */
    hook_err[PK_OFFLOAD_GSO_SEND] = EIO;
    send_items(tx, ra, 10, 1000, 40, err);
    drain_queue(rx, &nmsg, &ndg, order);
    CHECK(err[0] == 0 && err[9] == 0 && nmsg == 10 && ndg == 10 && in_order(order, 10, 40)
          && tx->off.gso, "later refusal: one by one (%zu buffers), gso stays on", nmsg);
}

/* A run refused for the datagrams' own sake refuses each of its items
 * with that error, and the items after it still go. */
static void test_gso_refused_run(pk_sock *rx, const pk_sockaddr *ra, pk_sock *tx)
{
    static pk_outmsg m[12];
    static unsigned char data[1000];
    pk_sockaddr other = *ra;
    unsigned char order[64];
    size_t nmsg, ndg, i;
    int ok = 1;

    other.v4.sin_port = htons((uint16_t)(ntohs(ra->v4.sin_port) ^ 1));
    memset(m, 0, sizeof m);
    for (i = 0; i < 12; i++) {
        m[i].data = data;
        m[i].len = sizeof data;
        m[i].to = i < 6 ? other : *ra;
        m[i].index = (int)i + 1;
    }
    hook_err[PK_OFFLOAD_GSO_SEND] = EHOSTUNREACH;
    pk_sock_sendmany(tx, m, 12);
    for (i = 0; i < 12; i++) ok = ok && m[i].err == (i < 6 ? EHOSTUNREACH : 0);
    drain_queue(rx, &nmsg, &ndg, order);
    CHECK(ok && nmsg == 1 && ndg == 6 && tx->off.gso,
          "refused run: its 6 items refused, the next 6 sent as one (%zu/%zu)", nmsg, ndg);
}

/* The fallbacks, on two loopback sockets with the tests' hook. */
static void test_offload_fallback(void)
{
    pk_sock rx, tx;
    pk_sockaddr ra, ta;
    if (loopback_socket(&rx, &ra) || loopback_socket(&tx, &ta)) {
        CHECK(0, "two loopback sockets for the offload tests");
        return;
    }
    pk_offload_set_hook(test_hook);
    test_offload_options(&rx, &tx);
    test_gso_fallback(&rx, &ra, &tx);
    test_gso_refused_run(&rx, &ra, &tx);
    pk_offload_set_hook(NULL);
    pk_sock_close(&rx);
    pk_sock_close(&tx);
    CHECK(!rx.off.gro && !rx.off.pend.left, "close forgets the offload state");
}
