/* The interface functions of the module table (liface.c). */
#ifndef PK_LIFACE_H
#define PK_LIFACE_H

#include "compat.h"

void pk_open_iface(lua_State *L);

#endif
