/* SPDX-License-Identifier: MIT
 * cf_walbuf: a SQLite VFS over the default one that gathers what SQLite writes to a
 * WAL file and hands it to the file in large pieces when SQLite next does anything
 * else with that file (sync, read, size, truncate, a file control, close). SQLite
 * writes each WAL frame as two calls (the frame header, then the page): a commit of
 * n frames is 2n pwrite(2) calls without it, one per CF_WALBUF_PIECE bytes with it.
 * Every other file (the database, journals, the shared memory) passes through.
 *
 * Only for connections whose every commit syncs the WAL (PRAGMA synchronous FULL or
 * EXTRA, as cloudfactd's write connection): SQLite shows a commit's frames to other
 * connections (in the wal-index) only after that sync, which writes them out here
 * first. With NORMAL or OFF a commit would be shown while its frames still sit in
 * this buffer, and another connection would read stale bytes. A WAL on a file
 * without power-safe overwrite (URI psow=0), whose commits are padded and synced
 * part-way, is not gathered. */
#ifndef CF_WALBUF_H
#define CF_WALBUF_H

#define CF_WALBUF_VFS "cf-walbuf"   /* the name to give sqlite3_open_v2 */
#define CF_WALBUF_SIZE (512 * 1024) /* bytes gathered per WAL before they are written */
#define CF_WALBUF_PIECE 126976      /* bytes per write: the unix VFS takes < 128 KiB a call */

/* Registers the VFS (never as the default) over the default VFS of the moment.
 * Idempotent and thread-safe. Returns 0, or a SQLite error code. */
int cf_walbuf_register(void);

#endif
