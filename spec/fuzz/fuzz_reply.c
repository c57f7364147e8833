/* libFuzzer target: the reply-source rules (pk_reply_source, DESIGN.md
 * "Sources") on arbitrary requests, checked against the rules as written,
 * then encoded for the request's own IP version: a reply must always be
 * encodable in PK_CMSG_SEND_CAP bytes and decode back to the same source. */
#include "pk_addr.h"
#include "pk_cmsg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The rules for an IPv4 request. */
static void check_v4(const pk_request *q, const pk_sendsrc *s)
{
    static const unsigned char ones[4] = {255, 255, 255, 255};
    int group = pk_ip4_is_multicast(q->dst) || memcmp(q->dst, ones, 4) == 0;
    int bcast = group || (q->has_spec_dst && memcmp(q->dst, q->spec_dst, 4));
    if (q->has_spec_dst) {
        if (!(s->has & PK_SRC_ADDR) || memcmp(s->addr, q->spec_dst, 4)) abort();
    } else if (!group) {
        if (!(s->has & PK_SRC_ADDR) || memcmp(s->addr, q->dst, 4)) abort();
    } else if (s->has & PK_SRC_ADDR) {
        abort();                 /* never from the group or broadcast address */
    }
    if ((s->has & PK_SRC_ADDR) && s->family != AF_INET) abort();
    if (!!(s->has & PK_SRC_IFINDEX) != (bcast && q->ifindex != 0)) abort();
}

/* The rules for an IPv6 request. */
static void check_v6(const pk_request *q, const pk_sendsrc *s)
{
    static const unsigned char any[16];
    int want_ifx;
    if (!(s->has & PK_SRC_ADDR) || s->family != AF_INET6) abort();
    if (pk_ip6_is_multicast(q->dst)) {
        if (memcmp(s->addr, any, 16)) abort();   /* "::": the kernel picks */
        want_ifx = q->ifindex != 0;
    } else {
        if (memcmp(s->addr, q->dst, 16)) abort();
        want_ifx = ((q->peer_family == AF_INET6 && pk_ip6_is_linklocal(q->peer)) || pk_ip6_is_linklocal(q->dst)) && q->ifindex;
    }
    if (!!(s->has & PK_SRC_IFINDEX) != want_ifx) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    pk_request q;
    pk_sendsrc s;
    pk_recvinfo back;
    pk_cmsgbuf buf;
    long n;

    if (size < 1 + 16 + 4 + 4) return 0;
    memset(&q, 0, sizeof q);
    q.family = data[0] & 1 ? AF_INET6 : AF_INET;
    q.has_dst = (data[0] & 2) != 0;
    q.has_spec_dst = (data[0] & 4) != 0;
    if (data[0] & 8) { q.peer_family = AF_INET6; q.peer[0] = 0xfe; q.peer[1] = 0x80; }
    memcpy(q.dst, data + 1, 16);
    memcpy(q.spec_dst, data + 17, 4);
    memcpy(&q.ifindex, data + 21, 4);
    memset(&s, 0xa5, sizeof s);
    pk_reply_source(&q, NULL, NULL, &s);
    if (!q.has_dst) {
        if (s.has) abort();
        return 0;
    }
    if (q.family == AF_INET) check_v4(&q, &s);
    else check_v6(&q, &s);

    n = pk_cmsg_encode(&buf, PK_CMSG_SEND_CAP, q.family, &s);
    if (n < 0) abort();          /* a reply always fits and matches */
    if (n == 0) {
        /* only an IPv4 group request with neither spec_dst nor ifindex (an
         * incomplete info table): routing picks a unicast source */
        if (s.has || q.family != AF_INET || q.has_spec_dst || q.ifindex) abort();
        return 0;
    }
    pk_cmsg_decode(&buf, (size_t)n, &back);
    if (!(back.has & PK_HAS_DST)) abort();
    if (back.ifindex != (s.has & PK_SRC_IFINDEX ? s.ifindex : 0)) abort();
    return 0;
}
