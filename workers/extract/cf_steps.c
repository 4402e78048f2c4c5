/* SPDX-License-Identifier: MIT
 * cf_steps: the per-thread work counter (see cf_steps.h). */
#include "cf_steps.h"

_Thread_local uint64_t cf__steps;

uint64_t
cf_steps_read(void)
{
    return cf__steps;
}

void
cf_steps_reset(void)
{
    cf__steps = 0;
}
