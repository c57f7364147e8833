/* A signal storm for spec/51-load_spec.lua, built by that spec with the
 * headers of the Lua running it. Lua has no signal API (and Debian's
 * lua-posix has no 5.4 build), so this tiny module does the one thing the
 * test needs: an interval timer that raises SIGALRM every `usec`
 * microseconds with a handler installed *without* SA_RESTART, so that
 * every blocking poll()/recvmsg() in the module can fail with EINTR.
 *   local storm = require "sigstorm"
 *   storm.start(1000)   -- every millisecond
 *   ... blocking and timed receives ...
 *   local n = storm.stop()   -- signals delivered; handler and timer undone */
#define _POSIX_C_SOURCE 200809L
#include <lua.h>
#include <lauxlib.h>

#include <signal.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t delivered;
static struct sigaction previous;
static int running;

/* Counts; does nothing else (async-signal-safe). */
static void on_alarm(int sig)
{
    (void)sig;
    delivered++;
}

/* Sets the timer's interval (0 stops it). */
static int set_timer(long usec)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_interval.tv_sec = usec / 1000000;
    t.it_interval.tv_usec = usec % 1000000;
    t.it_value = t.it_interval;
    return setitimer(ITIMER_REAL, &t, NULL);
}

/* storm.start(usec) -> true */
static int l_start(lua_State *L)
{
    long usec = (long)luaL_checknumber(L, 1);
    struct sigaction sa;
    luaL_argcheck(L, usec > 0 && usec < 10000000, 1, "interval out of range");
    if (running) return luaL_error(L, "storm already running");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                       /* no SA_RESTART: EINTR it is */
    if (sigaction(SIGALRM, &sa, &previous)) return luaL_error(L, "sigaction failed");
    delivered = 0;
    running = 1;
    if (set_timer(usec)) return luaL_error(L, "setitimer failed");
    lua_pushboolean(L, 1);
    return 1;
}

/* storm.stop() -> signals delivered since start */
static int l_stop(lua_State *L)
{
    if (running) {
        set_timer(0);
        sigaction(SIGALRM, &previous, NULL);
        running = 0;
    }
    lua_pushnumber(L, (lua_Number)delivered);
    return 1;
}

/* storm.count() -> signals delivered so far */
static int l_count(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)delivered);
    return 1;
}

int luaopen_sigstorm(lua_State *L);
int luaopen_sigstorm(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, l_start);
    lua_setfield(L, -2, "start");
    lua_pushcfunction(L, l_stop);
    lua_setfield(L, -2, "stop");
    lua_pushcfunction(L, l_count);
    lua_setfield(L, -2, "count");
    return 1;
}
