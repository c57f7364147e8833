/* Sending: sendto, reply and sendmany, and the tables that choose where a
 * datagram goes and where it comes from. Tables are read with ordinary
 * indexing (metamethods run), each field once, into C locals; the socket
 * is checked open only after the last read, because a metamethod or a
 * finalizer may have closed it meanwhile. */
#include "lbinding.h"
#include "pk_addr.h"
#include "pk_iface.h"
#include "pk_gw.h"

#include <string.h>

/* Pushes t[key k] (metamethods run) and returns its type. */
static int get(lua_State *L, int t, int k)
{
    lua_rawgeti(L, PK_UV_KEYS, k);
    lua_gettable(L, t);
    return lua_type(L, -1);
}

/* Reads ttl and tos of the table at t (if present) into src. */
static void read_ttl_tos(lua_State *L, int t, const pk_where *w, pk_sendsrc *src)
{
    if (get(L, t, PK_K_TTL) != LUA_TNIL) {
        src->ttl = (int)pk_field_int(L, w, "ttl", 0, 255);
        src->has |= PK_SRC_TTL;
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, PK_K_TOS) != LUA_TNIL) {
        src->tos = (int)pk_field_int(L, w, "tos", 0, 255);
        src->has |= PK_SRC_TOS;
    } else {
        lua_pop(L, 1);
    }
}

/* A literal source table at t: addr, ifindex, ttl and tos as given. */
static void read_literal(lua_State *L, int t, const pk_where *w,
                         pk_sendsrc *src)
{
    src->has = 0;
    if (get(L, t, PK_K_ADDR) != LUA_TNIL) {
        src->family = pk_field_ip(L, w, "addr", src->addr);
        src->has |= PK_SRC_ADDR;
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, PK_K_IFINDEX) != LUA_TNIL) {
        src->ifindex = (uint32_t)pk_field_int(L, w, "ifindex", 0, 0x7fffffff);
        src->has |= PK_SRC_IFINDEX;
    } else {
        lua_pop(L, 1);
    }
    read_ttl_tos(L, t, w, src);
}

/* The packet info of the info table at t that the reply rules need:
 * addr, then spec_dst and ifindex (none of them without addr: packet info
 * was off, the answer is routed). Its own ttl, tos and ecn are what was
 * received and are never sent back. */
static void read_request(lua_State *L, int t, const pk_where *w,
                         pk_request *req)
{
    if (get(L, t, PK_K_ADDR) == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    req->family = pk_field_ip(L, w, "addr", req->dst);
    req->has_dst = 1;
    if (get(L, t, PK_K_SPEC_DST) != LUA_TNIL) {
        unsigned char b[16];
        if (pk_field_ip(L, w, "spec_dst", b) == AF_INET && req->family == AF_INET) {
            memcpy(req->spec_dst, b, 4);
            req->has_spec_dst = 1;
        }
    } else {
        lua_pop(L, 1);
    }
    if (get(L, t, PK_K_IFINDEX) != LUA_TNIL)
        req->ifindex = (uint32_t)pk_field_int(L, w, "ifindex", 0, 0x7fffffff);
    else
        lua_pop(L, 1);
}

/* Reads the info table at t: the reply rules' facts into req (from is
 * the peer), and with to, where to answer it: from and port, a link-local
 * sender through info.ifindex (the interface it came in on), never
 * through a name in the text. Returns 0 or an error number (an interface
 * named in the text is gone). */
static int read_info(lua_State *L, int t, const pk_where *w, const pk_sock *s,
                     pk_target *to, pk_request *req)
{
    static const pk_sock any6 = {PK_NO_SOCKET, AF_INET6, 0, 0, 0, 0, 0, 0, {0}};
    pk_target peer;
    int from, err;

    memset(req, 0, sizeof *req);
    if (get(L, t, PK_K_FROM) != LUA_TSTRING)
        pk_field_error(L, w, "from", "address text expected");
    from = lua_gettop(L);
    err = pk_parse_target(L, from, w, "from", to ? s : &any6, PK_T_NOSCOPE, &peer);
    read_request(L, t, w, req);
    if (to) {
        *to = peer;
        if (to->ip_family == AF_INET6 && pk_ip6_is_linklocal(to->sa.v6.sin6_addr.s6_addr)) {
            if (req->ifindex) to->sa.v6.sin6_scope_id = req->ifindex;
            else err = pk_parse_target(L, from, w, "from", s, 0, to);  /* no packet info */
        }
        get(L, t, PK_K_PORT);
        to->sa.v4.sin_port = htons((uint16_t)pk_field_int(L, w, "port", 0, 65535));
    }
    lua_pop(L, 1);                            /* from */
    pk_addr_unmap(&peer.sa);
    req->peer_family = peer.ip_family;
    if (peer.ip_family == AF_INET) memcpy(req->peer, &peer.sa.v4.sin_addr, 4);
    else memcpy(req->peer, peer.sa.v6.sin6_addr.s6_addr, 16);
    return err;
}

/* Reads the per-datagram ttl and tos of the out table at out into src;
 * errors name it as w says. */
static void read_out(lua_State *L, int out, const pk_where *w, pk_sendsrc *src)
{
    if (lua_type(L, out) != LUA_TTABLE)
        pk_field_error(L, w, w->item ? "out" : NULL, lua_pushfstring(L,
                       "table expected, got %s", luaL_typename(L, out)));
    read_ttl_tos(L, out, w, src);
}

/* The source of a datagram to an address of dst_family, from the table at
 * t: the reply rules for an info table (one with from), else the table
 * taken literally; then the per-datagram ttl and tos of the table at out
 * (0: none; errors name it as wout says). Raises on a malformed table;
 * returns 0 or an error number. */
static int read_source(lua_State *L, int t, int out, const pk_where *w,
                       const pk_where *wout, int dst_family, pk_sendsrc *src)
{
    int err = 0, info = get(L, t, PK_K_FROM) != LUA_TNIL;
    lua_pop(L, 1);
    if (info) {
        pk_request req;
        err = read_info(L, t, w, NULL, NULL, &req);
        if (!err) err = pk_reply_source(&req, pk_iface_addr, NULL, src);
    } else {
        read_literal(L, t, w, src);
    }
    if (out) read_out(L, out, wout, src);
    if (!err && (src->has & PK_SRC_ADDR) && src->family != dst_family)
        luaL_argerror(L, w->arg, dst_family == AF_INET
                      ? "source is IPv6 but the destination is IPv4"
                      : "source is IPv4 but the destination is IPv6");
    return err;
}

/* Writes the control messages for src into o. Returns 0, or ENOPROTOOPT
 * when this platform cannot send part of src per datagram (README,
 * "Platforms"); raises if they do not fit, which cannot happen for what
 * the readers above produce. */
static int encode(lua_State *L, int dst_family, const pk_sendsrc *src,
                  pk_outmsg *o)
{
    long clen = src->has
        ? pk_cmsg_encode(&o->control, sizeof o->control, dst_family, src) : 0;
    if (clen == PK_CMSG_UNSUPPORTED) return ENOPROTOOPT;
    if (clen < 0) luaL_error(L, "pktinfo: control messages do not fit");
    o->controllen = (size_t)clen;
    return 0;
}

/* Sends the datagram o; pushes bytes sent, or the error triple. */
static int send_one(lua_State *L, pk_sock *s, const pk_outmsg *o)
{
    size_t sent;
    int err;
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    if ((err = pk_sock_send(s, o->data, o->len, &o->to,
                            o->controllen ? &o->control : NULL, o->controllen, &sent)))
        return pk_push_error(L, err);
    lua_pushinteger(L, (lua_Integer)sent);
    return 1;
}

/* src.segment of the table at t (read through ordinary indexing): the
 * size of the datagrams to cut the data into, 0 for none. */
static size_t read_segment(lua_State *L, int t, const pk_where *w)
{
    lua_getfield(L, t, "segment");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    return (size_t)pk_field_int(L, w, "segment", 1, 65535);
}

/* Sends the data of o as datagrams of seg bytes, the last maybe shorter
 * (README, "Offload"): with option gso as UDP_SEGMENT sends, else one by
 * one in a batch; the results are the same. Pushes the bytes sent; when
 * some were refused, the bytes of those sent (nil for none), the first
 * refusal's error and its name. */
static int send_segments(lua_State *L, pk_sock *s, const pk_outmsg *o,
                         size_t seg)
{
    size_t n = (o->len + seg - 1) / seg, i, bytes = 0;
    pk_outmsg *m;
    int stop, first = 0;

    luaL_argcheck(L, n <= PK_MAX_BATCH, 2, "more than 1024 segments");
    m = (pk_outmsg *)lua_newuserdata(L, n * sizeof *m);  /* freed by the collector */
    for (i = 0; i < n; i++) {
        m[i].data = (const char *)o->data + i * seg;  /* argument 2 keeps it */
        m[i].len = i + 1 < n ? seg : o->len - i * seg;
        m[i].to = o->to;
        m[i].index = (int)i + 1;
        m[i].controllen = o->controllen;
        memcpy(&m[i].control, &o->control, o->controllen);
    }
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    stop = pk_sock_sendmany(s, m, n);
    for (i = 0; i < n; i++) {
        if (m[i].err == 0) bytes += m[i].len;
        else if (!first) first = m[i].err > 0 ? m[i].err : stop ? stop : EIO;
    }
    if (!first) {
        lua_pushinteger(L, (lua_Integer)bytes);
        return 1;
    }
    pk_push_error(L, first);                  /* nil, msg, name */
    if (bytes) {
        lua_pushinteger(L, (lua_Integer)bytes);
        lua_replace(L, -4);
    }
    return 3;
}

/* sock:sendto(data, addr, port [, src]) -> bytes; src.segment = n sends
 * data as datagrams of n bytes. */
int pk_m_sendto(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_where w = {5, 0};
    pk_target to;
    pk_sendsrc src;
    pk_outmsg o;
    size_t seg = 0;
    int err;

    o.data = luaL_checklstring(L, 2, &o.len);
    err = pk_check_target(L, 3, s, 0, &to);
    to.sa.v4.sin_port = htons(pk_check_port(L, 4));   /* same offset in v6 */
    src.has = 0;
    if (!lua_isnoneornil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
        if (!err) err = read_source(L, 5, 0, &w, &w, to.ip_family, &src);
        seg = read_segment(L, 5, &w);
    }
    if (err) return pk_push_error(L, err);
    o.to = to.sa;
    if ((err = encode(L, to.ip_family, &src, &o))) return pk_push_error(L, err);
    if (seg && o.len > seg) return send_segments(L, s, &o, seg);
    return send_one(L, s, &o);
}

/* sock:reply(data, info [, out]) -> bytes: sendto(data, info.from,
 * info.port, info), with out = {ttl=, tos=} for this datagram only. */
int pk_m_reply(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_where w = {3, 0}, wout = {4, 0};
    pk_target to;
    pk_request req;
    pk_sendsrc src;
    pk_outmsg o;
    int err;

    src.has = 0;
    o.data = luaL_checklstring(L, 2, &o.len);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
    err = read_info(L, 3, &w, s, &to, &req);
    if (!err) err = pk_reply_source(&req, pk_iface_addr, NULL, &src);
    if (!lua_isnoneornil(L, 4)) read_out(L, 4, &wout, &src);
    if (err) return pk_push_error(L, err);
    if ((src.has & PK_SRC_ADDR) && src.family != to.ip_family)
        luaL_argerror(L, 3, "addr and from are of different IP versions");
    o.to = to.sa;
    if ((err = encode(L, to.ip_family, &src, &o))) return pk_push_error(L, err);
    return send_one(L, s, &o);
}

/* Reads sendmany item i (the table on top) into *o: data (pushed, and
 * left on the stack so that it outlives the item), to and port (else the
 * item is an info table: its from and port), the source, and out. Raises
 * on a malformed item; returns 0 or an error number (an interface that is
 * gone refuses this item alone). */
static int read_item(lua_State *L, const pk_sock *s, int i, pk_outmsg *o)
{
    int item = lua_gettop(L), out, err;
    pk_where w = {2, 0};
    pk_target to;
    pk_sendsrc src;

    src.has = 0;
    w.item = i;
    if (get(L, item, PK_K_DATA) != LUA_TSTRING)
        pk_field_error(L, &w, "data", lua_pushfstring(L, "string expected, got %s",
                                                      luaL_typename(L, -1)));
    o->data = lua_tolstring(L, -1, &o->len);  /* stays on the stack */
    out = get(L, item, PK_K_OUT) != LUA_TNIL ? lua_gettop(L) : 0;
    if (get(L, item, PK_K_TO) != LUA_TNIL) {
        err = pk_parse_target(L, lua_gettop(L), &w, "to", s, 0, &to);
        lua_pop(L, 1);
        get(L, item, PK_K_PORT);
        to.sa.v4.sin_port = htons((uint16_t)pk_field_int(L, &w, "port", 0, 65535));
        if (!err) err = read_source(L, item, out, &w, &w, to.ip_family, &src);
    } else {
        pk_request req;
        lua_pop(L, 1);
        err = read_info(L, item, &w, s, &to, &req);
        if (!err) err = pk_reply_source(&req, pk_iface_addr, NULL, &src);
        if (out) read_out(L, out, &w, &src);
    }
    lua_settop(L, item + 1);                  /* the item and its data */
    o->to = to.sa;
    o->index = i;
    if (!err) err = encode(L, to.ip_family, &src, o);
    return err;
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

/* sock:send(data [, out]) -> bytes: to the peer of a connected socket
 * (setpeername), with out = {ttl=, tos=} for this datagram only; not
 * connected: nil, msg, "EDESTADDRREQ". The control messages follow the
 * peer's IP version (an IPv4 peer of a dual-stack socket gets IPv4 ones),
 * read from the kernel after the last Lua code has run. */
int pk_m_send(lua_State *L)
{
    pk_sock *s = pk_check_sock(L);
    pk_where wout = {3, 0};
    pk_sendsrc src;
    pk_outmsg o;
    pk_sockaddr peer;
    size_t sent;
    int err;

    o.data = luaL_checklstring(L, 2, &o.len);
    src.has = 0;
    if (!lua_isnoneornil(L, 3)) read_out(L, 3, &wout, &src);
    if (s->fd == PK_NO_SOCKET) return pk_push_closed(L);
    o.controllen = 0;
    if (src.has) {
        if ((err = pk_sock_peer(s, &peer)))
            return pk_push_error(L, err == ENOTCONN ? EDESTADDRREQ : err);
        pk_addr_unmap(&peer);
        if ((err = encode(L, peer.sa.sa_family, &src, &o))) return pk_push_error(L, err);
    }
    if ((err = pk_sock_send(s, o.data, o.len, NULL,
                            o.controllen ? &o.control : NULL, o.controllen, &sent)))
        return pk_push_error(L, err);
    lua_pushinteger(L, (lua_Integer)sent);
    return 1;
}
