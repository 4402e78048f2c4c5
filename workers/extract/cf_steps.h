/* SPDX-License-Identifier: MIT
 * cf_steps: a work counter for tests (internal to libcfextract, not installed).
 * The extractor's loops add one step per token scanned, phrase probed, mention
 * visited or byte checked, so a test can assert that the work grows linearly with
 * the input without timing anything (DESIGN.md "Tests"). Per thread: an extractor
 * used by several threads counts each thread's work on its own. */
#ifndef CF_STEPS_H
#define CF_STEPS_H

#include <stdint.h>

extern _Thread_local uint64_t cf__steps;

#define CF_STEP() ((void)cf__steps++)
#define CF_STEPS(n) ((void)(cf__steps += (uint64_t)(n)))

/* Steps counted on this thread since the last cf_steps_reset. */
uint64_t cf_steps_read(void);

/* Sets this thread's counter to 0. */
void cf_steps_reset(void);

#endif
