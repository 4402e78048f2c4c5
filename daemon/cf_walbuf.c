/* SPDX-License-Identifier: MIT
 * cf_walbuf: WAL writes gathered into large pieces (see cf_walbuf.h).
 *
 * A file of this VFS is our header followed by the underlying VFS's file. A WAL
 * file keeps one run of contiguous writes, [off, off + len); a write that does not
 * continue it, or does not fit, writes the run out first. Every other method of a
 * WAL file writes the run out before it runs, so that SQLite never sees the file
 * without its own writes: it reads back frames of the open transaction (a spilled
 * page), asks the file's size, truncates it, and syncs it before each commit is
 * shown to other connections.
 *
 * A WAL file is linked to its database file (its peer), whose shared-memory calls
 * mark the two moments that matter to other connections: the run is written out
 * before the database file's shared-memory barrier (SQLite publishes a commit in
 * the wal-index right after one) and before the WAL write lock is released (frames
 * of a transaction that rolled back after spilling must reach the file while no
 * other connection may write there, as they would have without this VFS).
 *
 * A failed write-out is sticky: every later write or write-out of that WAL returns
 * it until the write lock is released, so that a transaction that lost frames can
 * only roll back (an error met by a read alone could otherwise end just one
 * statement and let the commit succeed over frames never written). */
#include "cf_walbuf.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

typedef struct walbuf_file {
    sqlite3_file base;        /* pMethods: &walbuf_methods, or NULL when the open failed */
    sqlite3_file *real;       /* the underlying VFS's file, right after this struct */
    bool wal;                 /* a WAL file: its writes are gathered */
    char *buf;                /* CF_WALBUF_SIZE bytes (WAL files only) */
    size_t len;               /* bytes gathered */
    sqlite3_int64 off;        /* file offset of buf[0] */
    int err;                  /* a write-out failed: returned until the write lock goes */
    struct walbuf_file *peer; /* a WAL's database file and the other way, or NULL */
} walbuf_file;

/* the underlying file follows the header: it keeps SQLite's 8-byte alignment */
_Static_assert(sizeof(walbuf_file) % 8 == 0, "walbuf_file keeps the underlying file aligned");

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *under; /* the VFS below */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc;

#define REAL(p) (((walbuf_file *)(p))->real)

/* Writes the gathered run out; a failure sticks (f->err). */
static int
put(walbuf_file *f)
{
    int rc = f->err;
    for (size_t done = 0; rc == SQLITE_OK && done < f->len;) {
        size_t n = f->len - done < CF_WALBUF_PIECE ? f->len - done : CF_WALBUF_PIECE;
        rc =
            f->real->pMethods->xWrite(f->real, f->buf + done, (int)n, f->off + (sqlite3_int64)done);
        done += n;
    }
    f->len = 0;
    f->err = rc;
    return rc;
}

static int
wb_write(sqlite3_file *p, const void *data, int n, sqlite3_int64 off)
{
    walbuf_file *f = (walbuf_file *)p;
    if (!f->wal || n <= 0)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    if (f->err)
        return f->err;
    int rc;
    if (f->len && (off != f->off + (sqlite3_int64)f->len || f->len + (size_t)n > CF_WALBUF_SIZE) &&
        (rc = put(f)) != SQLITE_OK)
        return rc;
    if ((size_t)n > CF_WALBUF_SIZE)
        return f->real->pMethods->xWrite(f->real, data, n, off);
    if (!f->len)
        f->off = off;
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len += (size_t)n;
    return SQLITE_OK;
}

static int
wb_close(sqlite3_file *p)
{
    walbuf_file *f = (walbuf_file *)p;
    int rc = put(f);
    if (f->peer)
        f->peer->peer = NULL;
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int
wb_read(sqlite3_file *p, void *data, int n, sqlite3_int64 off)
{
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK ? rc : REAL(p)->pMethods->xRead(REAL(p), data, n, off);
}

static int
wb_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK ? rc : REAL(p)->pMethods->xTruncate(REAL(p), size);
}

static int
wb_sync(sqlite3_file *p, int flags)
{
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK ? rc : REAL(p)->pMethods->xSync(REAL(p), flags);
}

static int
wb_size(sqlite3_file *p, sqlite3_int64 *size)
{
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK ? rc : REAL(p)->pMethods->xFileSize(REAL(p), size);
}

static int
wb_control(sqlite3_file *p, int op, void *arg)
{
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK ? rc : REAL(p)->pMethods->xFileControl(REAL(p), op, arg);
}

static int
wb_lock(sqlite3_file *p, int level)
{
    return REAL(p)->pMethods->xLock(REAL(p), level);
}

static int
wb_unlock(sqlite3_file *p, int level)
{
    return REAL(p)->pMethods->xUnlock(REAL(p), level);
}

static int
wb_reserved(sqlite3_file *p, int *out)
{
    return REAL(p)->pMethods->xCheckReservedLock(REAL(p), out);
}

static int
wb_sector(sqlite3_file *p)
{
    return REAL(p)->pMethods->xSectorSize(REAL(p));
}

static int
wb_device(sqlite3_file *p)
{
    return REAL(p)->pMethods->xDeviceCharacteristics(REAL(p));
}

/* The shared-memory and memory-map methods (versions 2 and 3) belong to the
 * database file, which is never gathered: passed through where the file has them. */
static int
wb_shm_map(sqlite3_file *p, int region, int size, int extend, void volatile **pp)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    return m->iVersion >= 2 ? m->xShmMap(REAL(p), region, size, extend, pp) : SQLITE_IOERR;
}

/* The WAL write lock is the first lock of SQLite's wal-index (WAL_WRITE_LOCK, 0). */
#define WAL_WRITE_LOCK 0

static int
wb_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    walbuf_file *wal = ((walbuf_file *)p)->peer;
    if (wal && offset == WAL_WRITE_LOCK && (flags & SQLITE_SHM_UNLOCK) &&
        (flags & SQLITE_SHM_EXCLUSIVE)) {
        put(wal); /* still ours alone: what a rolled-back transaction spilled goes now */
        wal->err = SQLITE_OK;
    }
    return m->iVersion >= 2 ? m->xShmLock(REAL(p), offset, n, flags) : SQLITE_IOERR;
}

static void
wb_shm_barrier(sqlite3_file *p)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    walbuf_file *wal = ((walbuf_file *)p)->peer;
    if (wal && wal->len) /* a wal-index header may be published after this: empty
                          * already after a commit's sync; its error sticks */
        put(wal);
    if (m->iVersion >= 2)
        m->xShmBarrier(REAL(p));
}

static int
wb_shm_unmap(sqlite3_file *p, int delete_flag)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    return m->iVersion >= 2 ? m->xShmUnmap(REAL(p), delete_flag) : SQLITE_OK;
}

static int
wb_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **pp)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    *pp = NULL; /* no mapping: SQLite reads instead */
    int rc = put((walbuf_file *)p);
    return rc != SQLITE_OK || m->iVersion < 3 ? rc : m->xFetch(REAL(p), off, n, pp);
}

static int
wb_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
    const sqlite3_io_methods *m = REAL(p)->pMethods;
    return m->iVersion >= 3 ? m->xUnfetch(REAL(p), off, page) : SQLITE_OK;
}

static const sqlite3_io_methods walbuf_methods = {
    .iVersion = 3,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_reserved,
    .xFileControl = wb_control,
    .xSectorSize = wb_sector,
    .xDeviceCharacteristics = wb_device,
    .xShmMap = wb_shm_map,
    .xShmLock = wb_shm_lock,
    .xShmBarrier = wb_shm_barrier,
    .xShmUnmap = wb_shm_unmap,
    .xFetch = wb_fetch,
    .xUnfetch = wb_unfetch,
};

static int
wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *p, int flags, int *out_flags)
{
    (void)vfs;
    walbuf_file *f = (walbuf_file *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    if (f->wal && !(f->buf = malloc(CF_WALBUF_SIZE)))
        return SQLITE_NOMEM;
    int rc = under->xOpen(under, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        if (f->real->pMethods) /* a failed open that still wants its close */
            f->real->pMethods->xClose(f->real);
        free(f->buf);
        f->buf = NULL;
        p->pMethods = NULL; /* SQLite does not close a file whose open failed */
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    /* Without power-safe overwrite on the database file SQLite pads a commit to a
     * sector, syncing part-way, and writes the last padding frames after that sync:
     * they are in the wal-index at once, so they must not wait here. SQLite asks
     * the database file; the unix VFS gives a WAL file the build's default and
     * the database file that default unless its URI says psow=0, which the WAL's
     * name carries too: both are asked. Such a WAL passes through. */
    if (f->wal &&
        (!(f->real->pMethods->xDeviceCharacteristics(f->real) & SQLITE_IOCAP_POWERSAFE_OVERWRITE) ||
         !sqlite3_uri_boolean(name, "psow", 1))) {
        f->wal = false;
        free(f->buf);
        f->buf = NULL;
    }
    if (f->wal) {
        walbuf_file *db = (walbuf_file *)sqlite3_database_file_object(name);
        if (db && db->base.pMethods == &walbuf_methods) {
            db->peer = f;
            f->peer = db;
        }
    }
    p->pMethods = &walbuf_methods;
    return SQLITE_OK;
}

static void
do_register(void)
{
    under = sqlite3_vfs_find(NULL);
    if (!under) {
        register_rc = SQLITE_ERROR;
        return;
    }
    walbuf_vfs = *under; /* every VFS method but xOpen is the underlying one's */
    walbuf_vfs.zName = CF_WALBUF_VFS;
    walbuf_vfs.szOsFile = (int)sizeof(walbuf_file) + under->szOsFile;
    walbuf_vfs.xOpen = wb_open;
    walbuf_vfs.pNext = NULL;
    register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int
cf_walbuf_register(void)
{
    pthread_once(&once, do_register);
    return register_rc;
}
