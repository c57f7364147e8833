/* Platform includes and the few types that differ between POSIX and Winsock.
 * Every plain-C file includes this instead of the system socket headers. */
#ifndef PK_PLATFORM_H
#define PK_PLATFORM_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <iphlpapi.h>
typedef SOCKET pk_socket_t;
#define PK_NO_SOCKET INVALID_SOCKET
#else
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <errno.h>
typedef int pk_socket_t;
#define PK_NO_SOCKET (-1)
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
