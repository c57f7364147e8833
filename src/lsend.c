/* Sending: sendto, reply and sendmany, and the tables that choose where a
 * datagram goes and where it comes from. Tables are read with ordinary
 * indexing (metamethods run), every value into C locals; the socket is
 * checked open only after the last read, because a metamethod or a
 * finalizer may have closed it meanwhile. */
#include "lbinding.h"
#include "pk_addr.h"

#include <stdio.h>
#include <string.h>

/* Pushes t[name] (metamethods run) and returns its type. */
static int get(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    return lua_type(L, -1);
}

/* Reads ttl and tos of the table at t (if present) into src. */
static void read_ttl_tos(lua_State *L, int t, const pk_where *w, pk_sendsrc *src)
{
    if (get(L, t, "ttl") != LUA_TNIL) {
        src->ttl = (int)pk_field_int(L, w, "ttl", 0, 255);
        src->has |= PK_SRC_TTL;
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, "tos") != LUA_TNIL) {
        src->tos = (int)pk_field_int(L, w, "tos", 0, 255);
        src->has |= PK_SRC_TOS;
    } else {
        lua_pop(L, 1);
    }
}

/* An info table at t: the reply rules choose source and interface (its
 * own ttl, tos and ecn are what was received and are never sent back).
 * Returns 0 or an error number (the arrival interface is gone). */
static int read_reply_source(lua_State *L, int t, const pk_where *w,
                             pk_sendsrc *src)
{
    pk_request req;
    memset(&req, 0, sizeof req);
    src->has = 0;
    if (get(L, t, "addr") == LUA_TNIL) {   /* no packet info: routed */
        lua_pop(L, 1);
        return 0;
    }
    req.family = pk_field_ip(L, w, "addr", req.dst);
    req.has_dst = 1;
    if (get(L, t, "spec_dst") != LUA_TNIL && req.family == AF_INET) {
        unsigned char b[16];
        if (pk_field_ip(L, w, "spec_dst", b) == AF_INET) {
            memcpy(req.spec_dst, b, 4);
            req.has_spec_dst = 1;
        }
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, "ifindex") != LUA_TNIL)
        req.ifindex = (uint32_t)pk_field_int(L, w, "ifindex", 0, 0x7fffffff);
    else
        lua_pop(L, 1);
    if (get(L, t, "from") == LUA_TSTRING) req.peer_family = pk_field_ip(L, w, "from", req.peer);
    else lua_pop(L, 1);
    return pk_reply_source(&req, NULL, NULL, src);
}

/* Any other table at t: addr, ifindex, ttl and tos taken literally. */
static void read_literal_source(lua_State *L, int t, const pk_where *w,
                                pk_sendsrc *src)
{
    src->has = 0;
    if (get(L, t, "addr") != LUA_TNIL) {
        src->family = pk_field_ip(L, w, "addr", src->addr);
        src->has |= PK_SRC_ADDR;
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, "ifindex") != LUA_TNIL) {
        src->ifindex = (uint32_t)pk_field_int(L, w, "ifindex", 0, 0x7fffffff);
        src->has |= PK_SRC_IFINDEX;
    } else {
        lua_pop(L, 1);
    }
    read_ttl_tos(L, t, w, src);
}

/* Reads the source table at t (an info table, or a literal one) for a
 * datagram to an address of dst_family, and the per-datagram out table at
 * out (0: none; errors name it as wout says). Raises naming w on a
 * malformed table; returns 0 or an error number. */
static int read_source(lua_State *L, int t, int out, const pk_where *w,
                       const pk_where *wout, int dst_family, pk_sendsrc *src)
{
    int err = 0, info = get(L, t, "from") != LUA_TNIL;
    lua_pop(L, 1);
    if (info) err = read_reply_source(L, t, w, src);
    else read_literal_source(L, t, w, src);
    if (out) {
        if (lua_type(L, out) != LUA_TTABLE)
            pk_field_error(L, wout, wout->item ? "out" : NULL, lua_pushfstring(L,
                           "table expected, got %s", luaL_typename(L, out)));
        read_ttl_tos(L, out, wout, src);
    }
    if (!err && (src->has & PK_SRC_ADDR) && src->family != dst_family)
        luaL_argerror(L, w->arg, dst_family == AF_INET
                      ? "source is IPv6 but the destination is IPv4"
                      : "source is IPv4 but the destination is IPv6");
    return err;
}

/* The destination of an answer to the info table at t: its from and port.
 * A link-local sender is reached through info.ifindex, the interface it
 * came in on, never through a name in the text (README, "Choosing the
 * source"). Returns 0 or an error number. */
static int read_reply_dest(lua_State *L, int t, const pk_where *w,
                           const pk_sock *s, pk_target *to)
{
    int err;
    get(L, t, "from");
    err = pk_parse_target(L, lua_gettop(L), w, "from", s, PK_T_NOSCOPE, to);
    if (!err && to->ip_family == AF_INET6
        && pk_ip6_is_linklocal(to->sa.v6.sin6_addr.s6_addr)) {
        if (get(L, t, "ifindex") != LUA_TNIL)
            to->sa.v6.sin6_scope_id = (uint32_t)pk_field_int(L, w, "ifindex", 0, 0x7fffffff);
        else   /* no packet info: the scope in the text, as it names one now */
            err = (lua_pop(L, 1),
                   pk_parse_target(L, lua_gettop(L), w, "from", s, 0, to));
    }
    lua_pop(L, 1);
    if (get(L, t, "port") == LUA_TNIL && !w->item)
        luaL_argerror(L, w->arg, "port: integer 0..65535 expected");
    to->sa.v4.sin_port = htons((uint16_t)pk_field_int(L, w, "port", 0, 65535));
    return err;
}

/* Sends data to `to` with the control messages for src; pushes the
 * result (bytes, or the error triple). */
static int send_one(lua_State *L, pk_sock *s, const char *data, size_t len,
                    const pk_target *to, const pk_sendsrc *src)
{
    pk_cmsgbuf control;
    long clen = pk_cmsg_encode(&control, sizeof control, to->ip_family, src);
    size_t sent;
    int err;
    if (clen < 0) luaL_error(L, "pktinfo: control messages do not fit");
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if ((err = pk_sock_send(s, data, len, &to->sa, &control, (size_t)clen, &sent)))
        return pk_push_error(L, err);
    lua_pushinteger(L, (lua_Integer)sent);
    return 1;
}

/* sock:sendto(data, addr, port [, src]) -> bytes */
int pk_m_sendto(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    pk_target to;
    pk_sendsrc src;
    pk_where w = {5, 0};
    int err;

    src.has = 0;
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    err = pk_check_target(L, 3, s, 0, &to);
    to.sa.v4.sin_port = htons(pk_check_port(L, 4));   /* same offset in v6 */
    if (!lua_isnoneornil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
        if (!err) err = read_source(L, 5, 0, &w, &w, to.ip_family, &src);
    }
    if (err) return pk_push_error(L, err);
    return send_one(L, s, data, len, &to, &src);
}

/* sock:reply(data, info [, out]) -> bytes: sendto(data, info.from,
 * info.port, info), with out = {ttl=, tos=} for this datagram only. */
int pk_m_reply(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    pk_target to;
    pk_sendsrc src;
    pk_where w = {3, 0}, wout = {4, 0};
    int err;

    luaL_checktype(L, 3, LUA_TTABLE);
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if (get(L, 3, "from") != LUA_TSTRING)
        luaL_argerror(L, 3, "from: address text expected");
    lua_pop(L, 1);
    err = read_reply_dest(L, 3, &w, s, &to);
    if (!err) err = read_source(L, 3, lua_isnoneornil(L, 4) ? 0 : 4, &w, &wout,
                                to.ip_family, &src);
    if (err) return pk_push_error(L, err);
    return send_one(L, s, data, len, &to, &src);
}

/* Reads sendmany item i (the table on top) into *o: data (pushed, and
 * left on the stack so that it outlives the item), to (default from),
 * port, source and out. Raises on a malformed item; returns 0 or an error
 * number (an interface that is gone refuses this item alone). */
static int read_item(lua_State *L, const pk_sock *s, int i, pk_outmsg *o)
{
    int item = lua_gettop(L), out, err;
    pk_where w = {2, i};
    pk_target to;
    pk_sendsrc src;

    if (get(L, item, "data") != LUA_TSTRING)
        pk_field_error(L, &w, "data", lua_pushfstring(L, "string expected, got %s",
                                                      luaL_typename(L, -1)));
    o->data = lua_tolstring(L, -1, &o->len);  /* stays on the stack */
    if (get(L, item, "to") != LUA_TNIL) {
        err = pk_parse_target(L, lua_gettop(L), &w, "to", s, 0, &to);
        lua_pop(L, 1);
        to.sa.v4.sin_port = htons((uint16_t)(get(L, item, "port"),
                                  pk_field_int(L, &w, "port", 0, 65535)));
    } else {
        lua_pop(L, 1);
        if (get(L, item, "from") != LUA_TSTRING)
            pk_field_error(L, &w, "to (or from)", "address text expected");
        lua_pop(L, 1);
        err = read_reply_dest(L, item, &w, s, &to);
    }
    out = get(L, item, "out") != LUA_TNIL ? lua_gettop(L) : 0;
    if (!err) err = read_source(L, item, out, &w, &w, to.ip_family, &src);
    lua_pop(L, 1);                            /* out */
    o->to = to.sa;
    o->index = i;
    if (err) return err;
    o->controllen = 0;
    if (src.has) {
        long clen = pk_cmsg_encode(&o->control, sizeof o->control, to.ip_family, &src);
        if (clen < 0) luaL_error(L, "pktinfo: control messages do not fit");
        o->controllen = (size_t)clen;
    }
    return 0;
}

/* Pushes sendmany's results from err[0..n) (0: item sent; an error
 * number: refused; -1: not tried, because sending stopped with stop):
 * count when every item was sent; else count (nil if none), the error of
 * the first item not sent, its name, and the list of items not sent. */
static int push_results(lua_State *L, const int *err, size_t n, int stop)
{
    size_t i, sent = 0, nfailed = 0;
    int first = 0;
    for (i = 0; i < n; i++) if (err[i] == 0) sent++;
    if (sent == n) {
        lua_pushinteger(L, (lua_Integer)sent);
        return 1;
    }
    for (i = 0; i < n && !first; i++) if (err[i]) first = err[i] > 0 ? err[i] : stop;
    if (!first) first = EIO;
    if (sent) lua_pushinteger(L, (lua_Integer)sent);
    else lua_pushnil(L);
    pk_push_error(L, first);                  /* nil, msg, name */
    lua_remove(L, -3);
    lua_createtable(L, (int)(n - sent), 0);
    for (i = 0; i < n; i++) {
        if (!err[i]) continue;
        lua_pushinteger(L, (lua_Integer)i + 1);
        lua_rawseti(L, -2, (lua_Integer)++nfailed);
    }
    return 4;
}

/* sock:sendmany(list) -> count | count, err, errname, failed | nil, err,
 * errname, failed. At most PK_MAX_BATCH items; every item is read before
 * anything is sent (a malformed one raises with nothing sent); an item
 * the kernel refuses does not stop the items after it. */
int pk_m_sendmany(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    size_t n, i, k = 0;
    pk_outmsg *m;
    int *err, stop = 0;

    luaL_checktype(L, 2, LUA_TTABLE);
    n = (size_t)pk_rawlen(L, 2);
    luaL_argcheck(L, n <= PK_MAX_BATCH, 2, "more than 1024 items");
    lua_settop(L, 2);
    /* scratch for this call alone: the messages to send, then each
     * item's result (freed by the collector, whatever happens) */
    m = (pk_outmsg *)lua_newuserdata(L, n * (sizeof *m + sizeof *err) + 1);
    err = (int *)(void *)(m + n);
    luaL_checkstack(L, (int)n + LUA_MINSTACK, "sendmany");
    for (i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (lua_Integer)i + 1);
        if (lua_type(L, -1) != LUA_TTABLE)
            luaL_argerror(L, 2, lua_pushfstring(L, "item %d: table expected, got %s",
                                                (int)i + 1, luaL_typename(L, -1)));
        err[i] = read_item(L, s, (int)i + 1, &m[k]);
        lua_remove(L, -2);                    /* the item; its data stays */
        if (!err[i]) k++;
    }
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if (k) stop = pk_sock_sendmany(s, m, k);
    for (i = 0; i < k; i++) err[m[i].index - 1] = m[i].err;
    return push_results(L, err, n, stop);
}
