/* The host's interfaces and their addresses, without lua_State: the
 * listing behind pktinfo.interfaces() and the address lookup the reply
 * rules use (pk_reply_source's pk_ifaddr_fn). pk_iface_posix.c reads
 * them with getifaddrs, pk_iface_win.c with GetAdaptersAddresses; how a
 * list is built and how an address is chosen from it (pk_iface.c) is the
 * same everywhere. */
#ifndef PK_IFACE_H
#define PK_IFACE_H

#include "pk_platform.h"

/* Longest interface name kept, with its NUL (Linux: 16; Windows names
 * such as "ethernet_32768" are shorter than this too). */
#define PK_IFNAME_MAX 64

/* One interface. */
typedef struct pk_iface {
    uint32_t index;
    char name[PK_IFNAME_MAX];
    int up;                      /* up and running (has carrier) */
} pk_iface;

/* One address of an interface. */
typedef struct pk_ifaddr {
    uint32_t ifindex;            /* the interface that has it */
    int family;                  /* AF_INET or AF_INET6 */
    unsigned char addr[16];      /* 4 bytes used for AF_INET */
    unsigned prefix;             /* on-link prefix length */
} pk_ifaddr;

/* Every interface (by ascending index once pk_iflist_sort ran) and every
 * address, in the order the system gives them (primary first). */
typedef struct pk_iflist {
    pk_iface *ifs;
    size_t nifs, ifcap;
    pk_ifaddr *addrs;
    size_t naddrs, addrcap;
} pk_iflist;

/* Platform files: reads the list into *out (0, or an error number; on
 * error nothing is left to free). */
int pk_iface_list(pk_iflist *out);

/* pk_iface.c */
void pk_iface_free(pk_iflist *l);
int pk_iflist_iface(pk_iflist *l, uint32_t index, const char *name, int up);
int pk_iflist_addr(pk_iflist *l, uint32_t index, int family,
                   const unsigned char *addr, unsigned prefix);
void pk_iflist_sort(pk_iflist *l);
int pk_iface_pick(const pk_iflist *l, uint32_t ifindex, int family,
                  const unsigned char *peer, unsigned char *out);
int pk_iface_addr(void *ctx, uint32_t ifindex, int family,
                  const unsigned char *peer, unsigned char *out);

#endif
