/* Shared helpers for the tests: fixtures, a failing allocator. */
#ifndef VOX_TESTUTIL_H
#define VOX_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <vox/vox.h>

#include "util/clock.h"

/* Read a whole fixture file (name relative to $VOX_FIXTURES, default
 * tests/fixtures). Fails the test when missing. Caller frees with free(). */
char *tu_fixture(const char *name, size_t *len);
/* Names of every fixture ending in suffix (e.g. ".s2c.raw"), NULL-terminated;
 * free with tu_free_names. */
char **tu_fixture_names(const char *suffix);
void tu_free_names(char **names);

/* The failing allocator: after tu_fail_after(k), allocations 0..k-1 succeed
 * and every later one fails, until tu_fail_off(). tu_alloc_count() counts
 * allocations since tu_fail_after/tu_count_start. tu_live() is the number of
 * blocks allocated through it and not yet freed (a leak check). Installed
 * with tu_alloc_install(), which calls vox_set_allocator. */
void tu_alloc_install(void);
void tu_alloc_uninstall(void);
void tu_fail_after(long k);
void tu_fail_off(void);
long tu_alloc_count(void);
long tu_live(void);

#endif
