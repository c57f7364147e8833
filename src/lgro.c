/* Receiving with option gro (README, "Offload"): the kernel may hand over
 * many datagrams of one flow in one buffer. recv and recvmany cut it up
 * (pk_offload.c) and return one message per datagram, in order, each with
 * the buffer's addressing fields; the datagrams a call does not return
 * wait for the next one.
 *
 * Where those wait, and why Lua code running inside a call (a finalizer
 * at an allocation) can neither lose, repeat nor misattribute one:
 * - a call receives into a buffer borrowed from the socket (user value
 *   PK_SLOT_RECVBUF) and anchored on its own stack, as in lrecv.c;
 * - the datagrams it leaves stay where the kernel wrote them: that buffer
 *   becomes the socket's pending buffer (user value PK_SLOT_PENDING), and
 *   the socket's cursor (s->off.pend) points at the first of them.
 *   Nothing ever writes into a pending buffer;
 * - a call takes its datagrams (the pending ones first, then its own
 *   receive) and moves the cursor past them before any Lua code can run;
 *   only then does it make strings and tables. A finalizer that receives
 *   on the same socket meanwhile gets the datagrams after those;
 * - a buffer counts the calls reading datagrams out of it, and goes back
 *   to the socket for a new receive only when none does and no pending
 *   datagram is in it. (A Lua error raised through a call leaves its count
 *   up: that buffer is collected instead of reused, never overwritten.)
 * - close() forgets the pending datagrams (pk_sock_close, and the user
 *   value): a running call keeps what it took alive on its own stack. */
#include "lbinding.h"
#include "pk_offload.h"

#include <string.h>

/* The head of a receive buffer on this path: nslots message records and
 * nslots slots of PK_GRO_SLOT bytes follow it. */
typedef struct gbuf {
    size_t readers;              /* calls reading datagrams out of it */
    size_t nslots;
} gbuf;

#define HEAD ((sizeof(gbuf) + 15) & ~(size_t)15)
#define PER_SLOT (sizeof(pk_datagram) + PK_GRO_SLOT)
/* The largest buffer a socket keeps between calls (as lrecv.c). */
#define KEEP ((size_t)4 << 20)

/* A call's datagrams: some from the pending buffer, then some from its
 * own receive; at[] are the stack indexes of those buffers (0: none). */
typedef struct share {
    pk_grocur part[2];
    int at[2];
} share;

/* The message records of buffer g. */
static pk_datagram *gbuf_msgs(gbuf *g)
{
    return (pk_datagram *)(void *)((unsigned char *)g + HEAD);
}

/* Slot i of buffer g. */
static unsigned char *gbuf_slot(gbuf *g, size_t i)
{
    return (unsigned char *)g + HEAD + g->nslots * sizeof(pk_datagram)
         + i * PK_GRO_SLOT;
}

/* Takes the socket's receive buffer if it has room for nslots buffers
 * from the kernel, else makes a new one (Lua may run); pushes it and
 * returns it, read by this call alone. The socket holds no receive
 * buffer until release(). */
static gbuf *borrow(lua_State *L, size_t nslots)
{
    size_t size = HEAD + nslots * PER_SLOT, len;
    gbuf *g;
    if (pk_getuv(L, 1, PK_SLOT_RECVBUF) == LUA_TUSERDATA
        && (len = (size_t)pk_rawlen(L, -1)) >= size) {
        g = (gbuf *)lua_touserdata(L, -1);
        nslots = (len - HEAD) / PER_SLOT;
    } else {
        lua_pop(L, 1);
#if LUA_VERSION_NUM >= 504
        g = (gbuf *)lua_newuserdatauv(L, size, 0);
#else
        g = (gbuf *)lua_newuserdata(L, size);
#endif
    }
    lua_pushnil(L);
    pk_setuv(L, 1, PK_SLOT_RECVBUF);
    g->readers = 1;
    g->nslots = nslots;
    return g;
}

/* Takes up to n of the socket's pending datagrams into sh->part[0]
 * (anchoring their buffer on the stack) and moves the cursor past them;
 * returns how many. Runs no Lua. */
static size_t take_pending(lua_State *L, pk_sock *s, size_t n, share *sh)
{
    pk_grocur *p = &s->off.pend;
    size_t k = p->left < n ? p->left : n;
    pk_getuv(L, 1, PK_SLOT_PENDING);
    if (lua_touserdata(L, -1) != p->owner) {   /* cannot happen: keep safe */
        memset(p, 0, sizeof *p);
        lua_pop(L, 1);
        return 0;
    }
    sh->at[0] = lua_gettop(L);
    ((gbuf *)p->owner)->readers++;
    sh->part[0] = *p;
    sh->part[0].left = k;
    pk_gro_skip(p, k);
    if (!p->left) {
        memset(p, 0, sizeof *p);
        lua_pushnil(L);
        pk_setuv(L, 1, PK_SLOT_PENDING);
    }
    return k;
}

/* Receives into g (at sh->at[1]) up to `want` buffers from the kernel,
 * waiting per the socket's timeout only when the call has none yet
 * (have == 0). Up to want datagrams go to sh->part[1]; the rest become
 * the socket's pending datagrams, g its pending buffer. Runs no Lua. */
static int receive(lua_State *L, pk_sock *s, gbuf *g, size_t want,
                   size_t have, share *sh)
{
    pk_datagram *d = gbuf_msgs(g);
    size_t k = want < g->nslots ? want : g->nslots, i, got;
    double timeout = s->timeout;
    int err;
    for (i = 0; i < k; i++) {
        d[i].data = gbuf_slot(g, i);
        d[i].cap = PK_GRO_SLOT;
    }
    if (have) s->timeout = 0;             /* only what is queued */
    err = pk_sock_recvmany(s, d, k, &got);
    s->timeout = timeout;
    if (err) return err;
    pk_gro_init(&sh->part[1], d, got);
    sh->part[1].owner = g;
    if (sh->part[1].left > want) {
        s->off.pend = sh->part[1];
        pk_gro_skip(&s->off.pend, want);
        lua_pushvalue(L, sh->at[1]);
        pk_setuv(L, 1, PK_SLOT_PENDING);
        sh->part[1].left = want;
    }
    return 0;
}

/* Gathers up to n datagrams for this call into *sh: the pending ones,
 * then (when they are fewer) a receive. Returns 0 (at least one), an
 * error number, or -1 when the socket was closed. */
static int collect(lua_State *L, pk_sock *s, size_t n, share *sh)
{
    gbuf *g = NULL;
    size_t have = 0;
    int err = 0;
    memset(sh, 0, sizeof *sh);
    if (s->off.pend.left < n) {
        g = borrow(L, n < PK_GRO_SLOTS ? n : PK_GRO_SLOTS);  /* Lua may run */
        sh->at[1] = lua_gettop(L);
    }
    if (s->fd == PK_NO_SOCKET) return -1;
    /* from here no Lua runs until the caller pushes results */
    if (s->off.pend.left) have = take_pending(L, s, n, sh);
    if (have < n && g) err = receive(L, s, g, n - have, have, sh);
    s->poll_deadline = 0;
    return have || sh->part[1].left ? 0 : err;
}

/* Ends the call's reading of its buffers; gives each back to the socket
 * for its next receive when nothing else reads it, it holds no pending
 * datagram, the socket is open and has no receive buffer, and it is not
 * too big to keep. */
static void release(lua_State *L, const pk_sock *s, const share *sh)
{
    int p;
    for (p = 0; p < 2; p++) {
        gbuf *g;
        if (!sh->at[p]) continue;
        g = (gbuf *)lua_touserdata(L, sh->at[p]);
        if (g->readers) g->readers--;
        if (g->readers || g == s->off.pend.owner || s->fd == PK_NO_SOCKET
            || (size_t)pk_rawlen(L, sh->at[p]) > KEEP)
            continue;
        if (pk_getuv(L, 1, PK_SLOT_RECVBUF) == LUA_TNIL) {
            lua_pushvalue(L, sh->at[p]);
            pk_setuv(L, 1, PK_SLOT_RECVBUF);
        }
        lua_pop(L, 1);
    }
}

/* Pushes the error of collect() (see there). */
static int push_failure(lua_State *L, int err)
{
    return err < 0 ? pk_push_closed(L) : pk_push_error(L, err);
}

/* The datagram v as pk_fill_info takes it: its message's fields (copied
 * into *d when v starts another message), truncated for itself: the
 * kernel cut it, or it is longer than size. */
static void view_datagram(const pk_dgview *v, size_t size, pk_datagram *d,
                          const pk_datagram **cur)
{
    if (v->msg != *cur) {
        *d = *v->msg;
        *cur = v->msg;
    }
    d->truncated = v->truncated || v->len > size;
}

/* recv(size, into) with option gro (lrecv.c checked the arguments, at 2
 * and 3): one datagram, from those kept or a new receive. */
int pk_gro_recv(lua_State *L, size_t size, int into)
{
    pk_sock *s = (pk_sock *)lua_touserdata(L, 1);
    const pk_datagram *cur = NULL;
    pk_datagram d;
    pk_dgview v;
    share sh;
    int err;

    lua_settop(L, 3);
    if ((err = collect(L, s, 1, &sh))) {
        release(L, s, &sh);
        return push_failure(L, err);
    }
    pk_gro_next(&sh.part[sh.part[0].left ? 0 : 1], &v);
    view_datagram(&v, size, &d, &cur);
    lua_pushlstring(L, (const char *)v.data, v.len < size ? v.len : size);
    if (into) lua_pushvalue(L, 3);
    else lua_createtable(L, 0, 8);
    pk_fill_info(L, (pk_lsock *)s, lua_gettop(L), &d, into, 0);
    release(L, s, &sh);
    return 2;
}

/* Appends the datagrams of part to the list at index list (numbered from
 * *j + 1), as recvmany does: tables of a reused list are refilled. */
static void push_part(lua_State *L, pk_lsock *ls, int list, int into,
                      pk_grocur *part, size_t size, size_t *j)
{
    const pk_datagram *cur = NULL;
    pk_datagram d;
    pk_dgview v;
    while (pk_gro_next(part, &v)) {
        int reuse = 0, t;
        lua_Integer i = (lua_Integer)++*j;
        view_datagram(&v, size, &d, &cur);
        if (into) {
            lua_rawgeti(L, list, i);
            reuse = lua_type(L, -1) == LUA_TTABLE;
            if (!reuse) lua_pop(L, 1);
        }
        if (!reuse) lua_createtable(L, 0, 8);
        t = lua_gettop(L);
        lua_pushlstring(L, (const char *)v.data, v.len < size ? v.len : size);
        pk_fill_info(L, ls, t, &d, reuse, t + 1);
        lua_pop(L, 1);
        if (!reuse) lua_rawseti(L, list, i);
        else lua_pop(L, 1);
    }
}

/* recvmany(n, size, into) with option gro (lrecv.c checked the
 * arguments, at 2..4): up to n datagrams, those kept first. */
int pk_gro_recvmany(lua_State *L, size_t n, size_t size, int into)
{
    pk_sock *s = (pk_sock *)lua_touserdata(L, 1);
    size_t j = 0, i;
    share sh;
    int err, list;

    lua_settop(L, 4);
    if ((err = collect(L, s, n, &sh))) {
        release(L, s, &sh);
        return push_failure(L, err);
    }
    if (into) lua_pushvalue(L, 4);
    else lua_createtable(L, (int)(sh.part[0].left + sh.part[1].left), 0);
    list = lua_gettop(L);
    push_part(L, (pk_lsock *)s, list, into, &sh.part[0], size, &j);
    push_part(L, (pk_lsock *)s, list, into, &sh.part[1], size, &j);
    for (i = into ? (size_t)pk_rawlen(L, list) : 0; i > j; i--) {
        lua_pushnil(L);
        lua_rawseti(L, list, (lua_Integer)i);
    }
    release(L, s, &sh);
    lua_settop(L, list);
    return 1;
}
