/* How one platform lays out and numbers its control messages: what the
 * decoder and encoder in pk_cmsg.c read and write. No system header is
 * needed here: a layout is plain numbers.
 *
 * pk_cmsg.c builds this build's own layout from the system headers
 * (pk_layout_native.h). The PK_LAYOUT_<platform> lists below describe the
 * platforms the README names, so that the C tests (spec/c/) can feed each
 * one's bytes to the same decoder and check the bytes the same encoder
 * writes for it, on any machine. A build on one of those platforms checks
 * at compile time that its list equals, field by field, what its headers
 * say: a wrong number here fails that build. */
#ifndef PK_LAYOUT_H
#define PK_LAYOUT_H

#define PK_NONE (-1)               /* the platform has no such message */

/* How the kernel takes the IPv4 source of one datagram (tx_src4). */
enum {
    PK_TX4_NOTHING = 0,            /* it cannot be given */
    PK_TX4_SPEC_DST,               /* IP_PKTINFO, in ipi_spec_dst */
    PK_TX4_ADDR,                   /* IP_PKTINFO, in ipi_addr */
    PK_TX4_SENDSRCADDR             /* IP_SENDSRCADDR, a struct in_addr */
};

/* Every field of a layout, with what it means. struct cmsghdr is
 * {cmsg_len; int cmsg_level; int cmsg_type} on every platform; only the
 * width of cmsg_len and the alignment differ. Message types are PK_NONE
 * where the platform has none. The last five fields are what the kernel
 * does, which no header says; pk_layout_native.h cites the source. */
#define PK_LAYOUT_FIELDS(F) \
    F(len_size)        /* bytes of cmsg_len: 8 (size_t) or 4 (socklen_t) */ \
    F(align)           /* CMSG_ALIGN boundary */ \
    F(sol_socket)      /* SOL_SOCKET */ \
    F(ip_pktinfo)      /* struct in_pktinfo message (IP_PKTINFO) */ \
    F(pi_size)         /* sizeof(struct in_pktinfo), 0 where none */ \
    F(pi_ifindex)      /* offsetof ipi_ifindex (32 bits) */ \
    F(pi_addr)         /* offsetof ipi_addr */ \
    F(pi_spec_dst)     /* offsetof ipi_spec_dst */ \
    F(ip_recvdstaddr)  /* struct in_addr: the destination */ \
    F(ip_recvif)       /* struct sockaddr_dl: sdl_index, 16 bits at 2 */ \
    F(ip_ttl)          /* TTL, an int or one byte (IP_TTL) */ \
    F(ip_recvttl)      /* TTL, the other name (IP_RECVTTL) */ \
    F(ip_tos)          /* TOS, an int or one byte (IP_TOS) */ \
    F(ip_recvtos)      /* TOS, the other name (IP_RECVTOS) */ \
    F(ip_sendsrcaddr)  /* IP_SENDSRCADDR */ \
    F(ipv6_pktinfo)    /* struct in6_pktinfo: address, 32-bit ifindex */ \
    F(ipv6_hoplimit)   /* an int */ \
    F(ipv6_tclass)     /* an int */ \
    F(ip_origdstaddr)  /* sockaddr_in: the destination before TPROXY */ \
    F(ipv6_origdstaddr) /* sockaddr_in6: the same; both PK_NONE where the \
                          module has no option recvorigdst (all but Linux) */ \
    F(udp_gro)         /* IPPROTO_UDP: segment size (an int) of a buffer the \
                          kernel coalesced; PK_NONE where no option gro */ \
    F(scm_timestamp)   /* struct timeval */ \
    F(tv_size)         /* sizeof(struct timeval) */ \
    F(tv_sec_size)     /* sizeof tv_sec (at offset 0) */ \
    F(tv_usec_off)     /* offsetof tv_usec */ \
    F(tv_usec_size)    /* sizeof tv_usec */ \
    F(scm_timestampns) /* struct timespec */ \
    F(ts_size)         /* sizeof(struct timespec) */ \
    F(ts_sec_size)     /* sizeof tv_sec (at offset 0) */ \
    F(ts_nsec_off)     /* offsetof tv_nsec */ \
    F(ts_nsec_size)    /* sizeof tv_nsec */ \
    F(so_rxq_ovfl)     /* 32-bit drop counter (SO_RXQ_OVFL) */ \
    F(rx_spec_dst)     /* 1: a received ipi_spec_dst holds an address */ \
    F(tx_src4)         /* PK_TX4_*: how an IPv4 source is sent */ \
    F(tx_ttl4)         /* message for one datagram's IPv4 TTL */ \
    F(tx_tos4)         /* message for one datagram's IPv4 TOS */ \
    F(tx_tos4_size)    /* its size: 4 (int) or 1 (u_char) */

#define PK_LAYOUT_DECLARE_(f) int f;
typedef struct pk_layout {
    const char *name;
    PK_LAYOUT_FIELDS(PK_LAYOUT_DECLARE_)
} pk_layout;

/* A pk_layout initializer from one of the lists below:
 *   static const pk_layout darwin = PK_LAYOUT_INIT("darwin", PK_LAYOUT_DARWIN); */
#define PK_LAYOUT_FIELD_(f, v) .f = (v),
#define PK_LAYOUT_INIT(name_, list) \
    { .name = (name_), list(PK_LAYOUT_FIELD_, PK_LAYOUT_FIELD_) }

/* The lists: H(field, value) for what the platform's headers define,
 * K(field, value) for what its kernel does. */

/* Linux on x86_64 and aarch64, glibc or musl (asm-generic numbers). The
 * kernel writes a size_t cmsg_len (musl declares a socklen_t and padding,
 * the same 8 bytes). Sends: ip_cmsg_send takes IP_PKTINFO (the source in
 * ipi_spec_dst), IP_TTL and IP_TOS. */
#define PK_LAYOUT_LINUX64(H, K) \
    H(len_size, 8) H(align, 8) H(sol_socket, 1) \
    H(ip_pktinfo, 8) H(pi_size, 12) H(pi_ifindex, 0) H(pi_addr, 8) \
    H(pi_spec_dst, 4) H(ip_recvdstaddr, PK_NONE) H(ip_recvif, PK_NONE) \
    H(ip_ttl, 2) H(ip_recvttl, 12) H(ip_tos, 1) H(ip_recvtos, 13) \
    H(ip_sendsrcaddr, PK_NONE) \
    H(ipv6_pktinfo, 50) H(ipv6_hoplimit, 52) H(ipv6_tclass, 67) \
    H(ip_origdstaddr, 20) H(ipv6_origdstaddr, 74) H(udp_gro, 104) \
    H(scm_timestamp, 29) H(tv_size, 16) H(tv_sec_size, 8) \
    H(tv_usec_off, 8) H(tv_usec_size, 8) \
    H(scm_timestampns, 35) H(ts_size, 16) H(ts_sec_size, 8) \
    H(ts_nsec_off, 8) H(ts_nsec_size, 8) H(so_rxq_ovfl, 40) \
    K(rx_spec_dst, 1) K(tx_src4, PK_TX4_SPEC_DST) K(tx_ttl4, 2) \
    K(tx_tos4, 1) K(tx_tos4_size, 4)

/* Linux on i386 (glibc, 32-bit time_t): 4-byte cmsg_len, 4-byte alignment. */
#define PK_LAYOUT_LINUX32(H, K) \
    H(len_size, 4) H(align, 4) H(sol_socket, 1) \
    H(ip_pktinfo, 8) H(pi_size, 12) H(pi_ifindex, 0) H(pi_addr, 8) \
    H(pi_spec_dst, 4) H(ip_recvdstaddr, PK_NONE) H(ip_recvif, PK_NONE) \
    H(ip_ttl, 2) H(ip_recvttl, 12) H(ip_tos, 1) H(ip_recvtos, 13) \
    H(ip_sendsrcaddr, PK_NONE) \
    H(ipv6_pktinfo, 50) H(ipv6_hoplimit, 52) H(ipv6_tclass, 67) \
    H(ip_origdstaddr, 20) H(ipv6_origdstaddr, 74) H(udp_gro, 104) \
    H(scm_timestamp, 29) H(tv_size, 8) H(tv_sec_size, 4) \
    H(tv_usec_off, 4) H(tv_usec_size, 4) \
    H(scm_timestampns, 35) H(ts_size, 8) H(ts_sec_size, 4) \
    H(ts_nsec_off, 4) H(ts_nsec_size, 4) H(so_rxq_ovfl, 40) \
    K(rx_spec_dst, 1) K(tx_src4, PK_TX4_SPEC_DST) K(tx_ttl4, 2) \
    K(tx_tos4, 1) K(tx_tos4_size, 4)

/* macOS 11-13 on x86_64 and arm64 (with __APPLE_USE_RFC_3542): a 4-byte
 * cmsg_len and 4-byte alignment (__DARWIN_ALIGN32); IP_RECVTTL and
 * IP_RECVTOS are one byte; timeval's tv_usec is 32 bits. XNU's
 * ip_savecontrol zeroes a received ipi_spec_dst; udp_check_pktinfo takes a
 * source from ipi_spec_dst (an ipi_ifindex takes precedence over it);
 * udp_output takes no per-datagram TTL or TOS (it skips those messages). */
#define PK_LAYOUT_DARWIN(H, K) \
    H(len_size, 4) H(align, 4) H(sol_socket, 0xffff) \
    H(ip_pktinfo, 26) H(pi_size, 12) H(pi_ifindex, 0) H(pi_addr, 8) \
    H(pi_spec_dst, 4) H(ip_recvdstaddr, 7) H(ip_recvif, 20) \
    H(ip_ttl, 4) H(ip_recvttl, 24) H(ip_tos, 3) H(ip_recvtos, 27) \
    H(ip_sendsrcaddr, PK_NONE) \
    H(ipv6_pktinfo, 46) H(ipv6_hoplimit, 47) H(ipv6_tclass, 36) \
    H(ip_origdstaddr, PK_NONE) H(ipv6_origdstaddr, PK_NONE) H(udp_gro, PK_NONE) \
    H(scm_timestamp, 2) H(tv_size, 16) H(tv_sec_size, 8) \
    H(tv_usec_off, 8) H(tv_usec_size, 4) \
    H(scm_timestampns, PK_NONE) H(ts_size, 0) H(ts_sec_size, 0) \
    H(ts_nsec_off, 0) H(ts_nsec_size, 0) H(so_rxq_ovfl, PK_NONE) \
    K(rx_spec_dst, 0) K(tx_src4, PK_TX4_SPEC_DST) K(tx_ttl4, PK_NONE) \
    K(tx_tos4, PK_NONE) K(tx_tos4_size, 0)

/* FreeBSD 13-14 on amd64 and arm64: no IP_PKTINFO; 4-byte cmsg_len,
 * 8-byte alignment (_ALIGN), so data starts at 16. udp_output takes
 * IP_SENDSRCADDR (only on a socket bound to the wildcard address) and
 * IP_TOS as one byte; any other IPPROTO_IP message is ENOPROTOOPT. */
#define PK_LAYOUT_FREEBSD(H, K) \
    H(len_size, 4) H(align, 8) H(sol_socket, 0xffff) \
    H(ip_pktinfo, PK_NONE) H(pi_size, 0) H(pi_ifindex, PK_NONE) \
    H(pi_addr, PK_NONE) H(pi_spec_dst, PK_NONE) H(ip_recvdstaddr, 7) \
    H(ip_recvif, 20) H(ip_ttl, 4) H(ip_recvttl, 65) H(ip_tos, 3) \
    H(ip_recvtos, 68) H(ip_sendsrcaddr, 7) \
    H(ipv6_pktinfo, 46) H(ipv6_hoplimit, 47) H(ipv6_tclass, 61) \
    H(ip_origdstaddr, PK_NONE) H(ipv6_origdstaddr, PK_NONE) H(udp_gro, PK_NONE) \
    H(scm_timestamp, 2) H(tv_size, 16) H(tv_sec_size, 8) \
    H(tv_usec_off, 8) H(tv_usec_size, 8) \
    H(scm_timestampns, PK_NONE) H(ts_size, 0) H(ts_sec_size, 0) \
    H(ts_nsec_off, 0) H(ts_nsec_size, 0) H(so_rxq_ovfl, PK_NONE) \
    K(rx_spec_dst, 0) K(tx_src4, PK_TX4_SENDSRCADDR) K(tx_ttl4, PK_NONE) \
    K(tx_tos4, 3) K(tx_tos4_size, 1)

/* NetBSD 9-10 on amd64: in_pktinfo is {ipi_addr; ipi_ifindex} (8 bytes,
 * ipi_spec_dst is #defined to ipi_addr), turned on by IP_RECVPKTINFO and
 * delivered as IP_PKTINFO; SCM_TIMESTAMP is 8. ip_setpktopts takes
 * IP_PKTINFO (the source in ipi_addr) and IP_SENDSRCADDR, nothing else. */
#define PK_LAYOUT_NETBSD(H, K) \
    H(len_size, 4) H(align, 8) H(sol_socket, 0xffff) \
    H(ip_pktinfo, 25) H(pi_size, 8) H(pi_ifindex, 4) H(pi_addr, 0) \
    H(pi_spec_dst, 0) H(ip_recvdstaddr, 7) H(ip_recvif, 20) \
    H(ip_ttl, 4) H(ip_recvttl, 23) H(ip_tos, 3) H(ip_recvtos, PK_NONE) \
    H(ip_sendsrcaddr, 7) \
    H(ipv6_pktinfo, 46) H(ipv6_hoplimit, 47) H(ipv6_tclass, 61) \
    H(ip_origdstaddr, PK_NONE) H(ipv6_origdstaddr, PK_NONE) H(udp_gro, PK_NONE) \
    H(scm_timestamp, 8) H(tv_size, 16) H(tv_sec_size, 8) \
    H(tv_usec_off, 8) H(tv_usec_size, 4) \
    H(scm_timestampns, PK_NONE) H(ts_size, 0) H(ts_sec_size, 0) \
    H(ts_nsec_off, 0) H(ts_nsec_size, 0) H(so_rxq_ovfl, PK_NONE) \
    K(rx_spec_dst, 0) K(tx_src4, PK_TX4_ADDR) K(tx_ttl4, PK_NONE) \
    K(tx_tos4, PK_NONE) K(tx_tos4_size, 0)

/* OpenBSD 7 on amd64: no IP_PKTINFO, no IP_RECVTOS; IP_RECVIF is 30,
 * SCM_TIMESTAMP 4. udp_output takes IP_SENDSRCADDR only. */
#define PK_LAYOUT_OPENBSD(H, K) \
    H(len_size, 4) H(align, 8) H(sol_socket, 0xffff) \
    H(ip_pktinfo, PK_NONE) H(pi_size, 0) H(pi_ifindex, PK_NONE) \
    H(pi_addr, PK_NONE) H(pi_spec_dst, PK_NONE) H(ip_recvdstaddr, 7) \
    H(ip_recvif, 30) H(ip_ttl, 4) H(ip_recvttl, 31) H(ip_tos, 3) \
    H(ip_recvtos, PK_NONE) H(ip_sendsrcaddr, 7) \
    H(ipv6_pktinfo, 46) H(ipv6_hoplimit, 47) H(ipv6_tclass, 61) \
    H(ip_origdstaddr, PK_NONE) H(ipv6_origdstaddr, PK_NONE) H(udp_gro, PK_NONE) \
    H(scm_timestamp, 4) H(tv_size, 16) H(tv_sec_size, 8) \
    H(tv_usec_off, 8) H(tv_usec_size, 8) \
    H(scm_timestampns, PK_NONE) H(ts_size, 0) H(ts_sec_size, 0) \
    H(ts_nsec_off, 0) H(ts_nsec_size, 0) H(so_rxq_ovfl, PK_NONE) \
    K(rx_spec_dst, 0) K(tx_src4, PK_TX4_SENDSRCADDR) K(tx_ttl4, PK_NONE) \
    K(tx_tos4, PK_NONE) K(tx_tos4_size, 0)

/* Windows x64 (WSACMSGHDR: a SIZE_T length; IN_PKTINFO {ipi_addr;
 * ipi_ifindex}, the source in ipi_addr; IP_RECVTTL is IP_HOPLIMIT, 21).
 * The module turns on only IP_PKTINFO there: IP_RECVDSTADDR and IP_RECVIF
 * (which carries an index, not a sockaddr_dl) are left out. */
#define PK_LAYOUT_WIN64(H, K) \
    H(len_size, 8) H(align, 8) H(sol_socket, 0xffff) \
    H(ip_pktinfo, 19) H(pi_size, 8) H(pi_ifindex, 4) H(pi_addr, 0) \
    H(pi_spec_dst, PK_NONE) H(ip_recvdstaddr, PK_NONE) H(ip_recvif, PK_NONE) \
    H(ip_ttl, 4) H(ip_recvttl, 21) H(ip_tos, 3) H(ip_recvtos, 40) \
    H(ip_sendsrcaddr, PK_NONE) \
    H(ipv6_pktinfo, 19) H(ipv6_hoplimit, 21) H(ipv6_tclass, 39) \
    H(ip_origdstaddr, PK_NONE) H(ipv6_origdstaddr, PK_NONE) H(udp_gro, PK_NONE) \
    H(scm_timestamp, PK_NONE) H(tv_size, 0) H(tv_sec_size, 0) \
    H(tv_usec_off, 0) H(tv_usec_size, 0) \
    H(scm_timestampns, PK_NONE) H(ts_size, 0) H(ts_sec_size, 0) \
    H(ts_nsec_off, 0) H(ts_nsec_size, 0) H(so_rxq_ovfl, PK_NONE) \
    K(rx_spec_dst, 0) K(tx_src4, PK_TX4_ADDR) K(tx_ttl4, 4) \
    K(tx_tos4, 3) K(tx_tos4_size, 4)

#endif
