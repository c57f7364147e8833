/* This build's control-message layout, read from its system headers
 * (PK_NATIVE_LAYOUT), and the compile-time proof that the list pk_layout.h
 * gives for this platform says the same thing, field by field. Included
 * by pk_cmsg.c only, after pk_platform.h. */
#ifndef PK_LAYOUT_NATIVE_H
#define PK_LAYOUT_NATIVE_H

#include "pk_platform.h"
#include "pk_layout.h"

#include <stddef.h>
#include <time.h>
#ifndef _WIN32
#include <sys/time.h>
#endif

#define PK_HDR_len_size ((int)(sizeof(struct cmsghdr) - 2 * sizeof(int)))
#ifdef _WIN32           /* WSA_CMSGDATA_ALIGN's (and the header's) alignment */
#define PK_HDR_align ((int)MAX_NATURAL_ALIGNMENT)
#else
#define PK_HDR_align ((int)(CMSG_SPACE(1) - CMSG_SPACE(0)))
#endif
#define PK_HDR_sol_socket SOL_SOCKET

#ifdef IP_PKTINFO
#define PK_HDR_ip_pktinfo IP_PKTINFO
#define PK_HDR_pi_size ((int)sizeof(struct in_pktinfo))
#define PK_HDR_pi_ifindex ((int)offsetof(struct in_pktinfo, ipi_ifindex))
#define PK_HDR_pi_addr ((int)offsetof(struct in_pktinfo, ipi_addr))
#ifdef _WIN32                      /* IN_PKTINFO has no spec_dst */
#define PK_HDR_pi_spec_dst PK_NONE
#else
#define PK_HDR_pi_spec_dst ((int)offsetof(struct in_pktinfo, ipi_spec_dst))
#endif
#else
#define PK_HDR_ip_pktinfo PK_NONE
#define PK_HDR_pi_size 0
#define PK_HDR_pi_ifindex PK_NONE
#define PK_HDR_pi_addr PK_NONE
#define PK_HDR_pi_spec_dst PK_NONE
#endif

/* Windows' IP_RECVIF carries an index, not a sockaddr_dl, and the module
 * turns on neither option there. */
#if defined(IP_RECVDSTADDR) && !defined(_WIN32)
#define PK_HDR_ip_recvdstaddr IP_RECVDSTADDR
#else
#define PK_HDR_ip_recvdstaddr PK_NONE
#endif
#if defined(IP_RECVIF) && !defined(_WIN32)
#define PK_HDR_ip_recvif IP_RECVIF
#else
#define PK_HDR_ip_recvif PK_NONE
#endif

#define PK_HDR_ip_ttl IP_TTL
#if defined(IP_RECVTTL) && IP_RECVTTL != IP_TTL
#define PK_HDR_ip_recvttl IP_RECVTTL
#else
#define PK_HDR_ip_recvttl PK_NONE
#endif
#define PK_HDR_ip_tos IP_TOS
#if defined(IP_RECVTOS) && IP_RECVTOS != IP_TOS
#define PK_HDR_ip_recvtos IP_RECVTOS
#else
#define PK_HDR_ip_recvtos PK_NONE
#endif
#ifdef IP_SENDSRCADDR
#define PK_HDR_ip_sendsrcaddr IP_SENDSRCADDR
#else
#define PK_HDR_ip_sendsrcaddr PK_NONE
#endif

#define PK_HDR_ipv6_pktinfo IPV6_PKTINFO
#define PK_HDR_ipv6_hoplimit IPV6_HOPLIMIT
#ifdef IPV6_TCLASS
#define PK_HDR_ipv6_tclass IPV6_TCLASS
#else
#define PK_HDR_ipv6_tclass PK_NONE
#endif

/* Option recvorigdst exists on Linux only (pk_gw.h). */
#if defined(__linux__) && defined(IP_ORIGDSTADDR) && defined(IPV6_ORIGDSTADDR)
#define PK_HDR_ip_origdstaddr IP_ORIGDSTADDR
#define PK_HDR_ipv6_origdstaddr IPV6_ORIGDSTADDR
#else
#define PK_HDR_ip_origdstaddr PK_NONE
#define PK_HDR_ipv6_origdstaddr PK_NONE
#endif

/* Option gro exists on Linux only (pk_platform.h names UDP_GRO there). */
#if defined(__linux__) && defined(UDP_GRO)
#define PK_HDR_udp_gro UDP_GRO
#else
#define PK_HDR_udp_gro PK_NONE
#endif

#if defined(SCM_TIMESTAMP) && !defined(_WIN32)
#define PK_HDR_scm_timestamp SCM_TIMESTAMP
#define PK_HDR_tv_size ((int)sizeof(struct timeval))
#define PK_HDR_tv_sec_size ((int)sizeof(((struct timeval *)0)->tv_sec))
#define PK_HDR_tv_usec_off ((int)offsetof(struct timeval, tv_usec))
#define PK_HDR_tv_usec_size ((int)sizeof(((struct timeval *)0)->tv_usec))
#else
#define PK_HDR_scm_timestamp PK_NONE
#define PK_HDR_tv_size 0
#define PK_HDR_tv_sec_size 0
#define PK_HDR_tv_usec_off 0
#define PK_HDR_tv_usec_size 0
#endif
#ifdef SCM_TIMESTAMPNS
#define PK_HDR_scm_timestampns SCM_TIMESTAMPNS
#define PK_HDR_ts_size ((int)sizeof(struct timespec))
#define PK_HDR_ts_sec_size ((int)sizeof(((struct timespec *)0)->tv_sec))
#define PK_HDR_ts_nsec_off ((int)offsetof(struct timespec, tv_nsec))
#define PK_HDR_ts_nsec_size ((int)sizeof(((struct timespec *)0)->tv_nsec))
#else
#define PK_HDR_scm_timestampns PK_NONE
#define PK_HDR_ts_size 0
#define PK_HDR_ts_sec_size 0
#define PK_HDR_ts_nsec_off 0
#define PK_HDR_ts_nsec_size 0
#endif
#ifdef SO_RXQ_OVFL
#define PK_HDR_so_rxq_ovfl SO_RXQ_OVFL
#else
#define PK_HDR_so_rxq_ovfl PK_NONE
#endif

/* What the kernels do, from their sources. Only Linux fills a received
 * ipi_spec_dst (ip_cmsg_recv_pktinfo); XNU zeroes it (ip_savecontrol). */
#ifdef __linux__
#define PK_HDR_rx_spec_dst 1
#else
#define PK_HDR_rx_spec_dst 0
#endif
/* The IPv4 source: ipi_spec_dst on Linux (ip_cmsg_send) and macOS
 * (udp_check_pktinfo), ipi_addr on Windows and NetBSD
 * (ip_pktinfo_prepare), IP_SENDSRCADDR on FreeBSD and OpenBSD. */
#if defined(PK_USE_SENDSRCADDR)
#define PK_HDR_tx_src4 PK_TX4_SENDSRCADDR
#elif !defined(IP_PKTINFO)
#define PK_HDR_tx_src4 PK_TX4_NOTHING
#elif defined(_WIN32) || defined(__NetBSD__)
#define PK_HDR_tx_src4 PK_TX4_ADDR
#else
#define PK_HDR_tx_src4 PK_TX4_SPEC_DST
#endif
/* One datagram's IPv4 TTL and TOS: Linux (ip_cmsg_send) and Windows take
 * IP_TTL and IP_TOS as ints; FreeBSD (udp_output) IP_TOS as one byte;
 * XNU's udp_output skips both, NetBSD and OpenBSD refuse them. */
#if defined(__linux__) || defined(_WIN32)
#define PK_HDR_tx_ttl4 IP_TTL
#define PK_HDR_tx_tos4 IP_TOS
#define PK_HDR_tx_tos4_size 4
#elif defined(__FreeBSD__)
#define PK_HDR_tx_ttl4 PK_NONE
#define PK_HDR_tx_tos4 IP_TOS
#define PK_HDR_tx_tos4_size 1
#else
#define PK_HDR_tx_ttl4 PK_NONE
#define PK_HDR_tx_tos4 PK_NONE
#define PK_HDR_tx_tos4_size 0
#endif

#define PK_NATIVE_FIELD_(f) .f = PK_HDR_##f,
#define PK_NATIVE_LAYOUT { .name = "native", PK_LAYOUT_FIELDS(PK_NATIVE_FIELD_) }

/* Compile-time checks (C99: an array of negative size is an error). */
#define PK_LAYOUT_ASSERT_(tag, cond) typedef char pk_layout_check_##tag[(cond) ? 1 : -1];
#define PK_LAYOUT_CHECK_(f, v) PK_LAYOUT_ASSERT_(f, PK_HDR_##f == (v))

/* What the walker in pk_cmsg.c assumes of every platform: cmsg_level and
 * cmsg_type are ints after cmsg_len, data starts at CMSG_LEN(0), the
 * header is padded to the alignment, and in6_pktinfo is 20 bytes. */
PK_LAYOUT_ASSERT_(level_offset,
    offsetof(struct cmsghdr, cmsg_level) == (size_t)PK_HDR_len_size)
PK_LAYOUT_ASSERT_(type_offset,
    offsetof(struct cmsghdr, cmsg_type) == (size_t)PK_HDR_len_size + sizeof(int))
PK_LAYOUT_ASSERT_(data_offset, CMSG_LEN(0) ==
    ((size_t)PK_HDR_len_size + 2 * sizeof(int) + (size_t)PK_HDR_align - 1)
    / (size_t)PK_HDR_align * (size_t)PK_HDR_align)
#ifndef _WIN32
PK_LAYOUT_ASSERT_(space, CMSG_SPACE(1) == CMSG_LEN(0) + (size_t)PK_HDR_align)
#endif
PK_LAYOUT_ASSERT_(in6_pktinfo, sizeof(struct in6_pktinfo) == 20)

/* This platform's list in pk_layout.h, if it has one, equals the above. */
#if defined(__APPLE__) && (defined(__x86_64__) || defined(__aarch64__))
PK_LAYOUT_DARWIN(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(__FreeBSD__) && (defined(__x86_64__) || defined(__aarch64__))
PK_LAYOUT_FREEBSD(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(__NetBSD__) && defined(__x86_64__)
PK_LAYOUT_NETBSD(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(__OpenBSD__) && defined(__x86_64__)
PK_LAYOUT_OPENBSD(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__)) && defined(__LP64__)
PK_LAYOUT_LINUX64(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(__linux__) && defined(__i386__)
PK_LAYOUT_LINUX32(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#elif defined(_WIN64) && (defined(__x86_64__) || defined(_M_X64))
PK_LAYOUT_WIN64(PK_LAYOUT_CHECK_, PK_LAYOUT_CHECK_)
#endif

#endif
