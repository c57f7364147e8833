/* Between Lua values and the plain-C structs: info tables out, addresses,
 * ports, interfaces and source tables in. */
#include "lbinding.h"
#include "pk_addr.h"
#include "pk_iface.h"

#include <string.h>


/* The texts of the last sender, destination and spec_dst seen, so that a
 * server hearing from the same peers does not format and intern the same
 * strings for every datagram. The binary keys live in a userdata at
 * keys[PK_K_CACHE], the strings at keys[PK_K_CACHE + 1 + slot]: per Lua
 * state, shared by its sockets. (A scoped text holds the interface name of
 * its time; Linux renames only interfaces that are down.) */
#define PK_K_CACHE (PK_K_COUNT_ + 8)
enum { SLOT_FROM, SLOT_DST, SLOT_SPEC_DST, SLOT_COUNT_ };
typedef struct addr_key {
    uint32_t family, scope;
    unsigned char addr[16];
} addr_key;
/* Address texts parsed lately, the other way: the text's Lua string is
 * anchored at keys[PK_K_CACHE + 1 + SLOT_COUNT_ + i] while it is in slot
 * i, so the same contents pointer means the same string (interned short
 * strings make a repeated address the same string). */
#define PARSE_SLOTS 4

typedef struct text_cache {
    addr_key key[SLOT_COUNT_];
    unsigned ever;               /* OPT_* fields ever written in this state */
    const char *parsed_text[PARSE_SLOTS];
    pk_sockaddr parsed[PARSE_SLOTS];
    unsigned parsed_next;
} text_cache;

/* The optional fields. A reused table can hold only those the module has
 * ever written in this Lua state, so only those need clearing: a server
 * without recvttl etc. pays nothing for them. */
enum {
    OPT_CTRUNC = 1 << 0, OPT_DST = 1 << 1, OPT_SPEC_DST = 1 << 2,
    OPT_TTL = 1 << 3, OPT_TOS = 1 << 4, OPT_TIME = 1 << 5, OPT_DROPPED = 1 << 6
};

/* Where the info writer finds key strings and cached texts: keys in the
 * method's upvalues and texts in the keys table (base 0), or for a batch
 * all on the stack from base (key k at base + k - 1, text slot i at
 * base + PK_K_COUNT_ - 1 + i): lua_pushvalue is cheaper than lua_rawgeti. */
typedef struct info_ctx {
    int base;
    text_cache *c;
} info_ctx;

/* The cache of this Lua state, created on first use. */
static text_cache *get_cache(lua_State *L)
{
    text_cache *c;
    lua_rawgeti(L, PK_UV_KEYS, PK_K_CACHE);
    c = (text_cache *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (c) return c;
    c = (text_cache *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    lua_rawseti(L, PK_UV_KEYS, PK_K_CACHE);
    return c;
}

/* Pushes key string k. */
static void ckey(lua_State *L, const info_ctx *x, int k)
{
    if (x->base > 0) lua_pushvalue(L, x->base + k - 1);
    else lua_pushvalue(L, PK_UV_KEY(k));
}

/* Pushes the text of an address (4 or 16 bytes, scope for IPv6), from the
 * cache slot when it holds the same address. */
static void push_addr_text(lua_State *L, const info_ctx *x, int slot,
                           int family, const unsigned char *addr,
                           uint32_t scope)
{
    char text[PK_ADDRSTRLEN];
    addr_key k, *old = &x->c->key[slot];
    size_t n;
    if (old->family == (uint32_t)family && old->scope == scope
        && (family == AF_INET ? memcmp(old->addr, addr, 4) == 0
                              : memcmp(old->addr, addr, 16) == 0)) {
        if (x->base > 0) lua_pushvalue(L, x->base + PK_K_COUNT_ - 1 + slot);
        else lua_rawgeti(L, PK_UV_KEYS, PK_K_CACHE + 1 + slot);
        return;
    }
    memset(&k, 0, sizeof k);
    k.family = (uint32_t)family;
    k.scope = scope;
    memcpy(k.addr, addr, family == AF_INET ? 4 : 16);
    n = family == AF_INET ? pk_format_ip4(addr, text)
                          : pk_format_scoped(addr, scope, text);
    lua_pushlstring(L, text, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, PK_UV_KEYS, PK_K_CACHE + 1 + slot);
    if (x->base > 0) {
        lua_pushvalue(L, -1);
        lua_replace(L, x->base + PK_K_COUNT_ - 1 + slot);
    }
    *old = k;
}

/* Pushes the sender's text through the cache (v4-mapped shown as IPv4);
 * returns its IP family, *port gets the port. */
static int push_from_text(lua_State *L, const info_ctx *x,
                          const pk_sockaddr *a, int *port)
{
    if (a->sa.sa_family == AF_INET) {
        *port = ntohs(a->v4.sin_port);
        push_addr_text(L, x, SLOT_FROM, AF_INET,
                       (const unsigned char *)&a->v4.sin_addr, 0);
        return AF_INET;
    }
    *port = ntohs(a->v6.sin6_port);
    if (pk_ip6_is_v4mapped(a->v6.sin6_addr.s6_addr)) {
        push_addr_text(L, x, SLOT_FROM, AF_INET, a->v6.sin6_addr.s6_addr + 12, 0);
        return AF_INET;
    }
    push_addr_text(L, x, SLOT_FROM, AF_INET6, a->v6.sin6_addr.s6_addr,
                   a->v6.sin6_scope_id);
    return AF_INET6;
}

/* Pushes the text of an IPv4 or IPv6 address (unmapping v4-mapped) and
 * returns its IP family; *port gets the port. */
static int push_sockaddr_text(lua_State *L, const pk_sockaddr *a, int *port)
{
    char text[PK_ADDRSTRLEN];
    size_t n;
    if (a->sa.sa_family == AF_INET) {
        *port = ntohs(a->v4.sin_port);
        n = pk_format_ip4((const unsigned char *)&a->v4.sin_addr, text);
        lua_pushlstring(L, text, n);
        return AF_INET;
    }
    *port = ntohs(a->v6.sin6_port);
    if (pk_ip6_is_v4mapped(a->v6.sin6_addr.s6_addr)) {
        n = pk_format_ip4(a->v6.sin6_addr.s6_addr + 12, text);
        lua_pushlstring(L, text, n);
        return AF_INET;
    }
    n = pk_format_scoped(a->v6.sin6_addr.s6_addr, a->v6.sin6_scope_id, text);
    lua_pushlstring(L, text, n);
    return AF_INET6;
}

/* Pushes addr, port, family for getsockname. */
void pk_push_sockaddr(lua_State *L, const pk_sockaddr *a)
{
    int port;
    int fam = push_sockaddr_text(L, a, &port);
    lua_pushinteger(L, port);
    lua_pushstring(L, fam == AF_INET ? "inet" : "inet6");
}

/* t[k] = integer v */
static void set_int(lua_State *L, const info_ctx *x, int t, int k, lua_Integer v)
{
    ckey(L, x, k);
    lua_pushinteger(L, v);
    lua_rawset(L, t);
}

/* t[k] = nil, for fields an earlier datagram may have left in a reused
 * table (only if the module ever wrote that kind of field: opt). */
static void clear(lua_State *L, const info_ctx *x, int t, int k, unsigned opt)
{
    if (!(x->c->ever & opt)) return;
    ckey(L, x, k);
    lua_pushnil(L);
    lua_rawset(L, t);
}

/* The destination fields: addr, ifindex, spec_dst. */
static void set_destination(lua_State *L, const info_ctx *x, int t,
                            const pk_recvinfo *in, int clear_absent)
{
    if (!(in->has & PK_HAS_DST)) {
        if (clear_absent) {
            clear(L, x, t, PK_K_ADDR, OPT_DST);
            clear(L, x, t, PK_K_IFINDEX, OPT_DST);
            clear(L, x, t, PK_K_SPEC_DST, OPT_SPEC_DST);
        }
        return;
    }
    x->c->ever |= OPT_DST;
    ckey(L, x, PK_K_ADDR);
    push_addr_text(L, x, SLOT_DST, in->dst_family, in->dst,
                   in->dst_family == AF_INET6 && pk_ip6_is_linklocal(in->dst)
                   ? in->ifindex : 0);
    lua_rawset(L, t);
    set_int(L, x, t, PK_K_IFINDEX, in->ifindex);
    if (in->has & PK_HAS_SPEC_DST) {
        ckey(L, x, PK_K_SPEC_DST);
        push_addr_text(L, x, SLOT_SPEC_DST, AF_INET, in->spec_dst, 0);
        lua_rawset(L, t);
        x->c->ever |= OPT_SPEC_DST;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_SPEC_DST, OPT_SPEC_DST);
    }
}

/* The fields of the extra options: ttl, tos, ecn, time, dropped. */
static void set_extras(lua_State *L, const info_ctx *x, int t,
                       const pk_recvinfo *in, int clear_absent)
{
    if (in->has & PK_HAS_TTL) {
        set_int(L, x, t, PK_K_TTL, in->ttl);
        x->c->ever |= OPT_TTL;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_TTL, OPT_TTL);
    }
    if (in->has & PK_HAS_TOS) {
        set_int(L, x, t, PK_K_TOS, in->tos);
        set_int(L, x, t, PK_K_ECN, in->tos & 3);
        x->c->ever |= OPT_TOS;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_TOS, OPT_TOS);
        clear(L, x, t, PK_K_ECN, OPT_TOS);
    }
    if (in->has & PK_HAS_TIME) {
        ckey(L, x, PK_K_TIME);
        lua_pushnumber(L, (lua_Number)in->sec + (lua_Number)in->nsec * 1e-9);
        lua_rawset(L, t);
        x->c->ever |= OPT_TIME;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_TIME, OPT_TIME);
    }
    if (in->has & PK_HAS_DROPPED) {
        set_int(L, x, t, PK_K_DROPPED, in->dropped);
        x->c->ever |= OPT_DROPPED;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_DROPPED, OPT_DROPPED);
    }
}

/* Fills the info table at t (absolute index) for datagram d. With
 * clear_absent, fields that do not apply to d are removed. */
static void fill_info(lua_State *L, const info_ctx *x, int t,
                      const pk_datagram *d, int clear_absent)
{
    int port = 0, fam = AF_INET;

    ckey(L, x, PK_K_FROM);
    if (d->from.sa.sa_family == AF_INET || d->from.sa.sa_family == AF_INET6)
        fam = push_from_text(L, x, &d->from, &port);
    else
        lua_pushliteral(L, "");
    lua_rawset(L, t);
    set_int(L, x, t, PK_K_PORT, port);
    ckey(L, x, PK_K_FAMILY);
    ckey(L, x, fam == AF_INET ? PK_K_INET : PK_K_INET6);
    lua_rawset(L, t);
    ckey(L, x, PK_K_TRUNCATED);
    lua_pushboolean(L, d->truncated);
    lua_rawset(L, t);
    if (d->ctruncated) {
        ckey(L, x, PK_K_CTRUNCATED);
        lua_pushboolean(L, 1);
        lua_rawset(L, t);
        x->c->ever |= OPT_CTRUNC;
    } else if (clear_absent) {
        clear(L, x, t, PK_K_CTRUNCATED, OPT_CTRUNC);
    }
    if (d->info.has == 0 && !clear_absent) return;
    set_destination(L, x, t, &d->info, clear_absent);
    set_extras(L, x, t, &d->info, clear_absent);
}

/* Fills the info table at t (absolute index) for datagram d. With
 * clear_absent, fields that do not apply to d are removed. */
void pk_push_info(lua_State *L, int t, const pk_datagram *d, int clear_absent)
{
    info_ctx x;
    x.base = 0;                  /* keys from the method's upvalues */
    x.c = get_cache(L);
    fill_info(L, &x, t, d, clear_absent);
}

/* For a batch: pushes every key string, the cached texts and the cache
 * (PK_INFO_SLOTS values) and returns the index of the first, for pk_push_info_at. */
int pk_info_begin(lua_State *L)
{
    int k, base;
    get_cache(L);
    luaL_checkstack(L, PK_INFO_SLOTS + 8, "pktinfo batch");
    base = lua_gettop(L) + 1;
    for (k = 1; k < PK_K_COUNT_; k++) lua_rawgeti(L, PK_UV_KEYS, k);
    for (k = 0; k < SLOT_COUNT_; k++) lua_rawgeti(L, PK_UV_KEYS, PK_K_CACHE + 1 + k);
    lua_rawgeti(L, PK_UV_KEYS, PK_K_CACHE);
    return base;
}

/* pk_push_info with the strings pk_info_begin pushed at base. */
void pk_push_info_at(lua_State *L, int base, int t, const pk_datagram *d,
                     int clear_absent)
{
    info_ctx x;
    x.base = base;
    x.c = (text_cache *)lua_touserdata(L, base + PK_K_COUNT_ - 1 + SLOT_COUNT_);
    fill_info(L, &x, t, d, clear_absent);
}

/* pk_addr_parse of the string at idx (text, len), through the parse
 * cache. Only successes are kept (an unknown scope may appear later). */
static int cached_parse(lua_State *L, int idx, const char *text, size_t len,
                        pk_sockaddr *out)
{
    text_cache *c = get_cache(L);
    int i, rc;
    for (i = 0; i < PARSE_SLOTS; i++)
        if (c->parsed_text[i] == text) {
            *out = c->parsed[i];
            return PK_PARSE_OK;
        }
    rc = pk_addr_parse(text, len, out);
    if (rc != PK_PARSE_OK) return rc;
    i = (int)c->parsed_next;
    c->parsed_next = (c->parsed_next + 1) % PARSE_SLOTS;
    lua_pushvalue(L, idx);
    lua_rawseti(L, PK_UV_KEYS, PK_K_CACHE + 1 + SLOT_COUNT_ + i);
    c->parsed_text[i] = text;
    c->parsed[i] = *out;
    return rc;
}

/* Parses the address text at idx for socket s; raises naming arg (and
 * field, when the text came from a table field). With wildcard, "*" is
 * the socket family's any-address. */
static void parse_target(lua_State *L, int idx, int arg, const char *field,
                         const pk_sock *s, int wildcard, pk_target *out)
{
    size_t len;
    const char *text = lua_tolstring(L, idx, &len);
    int rc;
    if (!text || lua_type(L, idx) != LUA_TSTRING) {
        luaL_argerror(L, arg, lua_pushfstring(L, "%s%saddress text expected, got %s",
                      field ? field : "", field ? ": " : "", luaL_typename(L, idx)));
        return;
    }
    if (wildcard && len == 1 && text[0] == '*') {
        memset(out, 0, sizeof *out);
        out->sa.sa.sa_family = (sa_family_t)s->family;
        out->ip_family = s->family;
        return;
    }
    rc = cached_parse(L, idx, text, len, &out->sa);
    if (rc != PK_PARSE_OK) {
        luaL_argerror(L, arg, lua_pushfstring(L, "%s%s%s: '%s'",
                      field ? field : "", field ? ": " : "",
                      rc == PK_PARSE_NOSCOPE ? "unknown interface in scope"
                                             : "not a numeric IP address",
                      text));
        return;
    }
    pk_addr_unmap(&out->sa);
    out->ip_family = out->sa.sa.sa_family;
    if (s->family == AF_INET && out->ip_family == AF_INET6)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s%sIPv6 address on an inet socket: '%s'",
                      field ? field : "", field ? ": " : "", text));
    if (s->family == AF_INET6) pk_addr_map(&out->sa);
}

/* An address argument for socket s (see parse_target). */
void pk_check_target(lua_State *L, int arg, const pk_sock *s, int wildcard,
                     pk_target *out)
{
    parse_target(L, arg, arg, NULL, s, wildcard, out);
}

/* The address text at stack index idx, a field of the table at arg. */
void pk_check_field_target(lua_State *L, int idx, int arg, const char *field,
                           const pk_sock *s, pk_target *out)
{
    parse_target(L, idx, arg, field, s, 0, out);
}

/* A port argument, 0..65535. */
uint16_t pk_check_port(lua_State *L, int arg)
{
    lua_Integer p = pk_checkinteger(L, arg);
    luaL_argcheck(L, p >= 0 && p <= 65535, arg, "port out of range 0..65535");
    return (uint16_t)p;
}

/* A name argument (family, protocol, option, interface): a string without
 * an embedded NUL, so that "lo\0junk" is not taken for "lo". */
const char *pk_check_name(lua_State *L, int arg)
{
    size_t len;
    const char *name = luaL_checklstring(L, arg, &len);
    if (strlen(name) != len)
        luaL_argerror(L, arg, lua_pushfstring(L, "name with an embedded NUL: '%s'", name));
    return name;
}

/* An interface argument: an index, or a name looked up now. */
uint32_t pk_check_iface(lua_State *L, int arg)
{
    if (lua_type(L, arg) == LUA_TNUMBER) {
        lua_Integer i = pk_checkinteger(L, arg);
        luaL_argcheck(L, i >= 0 && i <= 0x7fffffff, arg, "interface index out of range");
        return (uint32_t)i;
    }
    if (lua_type(L, arg) == LUA_TSTRING) {
        unsigned idx = if_nametoindex(pk_check_name(L, arg));
        if (idx == 0)
            luaL_argerror(L, arg, lua_pushfstring(L, "unknown interface '%s'",
                                                  lua_tostring(L, arg)));
        return idx;
    }
    pk_typeerror(L, arg, "interface name or index");
    return 0;
}

/* Pushes t[k] (raw) and returns its type. Only the table methods call it,
 * and they carry the key strings as upvalues (lsocket.c). */
int pk_get_field(lua_State *L, int t, int k)
{
    lua_pushvalue(L, PK_UV_KEY(k));
    lua_rawget(L, t);
    return lua_type(L, -1);
}

/* Reads t.port (a table at arg) as a port; raises naming field. */
uint16_t pk_field_port(lua_State *L, int t, int arg, const char *field)
{
    int isint = 0;
    lua_Integer port;
    pk_get_field(L, t, PK_K_PORT);
    port = pk_tointegerx(L, -1, &isint);
    if (lua_type(L, -1) != LUA_TNUMBER || !isint || port < 0 || port > 65535)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s: port 0..65535 expected", field));
    lua_pop(L, 1);
    return (uint16_t)port;
}

/* Reads an IP address field (already pushed) as raw bytes; returns its
 * family. Raises naming arg and the field. */
static int field_ip(lua_State *L, int arg, const char *field,
                    unsigned char *bytes)
{
    pk_target t;
    static const pk_sock v6sock = {PK_NO_SOCKET, AF_INET6, 0, 0, 0, 0, NULL, 0, 0};
    parse_target(L, lua_gettop(L), arg, field, &v6sock, 0, &t);
    pk_addr_unmap(&t.sa);
    if (t.ip_family == AF_INET) memcpy(bytes, &t.sa.v4.sin_addr, 4);
    else memcpy(bytes, t.sa.v6.sin6_addr.s6_addr, 16);
    return t.ip_family;
}

/* Reads an integer field (already pushed) in lo..hi; raises otherwise. */
static lua_Integer field_int(lua_State *L, int arg, const char *field,
                             lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = 0;
    int ok = lua_type(L, -1) == LUA_TNUMBER;
    if (ok)   /* pk_num2int: no cast of NaN or 1e300 (undefined in C) */
        ok = pk_num2int(lua_tonumber(L, -1), &v) && v >= lo && v <= hi;
    if (!ok)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s: integer %d..%d expected",
                      field, (int)lo, (int)hi));
    lua_pop(L, 1);
    return v;
}

/* An info table: the reply rules choose source and interface. */
static void read_reply_source(lua_State *L, int t, int arg,
                              pk_sendsrc *src)
{
    pk_request req;
    memset(&req, 0, sizeof req);
    if (pk_get_field(L, t, PK_K_ADDR) != LUA_TNIL) {
        req.family = field_ip(L, arg, "addr", req.dst);
        req.has_dst = 1;
    }
    lua_pop(L, 1);
    if (!req.has_dst) { src->has = 0; return; }
    if (pk_get_field(L, t, PK_K_SPEC_DST) != LUA_TNIL && req.family == AF_INET) {
        unsigned char b[16];
        if (field_ip(L, arg, "spec_dst", b) == AF_INET) {
            memcpy(req.spec_dst, b, 4);
            req.has_spec_dst = 1;
        }
    }
    lua_pop(L, 1);
    if (pk_get_field(L, t, PK_K_IFINDEX) != LUA_TNIL)
        req.ifindex = (uint32_t)field_int(L, arg, "ifindex", 0, 0x7fffffff);
    else
        lua_pop(L, 1);
    if (pk_get_field(L, t, PK_K_FROM) == LUA_TSTRING)
        req.peer_family = field_ip(L, arg, "from", req.peer);
    lua_pop(L, 1);
    /* a lookup error leaves src pinned to req.ifindex with no source, so
     * the kernel refuses a vanished interface: nil, msg, "ENODEV" */
    (void)pk_reply_source(&req, pk_iface_addr, NULL, src);
}

/* Any other table: addr and ifindex taken literally. */
static void read_literal_source(lua_State *L, int t, int arg,
                                pk_sendsrc *src)
{
    src->has = 0;
    if (pk_get_field(L, t, PK_K_ADDR) != LUA_TNIL) {
        src->family = field_ip(L, arg, "addr", src->addr);
        src->has |= PK_SRC_ADDR;
    }
    lua_pop(L, 1);
    if (pk_get_field(L, t, PK_K_IFINDEX) != LUA_TNIL) {
        src->ifindex = (uint32_t)field_int(L, arg, "ifindex", 0, 0x7fffffff);
        src->has |= PK_SRC_IFINDEX;
    } else {
        lua_pop(L, 1);
    }
}

/* Reads the source table at t (absolute) for a datagram to an address of
 * dst_family; raises naming arg on a malformed table. */
void pk_read_source(lua_State *L, int t, int arg, int dst_family,
                    pk_sendsrc *src)
{
    int reply = pk_get_field(L, t, PK_K_FROM) != LUA_TNIL;
    lua_pop(L, 1);
    if (reply) read_reply_source(L, t, arg, src);
    else read_literal_source(L, t, arg, src);
    if (pk_get_field(L, t, PK_K_TTL) != LUA_TNIL) {
        src->ttl = (int)field_int(L, arg, "ttl", 0, 255);
        src->has |= PK_SRC_TTL;
    } else {
        lua_pop(L, 1);
    }
    if (pk_get_field(L, t, PK_K_TOS) != LUA_TNIL) {
        src->tos = (int)field_int(L, arg, "tos", 0, 255);
        src->has |= PK_SRC_TOS;
    } else {
        lua_pop(L, 1);
    }
    if ((src->has & PK_SRC_ADDR) && src->family != dst_family)
        luaL_argerror(L, arg, dst_family == AF_INET
                      ? "source is IPv6 but the destination is IPv4"
                      : "source is IPv4 but the destination is IPv6");
}
