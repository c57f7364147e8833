---@meta pktinfo
-- luacheck: ignore 212 241
-- LuaCATS annotations of lua-pktinfo for lua-language-server: completion
-- and type checks in editors. Not a module (never `require` it): add this
-- directory to the language server's library, e.g. in .luarc.json
--   { "workspace.library": ["path/to/lua-pktinfo/types"] }
-- The README's API tables are the reference; spec/64-cli_types_spec.lua
-- checks that every method and info-table field named there is here, and
-- nothing more.

---@alias pktinfo.family "inet"|"inet6"

---@alias pktinfo.option
---| "reuseaddr"
---| "reuseport"
---| "broadcast"
---| "rcvbuf"          # integer; Linux reports double
---| "sndbuf"          # integer; Linux reports double
---| "v6only"
---| "ttl"             # integer: TTL / hop limit of every datagram sent
---| "tos"             # integer: TOS / traffic class of every datagram sent
---| "recvttl"         # info.ttl
---| "recvtos"         # info.tos, info.ecn
---| "timestamp"       # info.time
---| "rxq_ovfl"        # info.dropped (Linux)
---| "multicast-ttl"
---| "multicast-loop"
---| "multicast-if"    # an interface name or index
---| "recverr"         # queue ICMP and local errors for recverr() (Linux)
---| "mtu-discover"    # "dont", "want", "do", "probe" (Windows: "do", "dont")
---| "mtu"             # read only: the path MTU of a connected socket
---| "device"          # an interface (or VRF) name; "" unbinds (Windows: outgoing interface only)
---| "mark"            # integer 0..4294967295: the packet mark (Linux)
---| "freebind"        # bind to an address that is not (yet) local (Linux)
---| "transparent"     # bind to and send from any address, TPROXY (Linux)
---| "recvorigdst"     # info.orig_dst, info.orig_port (Linux)
---| "gro"             # receive coalesced buffers, cut into datagrams (Linux); stays on once on
---| "gso"             # sendmany sends runs of alike items as UDP_SEGMENT sends (Linux)

--- Options of `udp`, `raw` and `wrap`, set before `bind`. An unknown key raises.
---@class pktinfo.opts
---@field v6only? boolean an `inet6` socket takes only IPv6 (default: dual-stack)
---@field reuseaddr? boolean
---@field reuseport? boolean
---@field broadcast? boolean
---@field rcvbuf? integer
---@field sndbuf? integer
---@field pktinfo? boolean turn packet info on at creation
---@field timeout? number seconds; see `settimeout`
---@field own? boolean `wrap` only: closing the socket closes the descriptor
---@field device? string|false bind to an interface or VRF by name (see "Gateways")
---@field mark? integer the packet mark, 0..4294967295 (Linux)
---@field freebind? boolean bind to an address that is not (yet) local (Linux)
---@field transparent? boolean TPROXY: bind to and send from any address (Linux)
---@field recvorigdst? boolean report info.orig_dst and info.orig_port (Linux)
---@field recverr? boolean queue ICMP and local errors for recverr() (Linux)
---@field ["mtu-discover"]? "dont"|"want"|"do"|"probe"|false path MTU discovery

--- What `recv` reports about one datagram.
---@class pktinfo.info
---@field from string the sender's address (IPv4 text for IPv4 datagrams, also on dual-stack sockets; link-local with `%scope`)
---@field port integer the sender's port (0 for raw sockets)
---@field family pktinfo.family the datagram's IP version
---@field addr? string packet info on: the destination address in the packet's header
---@field ifindex? integer packet info on: the index of the interface it arrived on
---@field spec_dst? string packet info on, IPv4 (Linux): the local address a reply should come from
---@field truncated boolean the datagram was longer than `size`
---@field ctruncated? true only when the kernel had to cut the control data
---@field ttl? integer option `recvttl`: IPv4 TTL or IPv6 hop limit
---@field tos? integer option `recvtos`: IPv4 TOS or IPv6 traffic class
---@field ecn? integer option `recvtos`: the two low bits of `tos` (0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE)
---@field time? number option `timestamp`: kernel receive time, seconds since the epoch
---@field dropped? integer option `rxq_ovfl` (Linux): datagrams dropped so far on this socket for lack of buffer space
---@field orig_dst? string option `recvorigdst` (Linux): the destination address before a TPROXY or REDIRECT rule changed it
---@field orig_port? integer option `recvorigdst` (Linux): the destination port before such a rule

--- What `recverr()` reports about one queued error (README, "Gateways").
---@class pktinfo.errinfo
---@field to string where the failed datagram was going
---@field port integer its destination port
---@field family pktinfo.family the IP version of `to`
---@field err string the error's name: "ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EACCES", "EMSGSIZE", ...
---@field origin "local"|"icmp"|"icmp6"|"timestamping"|"zerocopy"|"txtime"|"none"
---@field type? integer the ICMP type (ICMP errors only)
---@field code? integer the ICMP code (ICMP errors only)
---@field offender? string who sent the ICMP message (ICMP errors only)
---@field mtu? integer for EMSGSIZE: the path MTU
---@field truncated boolean the quoted part was longer than the module keeps (4096 bytes)

--- One datagram of `recvmany`: its info table with the data added.
---@class pktinfo.msg: pktinfo.info
---@field data string

--- A source read literally (any table without `from`); an info table
--- (with `from`) is read by the reply rules instead.
---@class pktinfo.src
---@field addr? string the source address
---@field ifindex? integer the outgoing interface
---@field ttl? integer TTL / hop limit of this datagram only
---@field tos? integer TOS / traffic class of this datagram only
---@field segment? integer `sendto` only: send the data as datagrams of this many bytes (the last shorter)

--- TTL and TOS of one datagram (`reply`'s `out`, a `sendmany` item's `out`).
---@class pktinfo.out
---@field ttl? integer TTL / hop limit of this datagram only
---@field tos? integer TOS / traffic class of this datagram only

--- One item of `sendmany`: `to`/`port` default to `from`/`port`, so an
--- info table from `recvmany` with `data` replaced is an item (an info
--- table's own ttl/tos are never sent: use `out`).
---@class pktinfo.item: pktinfo.src
---@field data string
---@field to? string
---@field port? integer
---@field from? string
---@field out? pktinfo.out

--- A datagram or raw socket. Methods the operating system refuses return
--- `nil, message, errname`; a closed socket gives `nil, "closed", "EBADF"`,
--- a timeout `nil, "timeout", "ETIMEDOUT"`.
---@class pktinfo.socket
local socket = {}

--- Binds to a local address (`"*"`: the wildcard of the socket's family) and port.
---@param addr string
---@param port integer
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:bind(addr, port) end

--- The local address, port and family (a v4-mapped address shows as IPv4, family `"inet"`).
---@return string|nil addr
---@return integer|string port_or_err
---@return string family_or_errname
function socket:getsockname() end

--- Turns packet info on or off (on a dual-stack socket, for IPv4 and IPv6).
---@param on any truthiness
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:setpktinfo(on) end

--- Whether packet info is on, read back from the kernel.
---@return boolean|nil on
---@return string? err
---@return string? errname
function socket:getpktinfo() end

--- Receives one datagram (default `size` 65535, at most 1 MiB); with
--- `into`, fills and returns that table.
---@param size? integer
---@param into? table
---@return string|nil data
---@return pktinfo.info|string info_or_err
---@return string? errname
function socket:recv(size, into) end

--- Up to `n` (1..1024) datagrams in one call; waits for the first only.
---@param n integer
---@param size? integer
---@param into? pktinfo.msg[]
---@return pktinfo.msg[]|nil msgs
---@return string? err
---@return string? errname
function socket:recvmany(n, size, into) end

--- Sends up to 1024 datagrams in one call; returns how many were sent,
--- and when some were not: the first one's error and the list of items
--- not sent.
---@param list pktinfo.item[]
---@return integer|nil count
---@return string? err
---@return string? errname
---@return integer[]? failed
function socket:sendmany(list) end

--- Sends one datagram; `src` chooses the source (a literal table, or an
--- info table read by the reply rules); with `src.segment`, the data as
--- datagrams of that many bytes (one UDP_SEGMENT send with option gso).
---@param data string
---@param addr string
---@param port integer
---@param src? pktinfo.src|pktinfo.info
---@return integer|nil bytes
---@return string? err
---@return string? errname
function socket:sendto(data, addr, port, src) end

--- Answers a datagram from the address and interface it arrived on:
--- `sendto(data, info.from, info.port, info)`; `out` sets the TTL and TOS
--- of this datagram (the request's own are never sent back).
---@param data string
---@param info pktinfo.info
---@param out? pktinfo.out
---@return integer|nil bytes
---@return string? err
---@return string? errname
function socket:reply(data, info, out) end

--- Sets a socket option.
---@param name pktinfo.option
---@param value boolean|integer|string
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:setoption(name, value) end

--- Reads a socket option back from the kernel.
---@param name pktinfo.option
---@return boolean|integer|string|nil value
---@return string? err
---@return string? errname
function socket:getoption(name) end

--- Joins a multicast group, on an interface (name or index; `nil`/`0`: the
--- kernel's route to the group); with `source`, only that sender's datagrams.
---@param group string
---@param iface? string|integer
---@param source? string
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:join(group, iface, source) end

--- Leaves a multicast group (see `join`).
---@param group string
---@param iface? string|integer
---@param source? string
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:leave(group, iface, source) end

--- Connects the socket to one peer (`send` goes there, `recv` takes only
--- its datagrams); `setpeername("*")` dissolves it.
---@param addr string
---@param port? integer
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:setpeername(addr, port) end

--- The connected peer: address, port, family (`nil, msg, "ENOTCONN"` when none).
---@return string|nil addr
---@return integer|string port_or_err
---@return string family_or_errname
function socket:getpeername() end

--- Sends one datagram to the connected peer; `out` = `{ttl=, tos=}` for it only.
---@param data string
---@param out? { ttl?: integer, tos?: integer }
---@return integer|nil bytes
---@return string? err
---@return string? errname
function socket:send(data, out) end

--- Sets any socket option: `level` a number or "socket", "ip", "ipv6",
--- "udp"; `value` a C int or a string of at most 256 bytes.
---@param level integer|"socket"|"ip"|"ipv6"|"udp"
---@param name integer
---@param value integer|string
---@return true|nil ok
---@return string? err
---@return string? errname
function socket:setsockopt(level, name, value) end

--- Reads any socket option: an integer, or with `size` (1..256) a string
--- of at most `size` bytes as the kernel gives them.
---@param level integer|"socket"|"ip"|"ipv6"|"udp"
---@param name integer
---@param size? integer
---@return integer|string|nil value
---@return string? err
---@return string? errname
function socket:getsockopt(level, name, size) end

--- One queued ICMP or local error (option `recverr`, Linux): the quoted
--- part of the failed datagram and what happened to it.
---@return string|nil data
---@return pktinfo.errinfo|string info_or_err
---@return string? errname
function socket:recverr() end

--- `nil` or negative: block; `0`: never wait; `t > 0`: seconds.
---@param t number|nil
---@return true
function socket:settimeout(t) end

--- The descriptor, for event loops; `-1` once closed.
---@return integer
function socket:getfd() end

--- The cqueues polling protocol: the descriptor.
---@return integer
function socket:pollfd() end

--- The cqueues polling protocol: always `"r"`.
---@return "r"
function socket:events() end

--- The cqueues polling protocol: the `settimeout` value in seconds, or nil
--- (0 while datagrams wait in the socket itself, option gro).
---@return number?
function socket:timeout() end

--- Lets LuaSocket's `socket.select` take the socket: true while datagrams
--- of a coalesced buffer (option gro) wait in the socket itself.
---@return boolean
function socket:dirty() end

--- Closes the socket; idempotent.
---@return true
function socket:close() end

---@class pktinfo
---@field _VERSION string the module's version, e.g. "0.2.0"
---@field IP_PKTINFO integer the platform's option number (8 on Linux, 19 on Windows)
---@field IPV6_PKTINFO integer the platform's option number (50 on Linux, 19 on Windows)
local pktinfo = {}

--- A UDP socket; `inet6` is dual-stack unless `opts.v6only`.
---@param family? pktinfo.family
---@param opts? pktinfo.opts
---@return pktinfo.socket|nil sock
---@return string? err
---@return string? errname
function pktinfo.udp(family, opts) end

--- A raw socket (needs root or CAP_NET_RAW); `protocol` a number or a name
--- ("icmp", "icmpv6", "udp", ...).
---@param family pktinfo.family
---@param protocol integer|string
---@param opts? pktinfo.opts
---@return pktinfo.socket|nil sock
---@return string? err
---@return string? errname
function pktinfo.raw(family, protocol, opts) end

--- Adopts a descriptor, or an object with `:getfd()` (a LuaSocket udp
--- object); borrowed unless `opts.own`.
---@param fd_or_object integer|{ getfd: fun(self): integer }
---@param opts? pktinfo.opts
---@return pktinfo.socket|nil sock
---@return string? err
---@return string? errname
function pktinfo.wrap(fd_or_object, opts) end

--- The name of an interface index.
---@param ifindex integer
---@return string|nil name
---@return string? err
---@return string? errname
function pktinfo.ifname(ifindex) end

--- The index of an interface name.
---@param name string
---@return integer|nil ifindex
---@return string? err
---@return string? errname
function pktinfo.ifindex(name) end

--- One interface of `pktinfo.interfaces()`.
---@class pktinfo.interface
---@field index integer the interface index
---@field name string its name
---@field up boolean whether it is up
---@field addrs string[] its addresses as "addr/prefix" ("fe80::1%eth0/64" for link-local IPv6)

--- The host's interfaces, with their addresses.
---@return pktinfo.interface[]|nil list
---@return string? err
---@return string? errname
function pktinfo.interfaces() end

--- One readable line for an info table.
---@param info pktinfo.info
---@return string
function pktinfo.describe(info) end

return pktinfo
