/* The C unit tests' one assertion: counts passes, prints each failure with
 * its place, and goes on. */
#ifndef PK_CHECK_H
#define PK_CHECK_H

#include <stdio.h>

extern int pk_passed, pk_failed;

#define CHECK(cond, ...) do { \
    if (cond) pk_passed++; \
    else { pk_failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
           printf(__VA_ARGS__); printf("\n"); } } while (0)

/* spec/c/test_platforms.c: every platform's control-message bytes. */
void test_platforms(void);

#endif
