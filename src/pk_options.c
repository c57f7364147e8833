/* The names setoption/getoption and raw() accept, mapped to socket options
 * and protocol numbers. Plain data, shared by every platform. */
#include "pk_sock.h"
#include "pk_gw.h"
#include "pk_offload.h"

#include <string.h>

#ifndef IPV6_RECVPKTINFO
#define IPV6_RECVPKTINFO IPV6_PKTINFO
#endif

#define NONE (-1)

static const pk_option options[] = {
    {"reuseaddr", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_REUSEADDR, NONE, NONE},
#ifdef SO_REUSEPORT
    {"reuseport", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_REUSEPORT, NONE, NONE},
#endif
    {"broadcast", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_BROADCAST, NONE, NONE},
    {"rcvbuf", PK_OPTK_INT, PK_OPTL_SOCKET, SOL_SOCKET, SO_RCVBUF, NONE, NONE},
    {"sndbuf", PK_OPTK_INT, PK_OPTL_SOCKET, SOL_SOCKET, SO_SNDBUF, NONE, NONE},
    {"v6only", PK_OPTK_BOOL, PK_OPTL_IPV6ONLY, NONE, NONE, IPPROTO_IPV6, IPV6_V6ONLY},
    {"ttl", PK_OPTK_INT, PK_OPTL_IP, IPPROTO_IP, IP_TTL, IPPROTO_IPV6, IPV6_UNICAST_HOPS},
#ifdef IPV6_TCLASS
    /* the TOS (IPv4) / traffic class (IPv6) of every datagram sent */
    {"tos", PK_OPTK_INT, PK_OPTL_IP, IPPROTO_IP, IP_TOS, IPPROTO_IPV6, IPV6_TCLASS},
#endif
#ifdef IP_RECVTTL
    {"recvttl", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_RECVTTL, IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
#endif
#ifdef IP_RECVTOS
    {"recvtos", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_RECVTOS, IPPROTO_IPV6, IPV6_RECVTCLASS},
#endif
#ifdef SO_TIMESTAMPNS
    {"timestamp", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_TIMESTAMPNS, NONE, NONE},
#elif defined(SO_TIMESTAMP) && !defined(_WIN32)   /* the BSDs, macOS: microseconds */
    {"timestamp", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_TIMESTAMP, NONE, NONE},
#endif
#ifdef SO_RXQ_OVFL
    {"rxq_ovfl", PK_OPTK_BOOL, PK_OPTL_SOCKET, SOL_SOCKET, SO_RXQ_OVFL, NONE, NONE},
#endif
    /* segmentation offload: the module's own state (pk_offload.c) */
    {"gro", PK_OPTK_BOOL, PK_OPTL_OFFLOAD, NONE, PK_OFFLOAD_GRO, NONE, NONE},
    {"gso", PK_OPTK_BOOL, PK_OPTL_OFFLOAD, NONE, PK_OFFLOAD_GSO, NONE, NONE},
    {"multicast-ttl", PK_OPTK_INT, PK_OPTL_IP, IPPROTO_IP, IP_MULTICAST_TTL, IPPROTO_IPV6, IPV6_MULTICAST_HOPS},
    {"multicast-loop", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_MULTICAST_LOOP, IPPROTO_IPV6, IPV6_MULTICAST_LOOP},
    {"multicast-if", PK_OPTK_IFACE, PK_OPTL_IP, IPPROTO_IP, IP_MULTICAST_IF, IPPROTO_IPV6, IPV6_MULTICAST_IF},
    /* gateways (README, "Gateways"); the Windows forms where Winsock has them */
#ifdef PK_HAVE_GW_LINUX
    {"recverr", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_RECVERR, IPPROTO_IPV6, IPV6_RECVERR},
    {"mtu-discover", PK_OPTK_PMTUD, PK_OPTL_IP, IPPROTO_IP, IP_MTU_DISCOVER, IPPROTO_IPV6, IPV6_MTU_DISCOVER},
    {"mtu", PK_OPTK_RDONLY, PK_OPTL_IP, IPPROTO_IP, IP_MTU, IPPROTO_IPV6, IPV6_MTU},
    {"device", PK_OPTK_DEVICE, PK_OPTL_SOCKET, NONE, NONE, NONE, NONE},
    {"mark", PK_OPTK_U32, PK_OPTL_SOCKET, SOL_SOCKET, SO_MARK, NONE, NONE},
    {"freebind", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_FREEBIND, IPPROTO_IPV6, IPV6_FREEBIND},
    {"transparent", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_TRANSPARENT, IPPROTO_IPV6, IPV6_TRANSPARENT},
    {"recvorigdst", PK_OPTK_BOOL, PK_OPTL_IP, IPPROTO_IP, IP_RECVORIGDSTADDR, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR},
#elif defined(_WIN32)
    {"mtu-discover", PK_OPTK_PMTUD, PK_OPTL_IP, IPPROTO_IP, IP_DONTFRAGMENT, IPPROTO_IPV6, IPV6_DONTFRAG},
    {"device", PK_OPTK_DEVICE, PK_OPTL_SOCKET, NONE, NONE, NONE, NONE},
#endif
    {NULL, 0, 0, 0, 0, 0, 0}
};

/* The option called name, or NULL. */
const pk_option *pk_option_find(const char *name)
{
    const pk_option *o;
    for (o = options; o->name; o++)
        if (strcmp(o->name, name) == 0) return o;
    return NULL;
}

/* The IP protocol number for a name raw() accepts, or -1. */
int pk_protocol_number(const char *name)
{
    static const struct { const char *name; int number; } protocols[] = {
        {"ip", 0}, {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17},
        {"ipv6", 41}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"icmpv6", 58},
        {"ospf", 89}, {"pim", 103}, {"vrrp", 112}, {"sctp", 132},
        {"udplite", 136}, {"raw", 255}, {NULL, 0}
    };
    int i;
    for (i = 0; protocols[i].name; i++)
        if (strcmp(protocols[i].name, name) == 0) return protocols[i].number;
    return -1;
}

/* The system's value of path MTU discovery mode (PK_PMTUD_*), or -1
 * where the platform has no such mode: Linux's IP_PMTUDISC_* (the same
 * numbers at the IPv6 level), Windows' IP_DONTFRAGMENT (on for "do", off
 * for "dont"). */
int pk_pmtud_to_sys(int mode)
{
#if defined(_WIN32)
    return mode == PK_PMTUD_DO ? 1 : mode == PK_PMTUD_DONT ? 0 : -1;
#elif defined(PK_HAVE_GW_LINUX)
    static const int sys[] = {
        IP_PMTUDISC_DONT, IP_PMTUDISC_WANT, IP_PMTUDISC_DO, IP_PMTUDISC_PROBE
    };
    return mode >= PK_PMTUD_DONT && mode <= PK_PMTUD_PROBE ? sys[mode] : -1;
#else
    (void)mode;
    return -1;
#endif
}

/* The mode (PK_PMTUD_*) of a value the system reports, or -1 for one
 * the module has no name for. */
int pk_pmtud_from_sys(int value)
{
    int mode;
    for (mode = PK_PMTUD_DONT; mode <= PK_PMTUD_PROBE; mode++)
        if (pk_pmtud_to_sys(mode) == value) return mode;
    return -1;
}
