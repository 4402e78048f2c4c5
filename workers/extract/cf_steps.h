/* SPDX-License-Identifier: MIT
 * cf_steps: a work counter for tests (internal to libcfextract, not installed).
 * The extractor's loops add one step per token scanned, phrase probed, mention
 * visited or byte checked, so a test can assert that the work grows linearly with
 * the input without timing anything (DESIGN.md "Tests"). Per thread: an extractor
 * used by several threads counts each thread's work on its own. */
#ifndef CF_STEPS_H
#define CF_STEPS_H

#include <stdint.h>

/* The library is linked into executables only: there the counter can be addressed
 * straight off the thread pointer (one instruction per step, no register), where
 * the default model loads its offset first. A shared build keeps the default. */
#if !defined(__PIC__) || defined(__PIE__)
extern _Thread_local uint64_t cf__steps __attribute__((tls_model("local-exec")));
#else
extern _Thread_local uint64_t cf__steps;
#endif

#define CF_STEP() ((void)cf__steps++)
#define CF_STEPS(n) ((void)(cf__steps += (uint64_t)(n)))

/* Steps counted on this thread since the last cf_steps_reset. */
uint64_t cf_steps_read(void);

/* Sets this thread's counter to 0. */
void cf_steps_reset(void);

#endif
