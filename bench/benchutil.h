/* SPDX-License-Identifier: MIT
 * benchutil: small helpers shared by the benchmark programs. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/* Monotonic time in seconds. */
double bu_now(void);

/* The value of key in a msgpack map object, or NULL (also when o is not a map). */
const msgpack_object *bu_map_get(const msgpack_object *o, const char *key);

/* True when o is a str equal to s. */
bool bu_str_eq(const msgpack_object *o, const char *s);

/* o as an unsigned integer, or def. */
uint64_t bu_uint(const msgpack_object *o, uint64_t def);

/* Reads a whole file into a malloc'd, NUL-terminated buffer; NULL on error. */
char *bu_read_file(const char *path, size_t *len);

/* Peak resident set size (VmHWM) of process pid in kB, or 0. */
unsigned long bu_vmhwm_kb(int pid);

#endif
