/* Interface lists: building one (for the platform readers), and choosing
 * the address a reply should come from (pk_iface_pick), the same on every
 * platform. No lua_State here. */
#include "pk_iface.h"

#include <stdlib.h>
#include <string.h>

/* Frees what a list holds; safe on a zeroed list, and twice. */
void pk_iface_free(pk_iflist *l)
{
    free(l->ifs);
    free(l->addrs);
    memset(l, 0, sizeof *l);
}

/* Makes room for one more element of size in *items (n used of *cap):
 * 0 or ENOMEM. */
static int grow(void **items, size_t n, size_t *cap, size_t size)
{
    void *p;
    size_t want;
    if (n < *cap) return 0;
    want = *cap ? *cap * 2 : 8;
    if (want > ((size_t)-1) / size) return ENOMEM;
    p = realloc(*items, want * size);
    if (!p) return ENOMEM;
    *items = p;
    *cap = want;
    return 0;
}

/* Adds interface index, or updates it when already listed: a name replaces
 * an empty one (name may be NULL), up is or-ed in. 0 or ENOMEM. */
int pk_iflist_iface(pk_iflist *l, uint32_t index, const char *name, int up)
{
    pk_iface *f = NULL;
    size_t i;
    for (i = 0; i < l->nifs; i++)
        if (l->ifs[i].index == index) { f = &l->ifs[i]; break; }
    if (!f) {
        void *p = l->ifs;
        if (grow(&p, l->nifs, &l->ifcap, sizeof *f)) return ENOMEM;
        l->ifs = (pk_iface *)p;
        f = &l->ifs[l->nifs++];
        memset(f, 0, sizeof *f);
        f->index = index;
    }
    if (name && f->name[0] == '\0') {
        size_t n = strlen(name);
        if (n >= sizeof f->name) n = sizeof f->name - 1;
        memcpy(f->name, name, n);
        f->name[n] = '\0';
    }
    f->up = f->up || up;
    return 0;
}

/* Adds an address (4 or 16 bytes by family) of interface index. 0 or
 * ENOMEM. */
int pk_iflist_addr(pk_iflist *l, uint32_t index, int family,
                   const unsigned char *addr, unsigned prefix)
{
    pk_ifaddr *a;
    void *p = l->addrs;
    unsigned max = family == AF_INET ? 32 : 128;
    if (grow(&p, l->naddrs, &l->addrcap, sizeof *a)) return ENOMEM;
    l->addrs = (pk_ifaddr *)p;
    a = &l->addrs[l->naddrs++];
    memset(a, 0, sizeof *a);
    a->ifindex = index;
    a->family = family;
    memcpy(a->addr, addr, family == AF_INET ? 4 : 16);
    a->prefix = prefix > max ? max : prefix;
    return 0;
}

/* qsort order of interfaces: by index. */
static int by_index(const void *x, const void *y)
{
    uint32_t a = ((const pk_iface *)x)->index, b = ((const pk_iface *)y)->index;
    return a < b ? -1 : a > b;
}

/* Puts the interfaces in ascending index order (addresses keep theirs). */
void pk_iflist_sort(pk_iflist *l)
{
    if (l->nifs > 1) qsort(l->ifs, l->nifs, sizeof *l->ifs, by_index);
}

/* How many leading bits a and b (n bytes) share. */
static unsigned common_bits(const unsigned char *a, const unsigned char *b,
                            size_t n)
{
    unsigned bits = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char x = (unsigned char)(a[i] ^ b[i]);
        if (x == 0) { bits += 8; continue; }
        while (!(x & 0x80)) { bits++; x = (unsigned char)(x << 1); }
        break;
    }
    return bits;
}

/* Whether an address is link-local: 169.254.0.0/16 or fe80::/10. */
static int linklocal(int family, const unsigned char *a)
{
    return family == AF_INET ? a[0] == 169 && a[1] == 254
                             : a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* How well address a suits a reply to peer (higher is better): on peer's
 * subnet beats the same scope beats anything else, and on the subnet the
 * longer the shared prefix the better (peer itself is best). */
static unsigned suitability(const pk_ifaddr *a, const unsigned char *peer)
{
    size_t n = a->family == AF_INET ? 4 : 16;
    unsigned shared;
    if (!peer) return 0;
    shared = common_bits(a->addr, peer, n);
    if (shared >= a->prefix) return 2 + shared;
    return linklocal(a->family, a->addr) == linklocal(a->family, peer);
}

/* Chooses an address of family on interface ifindex (0: any interface)
 * for a reply to peer (4 or 16 bytes of family, or NULL): the address
 * whose on-link prefix holds peer, sharing the longest prefix with it (so
 * peer itself when it is an address there), else one of peer's scope
 * (link-local or not), else the first the system lists. Writes it to out
 * and returns 0; ENODEV when no interface has that index, EADDRNOTAVAIL
 * when it has no address of family. */
int pk_iface_pick(const pk_iflist *l, uint32_t ifindex, int family,
                  const unsigned char *peer, unsigned char *out)
{
    const pk_ifaddr *best = NULL;
    unsigned best_score = 0;
    size_t i;
    for (i = 0; i < l->naddrs; i++) {
        const pk_ifaddr *a = &l->addrs[i];
        unsigned score;
        if (a->family != family || (ifindex && a->ifindex != ifindex)) continue;
        score = suitability(a, peer);
        if (!best || score > best_score) { best = a; best_score = score; }
    }
    if (best) {
        memcpy(out, best->addr, family == AF_INET ? 4 : 16);
        return 0;
    }
    if (ifindex == 0) return EADDRNOTAVAIL;
    for (i = 0; i < l->nifs; i++)
        if (l->ifs[i].index == ifindex) return EADDRNOTAVAIL;
    return ENODEV;
}

/* The real pk_ifaddr_fn (pk_cmsg.h) for pk_reply_source: reads the
 * system's interfaces now and picks as pk_iface_pick. ctx is unused. */
int pk_iface_addr(void *ctx, uint32_t ifindex, int family,
                  const unsigned char *peer, unsigned char *out)
{
    pk_iflist l;
    int err;
    (void)ctx;
    if ((err = pk_iface_list(&l))) return err;
    err = pk_iface_pick(&l, ifindex, family, peer, out);
    pk_iface_free(&l);
    return err;
}
