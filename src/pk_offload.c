/* Segmentation offload: options gro and gso, with their silent fallback,
 * and the tests' refusal hook (pk_split.c cuts and groups datagrams).
 * See pk_offload.h. */
#include "pk_offload.h"

/* Whether a failure to set gro or gso, or of a UDP_SEGMENT send, says
 * that the kernel, the socket or the path cannot do it (rather than that
 * this datagram is refused): then the module does without. */
int pk_offload_unsupported(int err)
{
    return err == ENOPROTOOPT || err == EINVAL || err == EOPNOTSUPP
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
        || err == ENOTSUP
#endif
        || err == EIO;
}

static pk_offload_hook_fn hook;

/* Installs the tests' hook (NULL: none); returns the old one. */
pk_offload_hook_fn pk_offload_set_hook(pk_offload_hook_fn h)
{
    pk_offload_hook_fn old = hook;
    hook = h;
    return old;
}

/* The error the hook pretends for what (0: none, or no hook). */
int pk_offload_refused(int what)
{
    return hook ? hook(what) : 0;
}

/* Whether a hook is installed. */
int pk_offload_hooked(void)
{
    return hook != NULL;
}

/* Turns UDP_GRO on. Where the kernel or socket refuses it as unsupported
 * it stays off without an error. Once on it stays on (off is not an error
 * and changes nothing): Linux hands a buffer it coalesced before the
 * option went off over whole and unmarked, with nothing to say where its
 * datagrams end, so turning it off could merge datagrams. */
static int set_gro(pk_sock *s, int on)
{
    int err;
    if (!on || s->off.gro) return 0;
    err = s->type == SOCK_DGRAM ? pk_offload_refused(PK_OFFLOAD_GRO) : ENOPROTOOPT;
#ifdef UDP_GRO
    if (!err) err = pk_sys_setint(s->fd, IPPROTO_UDP, UDP_GRO, 1);
#else
    if (!err) err = ENOPROTOOPT;
#endif
    if (err && !pk_offload_unsupported(err)) return err;
    s->off.gro = !err;
    return 0;
}

/* Turns sendmany's UDP_SEGMENT runs on or off. On: the kernel is asked
 * whether it knows UDP_SEGMENT at all (read, so that a segment size the
 * owner of a wrapped socket set stays); a send that fails as unsupported
 * before any succeeded turns it off again (pk_batch.c). */
static int set_gso(pk_sock *s, int on)
{
    int err = 0;
    if (on) {
        err = s->type == SOCK_DGRAM && pk_sock_gso_capable()
            ? pk_offload_refused(PK_OFFLOAD_GSO) : ENOPROTOOPT;
#ifdef UDP_SEGMENT
        if (!err) {
            int size;
            err = pk_sys_getint(s->fd, IPPROTO_UDP, UDP_SEGMENT, &size);
        }
#endif
        if (err && !pk_offload_unsupported(err)) return err;
    }
    s->off.gso = on && !err;
    s->off.gso_ok = 0;
    return 0;
}

/* setoption("gro"/"gso", on): which is PK_OFFLOAD_GRO or PK_OFFLOAD_GSO. */
int pk_offload_setopt(pk_sock *s, int which, int on)
{
    on = on ? 1 : 0;
    return which == PK_OFFLOAD_GRO ? set_gro(s, on) : set_gso(s, on);
}

/* getoption("gro"/"gso"): whether the module uses it now. */
int pk_offload_getopt(const pk_sock *s, int which, int *on)
{
    *on = which == PK_OFFLOAD_GRO ? s->off.gro : s->off.gso;
    return 0;
}
