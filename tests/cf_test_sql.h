/* SPDX-License-Identifier: MIT
 * cf_test_sql: what unit tests that open SQLite files of their own share. */
#ifndef CF_TEST_SQL_H
#define CF_TEST_SQL_H

#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

/* The first column of sql's first row; -1 when it has no row, -999 (said on stderr)
 * when it does not prepare: never a count a test could expect. */
static inline int64_t
cf_test_sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "cf_test_sql_int(%s): %s\n", sql, sqlite3_errmsg(db));
        return -999;
    }
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

#endif
