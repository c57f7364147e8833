/* The host's interfaces on Windows, from GetAdaptersAddresses: every
 * adapter with its index, its name as if_indextoname gives it (the name
 * pktinfo.ifname and pktinfo.ifindex use), whether it is up, and its IPv4
 * and IPv6 unicast addresses with their on-link prefix lengths. No
 * lua_State here. */
#include "pk_iface.h"

#include <stdlib.h>
#include <string.h>

/* An errno number for what GetAdaptersAddresses returned. */
static int map_gaa(ULONG rc)
{
    switch (rc) {
    case ERROR_NOT_ENOUGH_MEMORY: return ENOMEM;
    case ERROR_INVALID_PARAMETER: return EINVAL;
    case ERROR_ACCESS_DENIED: return EACCES;
    default: return EIO;
    }
}

/* The adapter list in a malloc'd buffer (*out), 0 or an error number. */
static int read_adapters(IP_ADAPTER_ADDRESSES **out)
{
    ULONG size = 16384, rc = ERROR_BUFFER_OVERFLOW;
    ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST
                  | GAA_FLAG_SKIP_DNS_SERVER | GAA_FLAG_SKIP_FRIENDLY_NAME;
    int tries;
    *out = NULL;
    for (tries = 0; tries < 4 && rc == ERROR_BUFFER_OVERFLOW; tries++) {
        free(*out);
        *out = (IP_ADAPTER_ADDRESSES *)malloc(size);
        if (!*out) return ENOMEM;
        rc = GetAdaptersAddresses(AF_UNSPEC, flags, NULL, *out, &size);
    }
    if (rc == NO_ERROR) return 0;
    free(*out);
    *out = NULL;
    if (rc == ERROR_NO_DATA) return 0;    /* no adapters at all */
    return map_gaa(rc);
}

/* Adds one adapter and its unicast addresses. 0 or ENOMEM. */
static int add_adapter(pk_iflist *l, const IP_ADAPTER_ADDRESSES *ad)
{
    const IP_ADAPTER_UNICAST_ADDRESS *u;
    char name[IF_NAMESIZE > PK_IFNAME_MAX ? IF_NAMESIZE : PK_IFNAME_MAX];
    uint32_t index = ad->IfIndex ? ad->IfIndex : ad->Ipv6IfIndex;
    int err;
    if (index == 0) return 0;
    if (!if_indextoname(index, name)) name[0] = '\0';
    if ((err = pk_iflist_iface(l, index, name[0] ? name : NULL,
                               ad->OperStatus == IfOperStatusUp)))
        return err;
    for (u = ad->FirstUnicastAddress; u; u = u->Next) {
        const struct sockaddr *a = u->Address.lpSockaddr;
        if (!a) continue;
        if (a->sa_family == AF_INET)
            err = pk_iflist_addr(l, index, AF_INET,
                (const unsigned char *)&((const struct sockaddr_in *)(const void *)a)->sin_addr,
                u->OnLinkPrefixLength);
        else if (a->sa_family == AF_INET6)
            err = pk_iflist_addr(l, index, AF_INET6,
                ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr,
                u->OnLinkPrefixLength);
        if (err) return err;
    }
    return 0;
}

/* Reads every adapter and address into *out, interfaces by index. 0, or
 * an error number; nothing to free then. */
int pk_iface_list(pk_iflist *out)
{
    IP_ADAPTER_ADDRESSES *all, *ad;
    int err;
    memset(out, 0, sizeof *out);
    if ((err = read_adapters(&all))) return err;
    for (ad = all; ad && !err; ad = ad->Next) err = add_adapter(out, ad);
    free(all);
    if (err) { pk_iface_free(out); return err; }
    pk_iflist_sort(out);
    return 0;
}
