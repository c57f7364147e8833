/* The host's interfaces on POSIX systems, from getifaddrs: every
 * interface (also those without an address: Linux lists them as AF_PACKET
 * entries), its flags and its IPv4 and IPv6 addresses with their prefix
 * lengths. No lua_State here. */
#include "pk_iface.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>
#ifdef __linux__
#include <netpacket/packet.h>    /* glibc and musl; linux/ headers are a
                                  * separate package on Alpine */
#endif

/* The index of the interface an entry belongs to, 0 if it is gone: from
 * Linux's AF_PACKET entry itself, else by name (an IPv4 address with a
 * label, "eth0:1", names its interface before the colon), from the
 * interfaces listed so far (Linux lists every AF_PACKET entry first), else
 * asking the system. */
static uint32_t entry_index(const pk_iflist *l, const struct ifaddrs *e)
{
    char name[IF_NAMESIZE];
    const char *colon;
    size_t i, n;
#ifdef __linux__
    if (e->ifa_addr && e->ifa_addr->sa_family == AF_PACKET)
        return (uint32_t)((const struct sockaddr_ll *)(const void *)e->ifa_addr)->sll_ifindex;
#endif
    colon = strchr(e->ifa_name, ':');
    n = colon ? (size_t)(colon - e->ifa_name) : strlen(e->ifa_name);
    if (n >= sizeof name) return 0;
    memcpy(name, e->ifa_name, n);
    name[n] = '\0';
    for (i = 0; i < l->nifs; i++)
        if (strcmp(l->ifs[i].name, name) == 0) return l->ifs[i].index;
    return if_nametoindex(name);
}

/* The number of leading one bits of a netmask (n bytes); 0 without one. */
static unsigned mask_bits(const unsigned char *m, size_t n)
{
    unsigned bits = 0;
    size_t i;
    if (!m) return 0;
    for (i = 0; i < n && m[i] == 0xff; i++) bits += 8;
    if (i < n) {
        unsigned char b = m[i];
        while (b & 0x80) { bits++; b = (unsigned char)(b << 1); }
    }
    return bits;
}

/* Adds one getifaddrs entry: its interface, and its address when it is an
 * IPv4 or IPv6 one. 0 or ENOMEM. */
static int add_entry(pk_iflist *l, const struct ifaddrs *e)
{
    uint32_t index = entry_index(l, e);
    const struct sockaddr *a = e->ifa_addr, *m = e->ifa_netmask;
    int err, up = (e->ifa_flags & IFF_UP) && (e->ifa_flags & IFF_RUNNING);
    /* an address label is no interface name */
    int labelled = strchr(e->ifa_name, ':') != NULL;
    if (index == 0) return 0;              /* went away meanwhile */
    if ((err = pk_iflist_iface(l, index, labelled ? NULL : e->ifa_name, up)))
        return err;
    if (!a) return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)a;
        const unsigned char *mask = m && m->sa_family == AF_INET
            ? (const unsigned char *)&((const struct sockaddr_in *)(const void *)m)->sin_addr : NULL;
        return pk_iflist_addr(l, index, AF_INET, (const unsigned char *)&v4->sin_addr,
                              mask_bits(mask, 4));
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)a;
        const unsigned char *mask = m && m->sa_family == AF_INET6
            ? ((const struct sockaddr_in6 *)(const void *)m)->sin6_addr.s6_addr : NULL;
        return pk_iflist_addr(l, index, AF_INET6, v6->sin6_addr.s6_addr,
                              mask_bits(mask, 16));
    }
    return 0;
}

/* Reads every interface and address into *out, interfaces by index.
 * 0, or the error getifaddrs gave (or ENOMEM); nothing to free then. */
int pk_iface_list(pk_iflist *out)
{
    struct ifaddrs *all, *e;
    size_t i;
    int err = 0;
    memset(out, 0, sizeof *out);
    if (getifaddrs(&all)) return errno ? errno : ENOMEM;
    for (e = all; e && !err; e = e->ifa_next) err = add_entry(out, e);
    freeifaddrs(all);
    /* a labelled address seen before its interface's own entry, where the
     * system has no AF_PACKET entries: name it from the index */
    for (i = 0; i < out->nifs && !err; i++)
        if (out->ifs[i].name[0] == '\0') {
            char name[IF_NAMESIZE];
            if (if_indextoname(out->ifs[i].index, name))
                pk_iflist_iface(out, out->ifs[i].index, name, 0);
        }
    if (err) { pk_iface_free(out); return err; }
    pk_iflist_sort(out);
    return 0;
}
