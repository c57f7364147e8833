/* Preloaded after clang's ASan runtime into the sanitized interpreter of
 * `make check-asan` (build/asan/lua): forgets LD_PRELOAD once the runtime is
 * in, so the programs the specs start (sh, ip, gcc, dig...) run unsanitized
 * and their own leaks are not reported as ours. Lua helper processes are
 * started through the same wrapper and get the runtime again. */
#include <stdlib.h>

__attribute__((constructor)) static void pk_forget_preload(void)
{
    unsetenv("LD_PRELOAD");
}
