/* SPDX-License-Identifier: MIT
 * fuzz_config: arbitrary bytes as cloudfactd's configuration file. Must never
 * crash; either a config or an error naming file:line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/cf-fuzz-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    char *argv[] = {"cloudfactd", "--config", path, NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *cfg = cf_config_load(3, argv, &src, &err);
    if (cfg) {
        cf_config_t *again = cf_config_reload(src, &err);
        cf_config_destroy(&again);
    }
    cf_config_destroy(&cfg);
    cf_config_src_destroy(&src);
    unlink(path);
    return 0;
}
