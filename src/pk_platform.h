/* Platform includes and the few types that differ between POSIX and Winsock.
 * Every plain-C file includes this instead of the system socket headers,
 * and before any other header (lbinding.h includes it before lua.h). */
#ifndef PK_PLATFORM_H
#define PK_PLATFORM_H

/* macOS exposes the RFC 3542 IPv6 API (IPV6_RECVPKTINFO, IPV6_PKTINFO as
 * in6_pktinfo, IPV6_RECVHOPLIMIT) only when this is defined before the
 * first system header; without it IPV6_PKTINFO is RFC 2292's number. */
#if defined(__APPLE__) && !defined(__APPLE_USE_RFC_3542)
#define __APPLE_USE_RFC_3542 1
#endif

#ifdef _WIN32
/* Vista or later: WSAPoll, WSASendMsg, inet_pton, if_nametoindex. */
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0600
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN      /* no wincrypt.h, whose CMSG_DATA clashes */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <iphlpapi.h>
#include <errno.h>
typedef SOCKET pk_socket_t;
#define PK_NO_SOCKET INVALID_SOCKET
typedef ADDRESS_FAMILY sa_family_t;
/* The POSIX control-message names over Winsock's (WSACMSGHDR has the
 * same fields; pk_cmsg.c walks a WSAMSG where POSIX has a msghdr). The
 * Windows SDK names its struct cmsghdr already; mingw-w64 does not. */
#ifndef _WSACMSGHDR
#define cmsghdr _WSACMSGHDR
#endif
#ifndef CMSG_FIRSTHDR
#define CMSG_FIRSTHDR(m) WSA_CMSG_FIRSTHDR(m)
#define CMSG_NXTHDR(m, c) WSA_CMSG_NXTHDR(m, c)
#define CMSG_SPACE(n) WSA_CMSG_SPACE(n)
#define CMSG_LEN(n) WSA_CMSG_LEN(n)
#endif
#undef CMSG_DATA                 /* wincrypt.h's, where it was included */
#define CMSG_DATA(c) WSA_CMSG_DATA(c)
/* Windows names the IPv6 hop-limit receive option IPV6_HOPLIMIT. */
#ifndef IPV6_RECVHOPLIMIT
#define IPV6_RECVHOPLIMIT IPV6_HOPLIMIT
#endif
/* errno names the CRT lacks, for the WSAE* codes that have no other home
 * (numbers past the CRT's own, which end at 140). */
#ifndef EHOSTDOWN
#define EHOSTDOWN 1001
#endif
#ifndef ESOCKTNOSUPPORT
#define ESOCKTNOSUPPORT 1002
#endif
#else
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
/* UDP segmentation offload (Linux 4.18 and 5.0): names older C libraries
 * lack. Where the kernel lacks it the module works without (pk_offload.c). */
#if defined(__linux__) && !defined(UDP_SEGMENT)
#define UDP_SEGMENT 103
#endif
#if defined(__linux__) && !defined(UDP_GRO)
#define UDP_GRO 104
#endif
typedef int pk_socket_t;
#define PK_NO_SOCKET (-1)
#if defined(__APPLE__) && !defined(IPV6_RECVPKTINFO)
#error "<netinet/in.h> was included before pk_platform.h: RFC 3542 names missing"
#endif
/* No SIGPIPE from a send (a wrapped stream socket whose peer is gone):
 * per call where the system has MSG_NOSIGNAL; sockets the module opens
 * also get SO_NOSIGPIPE where that exists (macOS, the BSDs). */
#ifdef MSG_NOSIGNAL
#define PK_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define PK_MSG_NOSIGNAL 0
#endif
/* FreeBSD and OpenBSD have no IP_PKTINFO: the destination comes from
 * IP_RECVDSTADDR and IP_RECVIF, and a source is sent with IP_SENDSRCADDR. */
#if !defined(IP_PKTINFO) && defined(IP_RECVDSTADDR) && defined(IP_SENDSRCADDR)
#define PK_USE_SENDSRCADDR 1
#ifndef PK_NO_MMSG
#define PK_NO_MMSG 1    /* sendmmsg would bypass pk_sock_send's source fix-up */
#endif
#endif
#endif

#include <stddef.h>
#include <stdint.h>

/* One socket address of either family, big enough for both. */
typedef union pk_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr_storage ss;
} pk_sockaddr;

/* Length of the sockaddr for its family. */
static inline socklen_t pk_sockaddr_len(const pk_sockaddr *a)
{
    return a->sa.sa_family == AF_INET6 ? (socklen_t)sizeof a->v6
                                       : (socklen_t)sizeof a->v4;
}

#endif
