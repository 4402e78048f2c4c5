/* SPDX-License-Identifier: MIT
 * cf_test_vfs: a SQLite VFS for unit tests, over the default one, that makes the
 * writes to some files fail with SQLITE_FULL, as a full disk would, while
 * cf_test_vfs_full says so, and counts the bytes read from databases
 * (cf_test_vfs_db_read); otherwise it passes everything through. Registered as
 * the default, it sits under every connection that names no VFS, and under
 * cf_walbuf when that registers after it. */
#ifndef CF_TEST_VFS_H
#define CF_TEST_VFS_H

#include <stdatomic.h>

#include <sqlite3.h>

#include "cf_test.h"

enum {
    CF_TEST_FULL_WAL = 1 << 0, /* writes to WAL files fail */
    CF_TEST_FULL_DB = 1 << 1   /* writes to main database files fail */
};

/* CF_TEST_FULL_* bits: the files whose writes fail now with SQLITE_FULL */
static int cf_test_vfs_full;

typedef struct faulty_file {
    sqlite3_file base;
    const sqlite3_io_methods *m; /* the file below's own (databases and journals differ) */
    int kind;                    /* CF_TEST_FULL_WAL, CF_TEST_FULL_DB or 0 */
} faulty_file;

static sqlite3_vfs faulty_vfs, *plain_vfs;
static sqlite3_io_methods faulty_methods;

#define UNDER(p) ((sqlite3_file *)((faulty_file *)(p) + 1))
#define M(p) (((faulty_file *)(p))->m)

static int
faulty_xWrite(sqlite3_file *p, const void *data, int n, sqlite3_int64 off)
{
    if (((faulty_file *)p)->kind & cf_test_vfs_full)
        return SQLITE_FULL;
    return M(p)->xWrite(UNDER(p), data, n, off);
}

static int
faulty_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags, int *out)
{
    (void)vfs;
    faulty_file *f = (faulty_file *)p;
    f->kind = (flags & SQLITE_OPEN_WAL)       ? CF_TEST_FULL_WAL
              : (flags & SQLITE_OPEN_MAIN_DB) ? CF_TEST_FULL_DB
                                              : 0;
    int rc = plain_vfs->xOpen(plain_vfs, name, UNDER(p), flags, out);
    if (rc != SQLITE_OK || !UNDER(p)->pMethods) {
        p->pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->m = UNDER(p)->pMethods;
    p->pMethods = &faulty_methods;
    return SQLITE_OK;
}

#define FORWARD(name, params, args)                                                                \
    static int faulty_##name params                                                                \
    {                                                                                              \
        return M(p)->name args;                                                                    \
    }
FORWARD(xClose, (sqlite3_file * p), (UNDER(p)))

/* bytes read from main database files (not WAL, not journals), by every connection */
static _Atomic unsigned long long cf_test_vfs_db_read;

static int
faulty_xRead(sqlite3_file *p, void *d, int n, sqlite3_int64 o)
{
    if (((faulty_file *)p)->kind & CF_TEST_FULL_DB)
        cf_test_vfs_db_read += (unsigned long long)n;
    return M(p)->xRead(UNDER(p), d, n, o);
}
FORWARD(xTruncate, (sqlite3_file * p, sqlite3_int64 s), (UNDER(p), s))
FORWARD(xSync, (sqlite3_file * p, int f), (UNDER(p), f))
FORWARD(xFileSize, (sqlite3_file * p, sqlite3_int64 *s), (UNDER(p), s))
FORWARD(xLock, (sqlite3_file * p, int l), (UNDER(p), l))
FORWARD(xUnlock, (sqlite3_file * p, int l), (UNDER(p), l))
FORWARD(xCheckReservedLock, (sqlite3_file * p, int *o), (UNDER(p), o))
FORWARD(xFileControl, (sqlite3_file * p, int op, void *a), (UNDER(p), op, a))
FORWARD(xSectorSize, (sqlite3_file * p), (UNDER(p)))
FORWARD(xDeviceCharacteristics, (sqlite3_file * p), (UNDER(p)))
FORWARD(xShmMap, (sqlite3_file * p, int r, int s, int e, void volatile **pp),
        (UNDER(p), r, s, e, pp))
FORWARD(xShmLock, (sqlite3_file * p, int o, int n, int f), (UNDER(p), o, n, f))
FORWARD(xShmUnmap, (sqlite3_file * p, int d), (UNDER(p), d))

static void
faulty_xShmBarrier(sqlite3_file *p)
{
    M(p)->xShmBarrier(UNDER(p));
}

/* Registers the VFS as the default (over the default of the moment). Once per
 * process. */
static void
cf_test_vfs_register(void)
{
    plain_vfs = sqlite3_vfs_find(NULL);
    faulty_vfs = *plain_vfs;
    faulty_vfs.zName = "cf-test-faulty";
    faulty_vfs.szOsFile = (int)sizeof(faulty_file) + plain_vfs->szOsFile;
    faulty_vfs.xOpen = faulty_open;
    faulty_vfs.pNext = NULL;
    faulty_methods = (sqlite3_io_methods){
        .iVersion = 2, /* no memory map: SQLite reads instead */
        .xClose = faulty_xClose,
        .xRead = faulty_xRead,
        .xWrite = faulty_xWrite,
        .xTruncate = faulty_xTruncate,
        .xSync = faulty_xSync,
        .xFileSize = faulty_xFileSize,
        .xLock = faulty_xLock,
        .xUnlock = faulty_xUnlock,
        .xCheckReservedLock = faulty_xCheckReservedLock,
        .xFileControl = faulty_xFileControl,
        .xSectorSize = faulty_xSectorSize,
        .xDeviceCharacteristics = faulty_xDeviceCharacteristics,
        .xShmMap = faulty_xShmMap,
        .xShmLock = faulty_xShmLock,
        .xShmBarrier = faulty_xShmBarrier,
        .xShmUnmap = faulty_xShmUnmap,
    };
    CF_CHECK_INT(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

/* the short names were for the definitions above: not for the files that include this */
#undef FORWARD
#undef UNDER
#undef M

#endif
