/* Error numbers to portable symbolic names ("EADDRINUSE") and text. */
#include "pk_sock.h"

#include <string.h>

/* The symbolic name of a POSIX error number, the same on every platform
 * (the Windows layer maps WSAE* codes to these numbers first). */
const char *pk_errname(int err)
{
    switch (err) {
#define NAME(e) case e: return #e;
    NAME(EACCES) NAME(EADDRINUSE) NAME(EADDRNOTAVAIL) NAME(EAFNOSUPPORT)
    NAME(EAGAIN) NAME(EALREADY) NAME(EBADF) NAME(ECONNABORTED)
    NAME(ECONNREFUSED) NAME(ECONNRESET) NAME(EDESTADDRREQ) NAME(EFAULT)
    NAME(EHOSTDOWN) NAME(EHOSTUNREACH) NAME(EINPROGRESS) NAME(EINTR)
    NAME(EINVAL) NAME(EIO) NAME(EISCONN) NAME(EMFILE) NAME(EMSGSIZE)
    NAME(ENETDOWN) NAME(ENETRESET) NAME(ENETUNREACH) NAME(ENFILE)
    NAME(ENOBUFS) NAME(ENODEV) NAME(ENOENT) NAME(ENOMEM) NAME(ENOPROTOOPT)
    NAME(ENOTCONN) NAME(ENOTSOCK) NAME(ENXIO) NAME(EOPNOTSUPP) NAME(EPERM)
    NAME(EPIPE) NAME(EPROTONOSUPPORT) NAME(EPROTOTYPE) NAME(ESOCKTNOSUPPORT)
    NAME(ETIMEDOUT)
#if EWOULDBLOCK != EAGAIN
    NAME(EWOULDBLOCK)
#endif
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    NAME(ENOTSUP)
#endif
    /* errors ICMP messages become (recverr(), README "Gateways") */
#ifdef EPROTO
    NAME(EPROTO)
#endif
#ifdef ENONET
    NAME(ENONET)
#endif
#ifdef ENOMSG
    NAME(ENOMSG)
#endif
#undef NAME
    default:
        return "EUNKNOWN";
    }
}

#ifndef _WIN32
/* The system's text for err, in buf. */
const char *pk_errmsg(int err, char *buf, size_t cap)
{
    const char *s = strerror(err);
    size_t n = strlen(s);
    if (n >= cap) n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}
#endif
