/* SPDX-License-Identifier: MIT
 * cf_msg: msgpack codecs for every message of protocol/SPEC.md. Decoding is two
 * passes: cf_msg_scan bounds the structure without allocating, then msgpack-c
 * builds the object tree and typed readers copy validated fields out of it. */
#include "cf_msg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_text.h"

#define SCAN_MAX_DEPTH 16
#define SCAN_MAX_OBJECTS 200000 /* 1000 facts x 17 fields x 2 is 34,000: room to spare */

/* ------------------------------------------------------------------------ */
/* Structural scan                                                           */

static uint64_t
be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

int
cf_msg_scan(const void *data, size_t len, cf_err_t *err)
{
    const uint8_t *p = data;
    uint64_t pending[SCAN_MAX_DEPTH + 1];
    int depth = 0;
    size_t pos = 0, objects = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (pos >= len)
            return cf_err_set(err, CF_EINVAL, "malformed msgpack: truncated");
        if (++objects > SCAN_MAX_OBJECTS)
            return cf_err_set(err, CF_EINVAL, "malformed msgpack: more than %d objects",
                              SCAN_MAX_OBJECTS);
        uint8_t c = p[pos++];
        uint64_t skip = 0, children = 0;
        int lenbytes = 0;
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            /* fixint, nil, bool */
        } else if (c >= 0x80 && c <= 0x8f) {
            children = 2u * (c & 0x0f);
        } else if (c >= 0x90 && c <= 0x9f) {
            children = c & 0x0f;
        } else if (c >= 0xa0 && c <= 0xbf) {
            skip = c & 0x1f;
        } else {
            switch (c) {
            case 0xc4: case 0xd9: lenbytes = 1; break;             /* bin8, str8 */
            case 0xc5: case 0xda: lenbytes = 2; break;             /* bin16, str16 */
            case 0xc6: case 0xdb: lenbytes = 4; break;             /* bin32, str32 */
            case 0xc7: lenbytes = 1; skip = 1; break;              /* ext8 (+type) */
            case 0xc8: lenbytes = 2; skip = 1; break;              /* ext16 */
            case 0xc9: lenbytes = 4; skip = 1; break;              /* ext32 */
            case 0xca: skip = 4; break;                            /* float32 */
            case 0xcb: skip = 8; break;                            /* float64 */
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xce: case 0xd2: skip = 4; break;
            case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                            /* fixext1 */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: case 0xdd: case 0xde: case 0xdf: {          /* array/map 16/32 */
                int n = (c == 0xdc || c == 0xde) ? 2 : 4;
                if (len - pos < (size_t)n)
                    return cf_err_set(err, CF_EINVAL, "malformed msgpack: truncated");
                children = be(p + pos, n) * ((c == 0xde || c == 0xdf) ? 2 : 1);
                pos += (size_t)n;
                break;
            }
            default:
                return cf_err_set(err, CF_EINVAL, "malformed msgpack: byte 0x%02x at %zu", c,
                                  pos - 1);
            }
        }
        if (lenbytes) {
            if (len - pos < (size_t)lenbytes)
                return cf_err_set(err, CF_EINVAL, "malformed msgpack: truncated");
            skip += be(p + pos, lenbytes);
            pos += (size_t)lenbytes;
        }
        if (skip > len - pos)
            return cf_err_set(err, CF_EINVAL, "malformed msgpack: truncated");
        pos += skip;
        if (children) {
            /* every element takes at least one byte: a larger count is a lie */
            if (children > len - pos)
                return cf_err_set(err, CF_EINVAL, "malformed msgpack: truncated container");
            if (depth + 1 > SCAN_MAX_DEPTH)
                return cf_err_set(err, CF_EINVAL, "malformed msgpack: nested deeper than %d",
                                  SCAN_MAX_DEPTH);
            pending[++depth] = children;
        }
    }
    if (pos != len)
        return cf_err_set(err, CF_EINVAL, "malformed msgpack: %zu trailing bytes", len - pos);
    return CF_OK;
}

/* ------------------------------------------------------------------------ */
/* Typed field readers                                                       */

static const msgpack_object *
map_get(const msgpack_object *map, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int
str_cmp(const msgpack_object *x, const msgpack_object *y)
{
    if (x->via.str.size != y->via.str.size)
        return x->via.str.size < y->via.str.size ? -1 : 1;
    return x->via.str.size ? memcmp(x->via.str.ptr, y->via.str.ptr, x->via.str.size) : 0;
}

static int
key_cmp(const void *a, const void *b)
{
    return str_cmp(*(const msgpack_object *const *)a, *(const msgpack_object *const *)b);
}

static int
dup_key(const msgpack_object *k, const char *what, cf_err_t *err)
{
    return cf_err_set(err, CF_EINVAL, "%s: key '%.*s' appears twice", what,
                      (int)(k->via.str.size > 40 ? 40 : k->via.str.size), k->via.str.ptr);
}

/* Keys must be distinct strings: a repeated key would let two readers disagree.
 * Small maps compare pairwise; large ones sort, so that a hostile map of 100,000
 * keys costs n log n steps, not n^2 (seconds of the daemon's loop). */
static int
check_map(const msgpack_object *map, const char *what, cf_err_t *err)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return cf_err_set(err, CF_EINVAL, "%s: expected a map", what);
    uint32_t n = map->via.map.size;
    for (uint32_t i = 0; i < n; i++)
        if (map->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
            return cf_err_set(err, CF_EINVAL, "%s: map keys must be strings", what);
    if (n <= 32) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (str_cmp(&map->via.map.ptr[i].key, &map->via.map.ptr[j].key) == 0)
                    return dup_key(&map->via.map.ptr[i].key, what, err);
        return CF_OK;
    }
    const msgpack_object **keys = cf_calloc(n, sizeof *keys);
    for (uint32_t i = 0; i < n; i++)
        keys[i] = &map->via.map.ptr[i].key;
    qsort(keys, n, sizeof *keys, key_cmp);
    int rc = CF_OK;
    for (uint32_t i = 1; i < n && rc == CF_OK; i++)
        if (str_cmp(keys[i - 1], keys[i]) == 0)
            rc = dup_key(keys[i], what, err);
    free(keys);
    return rc;
}

/* Where decoded strings go: NULL, each its own allocation (cf_strndup); else one
 * block sized beforehand (cf_msg_decode_worker), each string NUL-terminated in it. */
typedef struct arena {
    char *p;
    size_t used, cap;
} arena_t;

static char *
copy_text(arena_t *ar, const char *s, size_t n)
{
    if (!ar)
        return cf_strndup(s, n);
    if (ar->cap - ar->used < n + 1)
        abort(); /* sized from the message: cannot happen */
    char *d = ar->p + ar->used;
    memcpy(d, s, n);
    d[n] = '\0';
    ar->used += n + 1;
    return d;
}

/* Room for a result's class in the block: two arrays of at most CF_MAX_CLASS_ITEMS
 * pointers (and their alignment), a NUL per item (the items' bytes are in the body). */
#define CLASS_ROOM (2 * CF_MAX_CLASS_ITEMS * (sizeof(char *) + 1) + 2 * sizeof(char *))

static char **
arena_ptrs(arena_t *ar, size_t n)
{
    size_t at = (ar->used + sizeof(char *) - 1) & ~(sizeof(char *) - 1);
    if (at > ar->cap || (ar->cap - at) / sizeof(char *) < n)
        abort(); /* sized from the message: cannot happen */
    ar->used = at + n * sizeof(char *);
    return (char **)(void *)(ar->p + at);
}

/* Why a value is not a text: see text_view. */
enum { TEXT_OK, TEXT_TYPE, TEXT_LONG, TEXT_UTF8, TEXT_NUL };

/* The text o holds (a str, or a bin holding UTF-8: SPEC.md section 3) in *s and *n:
 * TEXT_OK, or why not (more than max bytes, not UTF-8, a NUL inside, not a string). */
static int
text_view(const msgpack_object *o, size_t max, const char **s, size_t *n)
{
    if (o->type == MSGPACK_OBJECT_STR) {
        *s = o->via.str.ptr;
        *n = o->via.str.size;
    } else if (o->type == MSGPACK_OBJECT_BIN) {
        *s = o->via.bin.ptr;
        *n = o->via.bin.size;
    } else {
        return TEXT_TYPE;
    }
    if (*n > max)
        return TEXT_LONG;
    if (!cf_utf8_valid(*s, *n))
        return TEXT_UTF8;
    if (memchr(*s, '\0', *n))
        return TEXT_NUL;
    return TEXT_OK;
}

/* err for text_view's answer why about field key (item: its index in an array, or -1;
 * n: the text's bytes, for TEXT_LONG). */
static int
text_error(cf_err_t *err, int why, const char *key, long item, size_t n, size_t max)
{
    char what[96];
    if (item < 0)
        snprintf(what, sizeof what, "field '%s'", key);
    else
        snprintf(what, sizeof what, "field '%s': item %ld", key, item);
    switch (why) {
    case TEXT_LONG:
        return cf_err_set(err, CF_EINVAL, "%s: %zu bytes, over the limit of %zu", what, n, max);
    case TEXT_UTF8:
        return cf_err_set(err, CF_EINVAL, "%s: not valid UTF-8", what);
    case TEXT_NUL:
        return cf_err_set(err, CF_EINVAL, "%s: contains a NUL character", what);
    default:
        return cf_err_set(err, CF_EINVAL, "%s: expected a string", what);
    }
}

/* Text value o (NULL: absent) of field key: str, or bin holding valid UTF-8. NULL out
 * means nil/absent allowed when !required. Rejects NUL bytes (every consumer is a C
 * string) and long text. */
static int
text_of(const msgpack_object *o, const char *key, bool required, size_t max, char **out,
        arena_t *ar, cf_err_t *err)
{
    *out = NULL;
    if (!o || o->type == MSGPACK_OBJECT_NIL) {
        if (required)
            return cf_err_set(err, CF_EINVAL, "field '%s': missing", key);
        return CF_OK;
    }
    const char *s = NULL;
    size_t n = 0;
    int why = text_view(o, max, &s, &n);
    if (why != TEXT_OK)
        return text_error(err, why, key, -1, n, max);
    *out = copy_text(ar, s, n);
    return CF_OK;
}

static int
get_text(const msgpack_object *map, const char *key, bool required, size_t max, char **out,
         cf_err_t *err)
{
    return text_of(map_get(map, key), key, required, max, out, NULL, err);
}

static int
uint_of(const msgpack_object *o, const char *key, bool required, uint64_t *out, bool *present,
        cf_err_t *err)
{
    if (present)
        *present = false;
    if (!o || o->type == MSGPACK_OBJECT_NIL) {
        if (required)
            return cf_err_set(err, CF_EINVAL, "field '%s': missing", key);
        return CF_OK;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return cf_err_set(err, CF_EINVAL, "field '%s': expected an unsigned integer", key);
    *out = o->via.u64;
    if (present)
        *present = true;
    return CF_OK;
}

static int
get_uint(const msgpack_object *map, const char *key, bool required, uint64_t *out, bool *present,
         cf_err_t *err)
{
    return uint_of(map_get(map, key), key, required, out, present, err);
}

static int
obj_double(const msgpack_object *o, const char *key, double *out, cf_err_t *err)
{
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; break;
    default: return cf_err_set(err, CF_EINVAL, "field '%s': expected a number", key);
    }
    if (!isfinite(*out))
        return cf_err_set(err, CF_EINVAL, "field '%s': not a finite number", key);
    return CF_OK;
}

static int
double_of(const msgpack_object *o, const char *key, double *out, bool *present, cf_err_t *err)
{
    *present = false;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return CF_OK;
    int rc = obj_double(o, key, out, err);
    if (rc == CF_OK)
        *present = true;
    return rc;
}

static int
get_double(const msgpack_object *map, const char *key, double *out, bool *present, cf_err_t *err)
{
    return double_of(map_get(map, key), key, out, present, err);
}

static int
get_bool(const msgpack_object *map, const char *key, bool *out, cf_err_t *err)
{
    const msgpack_object *o = map_get(map, key);
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return CF_OK;
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        return cf_err_set(err, CF_EINVAL, "field '%s': expected a boolean", key);
    *out = o->via.boolean;
    return CF_OK;
}

/* An array of text items, each at most max bytes, at most maxn items. */
static int
get_strv(const msgpack_object *map, const char *key, size_t maxn, size_t max, char ***out,
         size_t *n, arena_t *ar, cf_err_t *err)
{
    const msgpack_object *o = map_get(map, key);
    *out = NULL;
    *n = 0;
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        return CF_OK;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return cf_err_set(err, CF_EINVAL, "field '%s': expected an array", key);
    if (o->via.array.size > maxn)
        return cf_err_set(err, CF_EINVAL, "field '%s': more than %zu items", key, maxn);
    char **v = ar ? arena_ptrs(ar, o->via.array.size) : cf_calloc(o->via.array.size, sizeof *v);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const char *s = NULL;
        size_t len = 0;
        int why = text_view(&o->via.array.ptr[i], max, &s, &len);
        if (why != TEXT_OK) {
            if (!ar) {
                for (uint32_t k = 0; k < i; k++)
                    free(v[k]);
                free(v);
            }
            return text_error(err, why, key, (long)i, len, max);
        }
        v[i] = copy_text(ar, s, len);
    }
    *out = v;
    *n = o->via.array.size;
    return CF_OK;
}

/* BCP 47, loosely: alphanumeric subtags of 1-8 characters joined by '-'. */
static bool
lang_ok(const char *s)
{
    size_t run = 0;
    if (!*s)
        return false;
    for (const char *p = s;; p++) {
        if (*p == '-' || *p == '\0') {
            if (run == 0 || run > 8)
                return false;
            if (*p == '\0')
                return true;
            run = 0;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9')) {
            run++;
        } else {
            return false;
        }
    }
}

static int
decode_article(const msgpack_object *m, cf_article_t *a, bool with_id, cf_err_t *err)
{
    int rc;
    if (with_id && (rc = get_uint(m, "id", true, &a->id, NULL, err)) != CF_OK)
        return rc;
    if ((rc = get_text(m, "url", true, CF_MAX_URL, &a->url, err)) != CF_OK)
        return rc;
    if (!cf_text_is_url(a->url))
        return cf_err_set(err, CF_EINVAL,
                          "field 'url': not an absolute URL (scheme:rest, no spaces or "
                          "control characters)");
    if ((rc = get_text(m, "title", true, CF_MAX_TITLE, &a->title, err)) != CF_OK)
        return rc;
    if ((rc = get_text(m, "body", true, CF_MAX_BODY, &a->body, err)) != CF_OK)
        return rc;
    a->body_len = strlen(a->body);
    if (a->body_len == 0)
        return cf_err_set(err, CF_EINVAL, "field 'body': empty");
    if ((rc = get_text(m, "source", false, CF_MAX_SOURCE, &a->source, err)) != CF_OK)
        return rc;
    if ((rc = get_text(m, "published", false, CF_MAX_PUBLISHED, &a->published, err)) != CF_OK)
        return rc;
    if (a->published && !cf_text_is_datetime(a->published))
        return cf_err_set(err, CF_EINVAL,
                          "field 'published': not an ISO 8601 date or RFC 3339 time");
    if ((rc = get_text(m, "lang", false, CF_MAX_LANG, &a->lang, err)) != CF_OK)
        return rc;
    if (a->lang && !lang_ok(a->lang))
        return cf_err_set(err, CF_EINVAL, "field 'lang': not a BCP 47 language tag");
    if (!a->lang)
        a->lang = cf_strdup("en");
    return CF_OK;
}

/* The keys of a fact map, in the order their values are checked. */
enum {
    FK_TYPE, FK_SUBJECT, FK_OBJECT, FK_UNIT, FK_PERIOD, FK_PLACE, FK_DETAIL, FK_QUALIFIER,
    FK_STATUS, FK_SOURCE, FK_EVIDENCE, FK_SEQ, FK_ARTICLE, FK_VALUE, FK_CONFIDENCE,
    FK_EVIDENCE_START, FK_EVIDENCE_END, FK_COUNT
};
static const char *const fact_keys[FK_COUNT] = {
    "type",  "subject", "object",     "unit",     "period",         "place",
    "detail", "qualifier", "status",  "source",   "evidence",       "seq",
    "article", "value",  "confidence", "evidence_start", "evidence_end",
};

/* Which fact key k is, or -1 (fixed-length compares: inlined, no memcmp call). */
static inline int
fact_key(const char *k, size_t n)
{
#define FK_IS(lit, id) (memcmp(k, lit, sizeof lit - 1) == 0 ? (id) : -1)
    switch (n) {
    case 3: return FK_IS("seq", FK_SEQ);
    case 4: return k[0] == 't' ? FK_IS("type", FK_TYPE) : FK_IS("unit", FK_UNIT);
    case 5: return k[0] == 'v' ? FK_IS("value", FK_VALUE) : FK_IS("place", FK_PLACE);
    case 6:
        switch (k[0]) {
        case 'o': return FK_IS("object", FK_OBJECT);
        case 'p': return FK_IS("period", FK_PERIOD);
        case 'd': return FK_IS("detail", FK_DETAIL);
        default: return k[1] == 't' ? FK_IS("status", FK_STATUS) : FK_IS("source", FK_SOURCE);
        }
    case 7: return k[0] == 's' ? FK_IS("subject", FK_SUBJECT) : FK_IS("article", FK_ARTICLE);
    case 8: return FK_IS("evidence", FK_EVIDENCE);
    case 9: return FK_IS("qualifier", FK_QUALIFIER);
    case 10: return FK_IS("confidence", FK_CONFIDENCE);
    case 12: return FK_IS("evidence_end", FK_EVIDENCE_END);
    case 14: return FK_IS("evidence_start", FK_EVIDENCE_START);
    default: return -1;
    }
#undef FK_IS
}

/* The values of a fact map by key, with check_map's checks (and errors) in one pass
 * over the keys for maps of up to 32 keys. */
static int
fact_fields(const msgpack_object *map, const msgpack_object *vals[FK_COUNT], cf_err_t *err)
{
    static const char what[] = "fact";
    for (int i = 0; i < FK_COUNT; i++)
        vals[i] = NULL;
    if (map->type != MSGPACK_OBJECT_MAP)
        return cf_err_set(err, CF_EINVAL, "%s: expected a map", what);
    uint32_t n = map->via.map.size;
    const msgpack_object_kv *kv = map->via.map.ptr;
    if (n > 32) {
        int rc = check_map(map, what, err);
        if (rc != CF_OK)
            return rc;
        for (uint32_t i = 0; i < n; i++) {
            int f = fact_key(kv[i].key.via.str.ptr, kv[i].key.via.str.size);
            if (f >= 0)
                vals[f] = &kv[i].val;
        }
        return CF_OK;
    }
    for (uint32_t i = 0; i < n; i++)
        if (kv[i].key.type != MSGPACK_OBJECT_STR)
            return cf_err_set(err, CF_EINVAL, "%s: map keys must be strings", what);
    /* a known key seen twice finds its slot taken; unknown keys (rare) are compared
     * with the unknown keys before them: an unknown key never equals a known one */
    uint32_t unknown[32], nunknown = 0;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *k = &kv[i].key;
        int f = fact_key(k->via.str.ptr, k->via.str.size);
        if (f >= 0) {
            if (vals[f])
                return dup_key(k, what, err);
            vals[f] = &kv[i].val;
        } else {
            for (uint32_t j = 0; j < nunknown; j++)
                if (str_cmp(k, &kv[unknown[j]].key) == 0)
                    return dup_key(k, what, err);
            unknown[nunknown++] = i;
        }
    }
    return CF_OK;
}

static int
decode_fact(const msgpack_object *m, cf_fact_t *f, arena_t *ar, cf_err_t *err)
{
    int rc;
    const msgpack_object *v[FK_COUNT];
    if ((rc = fact_fields(m, v, err)) != CF_OK)
        return rc;
    const struct {
        int k;
        char **dst;
        bool required;
    } texts[] = {
        {FK_TYPE, &f->type, true},       {FK_SUBJECT, &f->subject, true},
        {FK_OBJECT, &f->object, false},  {FK_UNIT, &f->unit, false},
        {FK_PERIOD, &f->period, false},  {FK_PLACE, &f->place, false},
        {FK_DETAIL, &f->detail, false},  {FK_QUALIFIER, &f->qualifier, false},
        {FK_STATUS, &f->status, true},   {FK_SOURCE, &f->source, false},
        {FK_EVIDENCE, &f->evidence, true},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if ((rc = text_of(v[texts[i].k], fact_keys[texts[i].k], texts[i].required,
                          CF_MAX_FACT_TEXT, texts[i].dst, ar, err)) != CF_OK)
            return rc;
    if ((rc = uint_of(v[FK_SEQ], "seq", false, &f->seq, NULL, err)) != CF_OK)
        return rc;
    /* `article` is an id on the wire; `cloudfact extract` output is JSON, never msgpack */
    if ((rc = uint_of(v[FK_ARTICLE], "article", false, &f->article, NULL, err)) != CF_OK)
        return rc;
    if ((rc = double_of(v[FK_VALUE], "value", &f->value, &f->has_value, err)) != CF_OK)
        return rc;
    bool has_conf;
    if ((rc = double_of(v[FK_CONFIDENCE], "confidence", &f->confidence, &has_conf, err)) != CF_OK)
        return rc;
    if (!has_conf) /* SPEC.md 8: a number, never nil */
        return cf_err_set(err, CF_EINVAL, "field 'confidence': missing");
    if ((rc = uint_of(v[FK_EVIDENCE_START], "evidence_start", true, &f->evidence_start, NULL,
                      err)) != CF_OK)
        return rc;
    if ((rc = uint_of(v[FK_EVIDENCE_END], "evidence_end", true, &f->evidence_end, NULL, err)) !=
        CF_OK)
        return rc;
    return CF_OK;
}

static int
decode_class(const msgpack_object *m, cf_class_t *c, arena_t *ar, cf_err_t *err)
{
    int rc;
    if (!m || m->type == MSGPACK_OBJECT_NIL)
        return CF_OK;
    if ((rc = check_map(m, "field 'class'", err)) != CF_OK)
        return rc;
    if ((rc = get_bool(m, "relevant", &c->relevant, err)) != CF_OK)
        return rc;
    bool has;
    if ((rc = get_double(m, "relevance", &c->relevance, &has, err)) != CF_OK)
        return rc;
    if ((rc = get_strv(m, "companies", CF_MAX_CLASS_ITEMS, 256, &c->companies, &c->ncompanies,
                       ar, err)) != CF_OK)
        return rc;
    return get_strv(m, "regions", CF_MAX_CLASS_ITEMS, 256, &c->regions, &c->nregions, ar, err);
}

static int
decode_ref(const msgpack_object *root, cf_msg_t *msg, cf_err_t *err)
{
    const msgpack_object *r = map_get(root, "ref");
    if (!r || r->type == MSGPACK_OBJECT_NIL)
        return CF_OK;
    switch (r->type) {
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: break;
    case MSGPACK_OBJECT_STR:
        if (r->via.str.size > CF_MAX_REF)
            return cf_err_set(err, CF_EINVAL, "field 'ref': over the limit of %u bytes",
                              CF_MAX_REF);
        /* echoed as is: a client decoding strs as text could not read its own reply */
        if (!cf_utf8_valid(r->via.str.ptr, r->via.str.size))
            return cf_err_set(err, CF_EINVAL,
                              "field 'ref': not valid UTF-8 (bytes go in a bin ref)");
        break;
    case MSGPACK_OBJECT_BIN:
        if (r->via.bin.size > CF_MAX_REF)
            return cf_err_set(err, CF_EINVAL, "field 'ref': over the limit of %u bytes",
                              CF_MAX_REF);
        break;
    default: return cf_err_set(err, CF_EINVAL, "field 'ref': must be a scalar");
    }
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *r);
    if (sb.size <= sizeof msg->ref) {
        memcpy(msg->ref, sb.data, sb.size);
        msg->ref_len = sb.size;
    }
    msgpack_sbuffer_destroy(&sb);
    return CF_OK;
}

static const struct {
    const char *name;
    cf_op_t op;
    unsigned chans; /* bit (1 << chan) for each channel it is valid on */
} op_names[] = {
    {"article", CF_OP_ARTICLE, 1u << CF_CHAN_INGEST | 1u << CF_CHAN_QUERY | 1u << CF_CHAN_QUERY_REPLY},
    {"ready", CF_OP_READY, 1u << CF_CHAN_TO_DAEMON},
    {"heartbeat", CF_OP_HEARTBEAT, 1u << CF_CHAN_TO_DAEMON | 1u << CF_CHAN_TO_WORKER},
    {"result", CF_OP_RESULT, 1u << CF_CHAN_TO_DAEMON},
    {"error", CF_OP_ERROR, 1u << CF_CHAN_TO_DAEMON | 1u << CF_CHAN_QUERY_REPLY},
    {"job", CF_OP_JOB, 1u << CF_CHAN_TO_WORKER},
    {"reload", CF_OP_RELOAD, 1u << CF_CHAN_TO_WORKER},
    {"stop", CF_OP_STOP, 1u << CF_CHAN_TO_WORKER},
    {"replay", CF_OP_REPLAY, 1u << CF_CHAN_QUERY},
    {"stats", CF_OP_STATS, 1u << CF_CHAN_QUERY | 1u << CF_CHAN_QUERY_REPLY},
    {"quarantine", CF_OP_QUARANTINE, 1u << CF_CHAN_QUERY},
    {"requeue", CF_OP_REQUEUE, 1u << CF_CHAN_QUERY},
    {"fact", CF_OP_FACT, 1u << CF_CHAN_QUERY_REPLY},
    {"end", CF_OP_END, 1u << CF_CHAN_QUERY_REPLY},
    {"facts", CF_OP_FACTS, 1u << CF_CHAN_QUERY},
};

#define FILTER_MAX CF_MAX_PREFIX /* one `facts` filter value, bytes */
#define TEXT_QUERY_MAX 1024u     /* a `facts` full-text query, bytes */
#define PERIOD_MAX 16u           /* the longest period is YYYY-MM-DD */

/* A `facts` query: every filter optional; periods must parse. */
static int
decode_facts(const msgpack_object *root, cf_msg_facts_t *q, cf_err_t *err)
{
    const struct {
        const char *key;
        char **dst;
        size_t max;
    } texts[] = {
        {"type", &q->type, FILTER_MAX},           {"subject", &q->subject, FILTER_MAX},
        {"object", &q->object, FILTER_MAX},       {"status", &q->status, FILTER_MAX},
        {"place", &q->place, FILTER_MAX},         {"period_from", &q->period_from, PERIOD_MAX},
        {"period_to", &q->period_to, PERIOD_MAX}, {"text", &q->text, TEXT_QUERY_MAX},
    };
    int rc;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if ((rc = get_text(root, texts[i].key, false, texts[i].max, texts[i].dst, err)) != CF_OK)
            return rc;
    char a[11], b[11], first[11] = "", last[11];
    if (q->period_from && cf_period_range(q->period_from, first, b) != CF_OK)
        return cf_err_set(err, CF_EINVAL, "field 'period_from': not a period or date");
    if (q->period_to && cf_period_range(q->period_to, a, last) != CF_OK)
        return cf_err_set(err, CF_EINVAL, "field 'period_to': not a period or date");
    /* an empty range is a mistake, not a question with no answer */
    if (q->period_from && q->period_to && strcmp(first, last) > 0)
        return cf_err_set(err, CF_EINVAL, "field 'period_to': ends before 'period_from' starts");
    if ((rc = get_uint(root, "article", false, &q->article, &q->has_article, err)) != CF_OK ||
        (rc = get_uint(root, "since", false, &q->since, NULL, err)) != CF_OK)
        return rc;
    return get_uint(root, "limit", false, &q->limit, &q->has_limit, err);
}

static int
status_rc(const char *s)
{
    static const int rcs[] = {CF_OK, CF_EDUP, CF_EINVAL, CF_EBUSY, CF_EDENIED};
    for (size_t i = 0; i < sizeof rcs / sizeof *rcs; i++)
        if (strcmp(s, cf_msg_status_name(rcs[i])) == 0)
            return rcs[i];
    return 1; /* not a status */
}

/* strings_len: not 0, a result's fact strings go into one block of about that many
 * bytes (the body's length) instead of one allocation each. */
static int
decode_body(cf_chan_t chan, const msgpack_object *root, cf_msg_t *msg, size_t strings_len,
            cf_err_t *err)
{
    int rc;
    if (chan == CF_CHAN_INGEST_REPLY) {
        char *status = NULL;
        msg->op = CF_OP_INGEST_REPLY;
        if ((rc = get_text(root, "status", true, 32, &status, err)) != CF_OK)
            return rc;
        msg->u.reply.rc = status_rc(status);
        free(status);
        if (msg->u.reply.rc > 0)
            return cf_err_set(err, CF_EINVAL, "field 'status': unknown status");
        if ((rc = get_uint(root, "id", false, &msg->u.reply.id, NULL, err)) != CF_OK)
            return rc;
        return get_text(root, "error", false, CF_MAX_ERROR_TEXT, &msg->u.reply.error, err);
    }

    /* compared in place: any text that names no op of this socket is an unknown op,
     * however long (quoted up to 32 bytes) */
    const msgpack_object *opv = map_get(root, "op");
    if (!opv || opv->type == MSGPACK_OBJECT_NIL)
        return cf_err_set(err, CF_EINVAL, "field 'op': missing");
    const char *opname = NULL;
    size_t oplen = 0;
    int bad = text_view(opv, SIZE_MAX, &opname, &oplen);
    if (bad != TEXT_OK)
        return text_error(err, bad, "op", -1, oplen, SIZE_MAX);
    for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++)
        if (strlen(op_names[i].name) == oplen && memcmp(opname, op_names[i].name, oplen) == 0 &&
            (op_names[i].chans & (1u << chan)))
            msg->op = op_names[i].op;
    if (msg->op == CF_OP_NONE)
        return cf_err_set(err, CF_EINVAL, "unknown op '%.*s'", (int)(oplen < 32 ? oplen : 32),
                          opname);

    uint64_t v = CF_PROTOCOL_VERSION;
    if ((rc = get_uint(root, "v", false, &v, NULL, err)) != CF_OK)
        return rc;
    if (v != CF_PROTOCOL_VERSION)
        return cf_err_set(err, CF_EINVAL, "field 'v': unsupported protocol version %llu",
                          (unsigned long long)v);

    switch (msg->op) {
    case CF_OP_ARTICLE:
        if (chan == CF_CHAN_INGEST)
            return decode_article(root, &msg->u.article, false, err);
        if (chan == CF_CHAN_QUERY)
            return get_uint(root, "id", true, &msg->u.get.id, NULL, err);
        return CF_OK; /* an article reply: the client reads it generically */
    case CF_OP_READY: {
        uint64_t credit = 0, version = 0;
        if ((rc = get_uint(root, "credit", true, &credit, NULL, err)) != CF_OK ||
            (rc = get_uint(root, "pid", true, &msg->u.ready.pid, NULL, err)) != CF_OK ||
            (rc = get_uint(root, "version", true, &version, NULL, err)) != CF_OK)
            return rc;
        if (credit > CF_MAX_CREDIT) /* 0: a worker that is leaving (SPEC.md 6) */
            return cf_err_set(err, CF_EINVAL, "field 'credit': must be 0 to %u", CF_MAX_CREDIT);
        if (version != CF_PROTOCOL_VERSION)
            return cf_err_set(err, CF_EINVAL, "field 'version': unsupported version %llu",
                              (unsigned long long)version);
        msg->u.ready.credit = (unsigned)credit;
        msg->u.ready.version = (unsigned)version;
        return get_text(root, "token", false, CF_MAX_TOKEN, &msg->u.ready.token, err);
    }
    case CF_OP_JOB: {
        if ((rc = get_uint(root, "job", true, &msg->u.job.job, NULL, err)) != CF_OK)
            return rc;
        const msgpack_object *a = map_get(root, "article");
        if (!a)
            return cf_err_set(err, CF_EINVAL, "field 'article': missing");
        if ((rc = check_map(a, "field 'article'", err)) != CF_OK)
            return rc;
        return decode_article(a, &msg->u.job.article, true, err);
    }
    case CF_OP_RESULT: {
        if ((rc = get_uint(root, "job", true, &msg->u.result.job, NULL, err)) != CF_OK)
            return rc;
        const msgpack_object *fa = map_get(root, "facts");
        if (!fa || fa->type != MSGPACK_OBJECT_ARRAY)
            return cf_err_set(err, CF_EINVAL, "field 'facts': expected an array");
        if (fa->via.array.size > CF_MAX_FACTS)
            return cf_err_set(err, CF_EINVAL, "field 'facts': more than %u facts", CF_MAX_FACTS);
        arena_t arena, *ar = NULL;
        if (strings_len) {
            /* each string takes at most its bytes in the message plus a NUL */
            arena.cap = strings_len + (size_t)fa->via.array.size * FK_COUNT + CLASS_ROOM;
            arena.p = msg->u.result.strings = cf_malloc(arena.cap);
            arena.used = 0;
            ar = &arena;
            if (fa->via.array.size) {
                msg->u.result.facts.v = cf_malloc(fa->via.array.size * sizeof(cf_fact_t));
                msg->u.result.facts.cap = fa->via.array.size;
            }
        }
        for (uint32_t i = 0; i < fa->via.array.size; i++) {
            cf_fact_t *f = cf_facts_push(&msg->u.result.facts);
            if ((rc = decode_fact(&fa->via.array.ptr[i], f, ar, err)) != CF_OK) {
                char why[CF_ERR_TEXT_MAX];
                snprintf(why, sizeof why, "%s", err ? err->text : "");
                return cf_err_set(err, rc, "fact %u: %s", i, why);
            }
        }
        return decode_class(map_get(root, "class"), &msg->u.result.cls, ar, err);
    }
    case CF_OP_ERROR:
        if (chan == CF_CHAN_TO_DAEMON &&
            (rc = get_uint(root, "job", false, &msg->u.error.job, NULL, err)) != CF_OK)
            return rc;
        return get_text(root, "error", true, CF_MAX_ERROR_TEXT, &msg->u.error.error, err);
    case CF_OP_REPLAY: {
        if ((rc = get_uint(root, "since", false, &msg->u.replay.since, NULL, err)) != CF_OK ||
            (rc = get_uint(root, "limit", false, &msg->u.replay.limit, &msg->u.replay.has_limit,
                           err)) != CF_OK)
            return rc;
        const msgpack_object *p = map_get(root, "prefix");
        if (p && (p->type == MSGPACK_OBJECT_STR || p->type == MSGPACK_OBJECT_BIN)) {
            char *one;
            if ((rc = get_text(root, "prefix", true, CF_MAX_PREFIX, &one, err)) != CF_OK)
                return rc;
            msg->u.replay.prefixes = cf_calloc(1, sizeof(char *));
            msg->u.replay.prefixes[0] = one;
            msg->u.replay.nprefixes = 1;
            return CF_OK;
        }
        if (p && p->type != MSGPACK_OBJECT_ARRAY && p->type != MSGPACK_OBJECT_NIL)
            return cf_err_set(err, CF_EINVAL,
                              "field 'prefix': expected a text or an array of texts");
        return get_strv(root, "prefix", CF_MAX_PREFIXES, CF_MAX_PREFIX, &msg->u.replay.prefixes,
                        &msg->u.replay.nprefixes, NULL, err);
    }
    case CF_OP_FACTS: return decode_facts(root, &msg->u.facts, err);
    case CF_OP_QUARANTINE:
        if ((rc = get_uint(root, "since", false, &msg->u.quarantine.since, NULL, err)) != CF_OK)
            return rc;
        return get_uint(root, "limit", false, &msg->u.quarantine.limit, NULL, err);
    case CF_OP_REQUEUE: {
        bool has_id;
        if ((rc = get_uint(root, "id", false, &msg->u.requeue.id, &has_id, err)) != CF_OK ||
            (rc = get_bool(root, "all", &msg->u.requeue.all, err)) != CF_OK)
            return rc;
        if (has_id == msg->u.requeue.all)
            return cf_err_set(err, CF_EINVAL, "requeue: give either 'id' or 'all: true'");
        /* ids start at 1; the archive reads 0 as "all", which only `all` may ask for */
        if (has_id && msg->u.requeue.id == 0)
            return cf_err_set(err, CF_EINVAL, "field 'id': articles are numbered from 1");
        return CF_OK;
    }
    case CF_OP_FACT: {
        const msgpack_object *f = map_get(root, "fact");
        if (!f)
            return cf_err_set(err, CF_EINVAL, "field 'fact': missing");
        return decode_fact(f, &msg->u.fact.fact, NULL, err);
    }
    case CF_OP_END:
        if ((rc = get_uint(root, "last", true, &msg->u.end.last, NULL, err)) != CF_OK ||
            (rc = get_uint(root, "head", false, &msg->u.end.head, NULL, err)) != CF_OK)
            return rc;
        return get_text(root, "error", false, CF_MAX_ERROR_TEXT, &msg->u.end.error, err);
    default: return CF_OK; /* ops without fields */
    }
}

static int
decode(cf_chan_t chan, const void *data, size_t len, cf_msg_t *msg, bool arena,
       cf_err_t *err)
{
    memset(msg, 0, sizeof *msg);
    int rc = cf_msg_scan(data, len, err);
    if (rc != CF_OK)
        return rc;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS) {
        msgpack_unpacked_destroy(&up);
        return cf_err_set(err, CF_EINVAL, "malformed msgpack");
    }
    const msgpack_object *root = &up.data;
    if ((rc = check_map(root, "message", err)) == CF_OK &&
        (rc = decode_ref(root, msg, err)) == CF_OK)
        rc = decode_body(chan, root, msg, arena ? len : 0, err);
    msgpack_unpacked_destroy(&up);
    if (rc != CF_OK) {
        /* keep op and ref for the error reply, and the lease of a result (whose
         * attempt the bad result ends) or of a job (which the worker answers with an
         * error); free half-decoded fields */
        cf_op_t op = msg->op;
        uint8_t ref[sizeof msg->ref];
        size_t ref_len = msg->ref_len;
        uint64_t job = op == CF_OP_RESULT ? msg->u.result.job
                       : op == CF_OP_JOB  ? msg->u.job.job
                                          : 0;
        memcpy(ref, msg->ref, ref_len);
        cf_msg_clear(msg);
        msg->op = op;
        memcpy(msg->ref, ref, ref_len);
        msg->ref_len = ref_len;
        if (op == CF_OP_RESULT)
            msg->u.result.job = job;
        else if (op == CF_OP_JOB)
            msg->u.job.job = job;
    }
    return rc;
}

int
cf_msg_decode(cf_chan_t chan, const void *data, size_t len, cf_msg_t *msg, cf_err_t *err)
{
    return decode(chan, data, len, msg, false, err);
}

int
cf_msg_decode_worker(const void *data, size_t len, cf_msg_t *msg, cf_err_t *err)
{
    return decode(CF_CHAN_TO_DAEMON, data, len, msg, true, err);
}

int
cf_msg_decode_fact(const void *data, size_t len, cf_fact_t *f, cf_err_t *err)
{
    memset(f, 0, sizeof *f);
    int rc = cf_msg_scan(data, len, err);
    if (rc != CF_OK)
        return rc;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, data, len, &off) != MSGPACK_UNPACK_SUCCESS)
        rc = cf_err_set(err, CF_EINVAL, "malformed msgpack");
    else
        rc = decode_fact(&up.data, f, NULL, err);
    msgpack_unpacked_destroy(&up);
    if (rc != CF_OK)
        cf_fact_clear(f);
    return rc;
}

void
cf_msg_clear(cf_msg_t *msg)
{
    if (!msg)
        return;
    switch (msg->op) {
    case CF_OP_ARTICLE: cf_article_clear(&msg->u.article); break;
    case CF_OP_JOB: cf_article_clear(&msg->u.job.article); break;
    case CF_OP_RESULT:
        if (msg->u.result.strings) {
            /* the strings and the class's arrays are in the block */
            free(msg->u.result.facts.v);
            free(msg->u.result.strings);
        } else {
            cf_facts_clear(&msg->u.result.facts);
            cf_class_clear(&msg->u.result.cls);
        }
        break;
    case CF_OP_ERROR: free(msg->u.error.error); break;
    case CF_OP_READY:
        free(msg->u.ready.token);
        break;
    case CF_OP_REPLAY:
        for (size_t i = 0; i < msg->u.replay.nprefixes; i++)
            free(msg->u.replay.prefixes[i]);
        free(msg->u.replay.prefixes);
        break;
    case CF_OP_FACTS:
        free(msg->u.facts.type);
        free(msg->u.facts.subject);
        free(msg->u.facts.object);
        free(msg->u.facts.status);
        free(msg->u.facts.place);
        free(msg->u.facts.period_from);
        free(msg->u.facts.period_to);
        free(msg->u.facts.text);
        break;
    case CF_OP_INGEST_REPLY: free(msg->u.reply.error); break;
    case CF_OP_FACT: cf_fact_clear(&msg->u.fact.fact); break;
    case CF_OP_END: free(msg->u.end.error); break;
    default: break;
    }
    memset(msg, 0, sizeof *msg);
}

const char *
cf_msg_status_name(int rc)
{
    switch (rc) {
    case CF_OK: return "accepted";
    case CF_EDUP: return "duplicate";
    case CF_EBUSY: return "busy";
    case CF_EDENIED: return "denied";
    default: return "invalid";
    }
}

/* By hand, not snprintf: every published fact comes through here. Same result as
 * snprintf(out, outsz, "fact.%s.%s", ...) (truncated to outsz - 1 bytes). */
size_t
cf_msg_topic(const cf_fact_t *f, char *out, size_t outsz)
{
    if (outsz == 0)
        return 0;
    const char *parts[4] = {"fact.", f->type ? f->type : "", ".", f->subject ? f->subject : ""};
    size_t o = 0;
    for (int i = 0; i < 4 && o < outsz - 1; i++) {
        size_t n = strlen(parts[i]);
        if (n > outsz - 1 - o)
            n = outsz - 1 - o;
        memcpy(out + o, parts[i], n);
        o += n;
    }
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------------------------ */
/* Encoders                                                                  */

#define PACKER(buf)                                                                            \
    msgpack_packer pk_;                                                                        \
    msgpack_packer_init(&pk_, (buf), msgpack_sbuffer_write);                                   \
    msgpack_packer *pk = &pk_

static inline void
pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
    /* a short string's header and bytes go out in one write of the packer's own
     * callback instead of two: keys are short literals, most fact fields a word or
     * two, and a result carries ~20 facts of 17 keys (bench/README.md). 0xa0 | n is
     * the fixstr header msgpack_pack_str itself writes for n < 32. */
    if (n >= 32) {
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, s, n);
        return;
    }
    char b[32];
    b[0] = (char)(0xa0 | n);
    memcpy(b + 1, s, n);
    pk->callback(pk->data, b, n + 1);
}

static inline void
key(msgpack_packer *pk, const char *k)
{
    pack_strn(pk, k, strlen(k));
}

void
cf_msg_pack_str(msgpack_packer *pk, const char *s)
{
    if (!s) {
        msgpack_pack_nil(pk);
        return;
    }
    pack_strn(pk, s, strlen(s));
}

void
cf_msg_pack_ref(msgpack_packer *pk, const void *ref, size_t ref_len)
{
    if (ref_len == 0)
        msgpack_pack_nil(pk);
    else
        msgpack_sbuffer_write(pk->data, ref, ref_len);
}

static void
pack_uint_or_nil(msgpack_packer *pk, uint64_t v)
{
    if (v)
        msgpack_pack_uint64(pk, v);
    else
        msgpack_pack_nil(pk);
}

static void
pack_op(msgpack_packer *pk, const char *op)
{
    key(pk, "op");
    cf_msg_pack_str(pk, op);
}

static void
pack_article_fields(msgpack_packer *pk, const cf_article_t *a)
{
    key(pk, "url");
    cf_msg_pack_str(pk, a->url);
    key(pk, "title");
    cf_msg_pack_str(pk, a->title ? a->title : "");
    key(pk, "body");
    cf_msg_pack_str(pk, a->body);
    key(pk, "source");
    cf_msg_pack_str(pk, a->source);
    key(pk, "published");
    cf_msg_pack_str(pk, a->published);
    key(pk, "lang");
    cf_msg_pack_str(pk, a->lang);
}

void
cf_msg_pack_article(msgpack_sbuffer *buf, const void *ref, size_t ref_len, const cf_article_t *a)
{
    PACKER(buf);
    msgpack_pack_map(pk, 9);
    pack_op(pk, "article");
    key(pk, "v");
    msgpack_pack_uint8(pk, CF_PROTOCOL_VERSION);
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    pack_article_fields(pk, a);
}

void
cf_msg_pack_ingest_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len, int rc,
                         uint64_t id, const char *error)
{
    PACKER(buf);
    msgpack_pack_map(pk, 2 + (id != 0) + (error != NULL));
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "status");
    cf_msg_pack_str(pk, cf_msg_status_name(rc));
    if (id) {
        key(pk, "id");
        msgpack_pack_uint64(pk, id);
    }
    if (error) {
        key(pk, "error");
        cf_msg_pack_str(pk, error);
    }
}

void
cf_msg_pack_op(msgpack_sbuffer *buf, const char *op, const void *ref, size_t ref_len)
{
    PACKER(buf);
    msgpack_pack_map(pk, ref_len ? 2 : 1);
    pack_op(pk, op);
    if (ref_len) {
        key(pk, "ref");
        cf_msg_pack_ref(pk, ref, ref_len);
    }
}

void
cf_msg_pack_ready(msgpack_sbuffer *buf, unsigned credit, uint64_t pid)
{
    cf_msg_pack_ready_token(buf, credit, pid, NULL);
}

void
cf_msg_pack_ready_token(msgpack_sbuffer *buf, unsigned credit, uint64_t pid, const char *token)
{
    PACKER(buf);
    msgpack_pack_map(pk, token ? 5 : 4);
    pack_op(pk, "ready");
    key(pk, "credit");
    msgpack_pack_unsigned_int(pk, credit);
    key(pk, "pid");
    msgpack_pack_uint64(pk, pid);
    key(pk, "version");
    msgpack_pack_uint8(pk, CF_PROTOCOL_VERSION);
    if (token) {
        key(pk, "token");
        cf_msg_pack_str(pk, token);
    }
}

void
cf_msg_pack_job(msgpack_sbuffer *buf, uint64_t job, const cf_article_t *a)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "job");
    key(pk, "job");
    msgpack_pack_uint64(pk, job);
    key(pk, "article");
    msgpack_pack_map(pk, 7);
    key(pk, "id");
    msgpack_pack_uint64(pk, a->id);
    pack_article_fields(pk, a);
}

void
cf_msg_pack_fact_map(msgpack_packer *pk, const cf_fact_t *f)
{
    msgpack_pack_map(pk, 17);
    key(pk, "seq");
    pack_uint_or_nil(pk, f->seq);
    key(pk, "article");
    pack_uint_or_nil(pk, f->article);
    key(pk, "type");
    cf_msg_pack_str(pk, f->type);
    key(pk, "subject");
    cf_msg_pack_str(pk, f->subject);
    key(pk, "object");
    cf_msg_pack_str(pk, f->object);
    key(pk, "value");
    if (f->has_value)
        msgpack_pack_double(pk, f->value);
    else
        msgpack_pack_nil(pk);
    key(pk, "unit");
    cf_msg_pack_str(pk, f->unit);
    key(pk, "period");
    cf_msg_pack_str(pk, f->period);
    key(pk, "place");
    cf_msg_pack_str(pk, f->place);
    key(pk, "detail");
    cf_msg_pack_str(pk, f->detail);
    key(pk, "qualifier");
    cf_msg_pack_str(pk, f->qualifier);
    key(pk, "status");
    cf_msg_pack_str(pk, f->status);
    key(pk, "source");
    cf_msg_pack_str(pk, f->source);
    key(pk, "confidence");
    msgpack_pack_double(pk, f->confidence);
    key(pk, "evidence");
    cf_msg_pack_str(pk, f->evidence);
    key(pk, "evidence_start");
    msgpack_pack_uint64(pk, f->evidence_start);
    key(pk, "evidence_end");
    msgpack_pack_uint64(pk, f->evidence_end);
}

void
cf_msg_pack_fact(msgpack_sbuffer *buf, const cf_fact_t *f)
{
    PACKER(buf);
    cf_msg_pack_fact_map(pk, f);
}

static void
pack_strv(msgpack_packer *pk, char *const *v, size_t n)
{
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        cf_msg_pack_str(pk, v[i]);
}

void
cf_msg_pack_result(msgpack_sbuffer *buf, uint64_t job, const cf_facts_t *facts,
                   const cf_class_t *cls)
{
    PACKER(buf);
    msgpack_pack_map(pk, 4);
    pack_op(pk, "result");
    key(pk, "job");
    msgpack_pack_uint64(pk, job);
    key(pk, "facts");
    msgpack_pack_array(pk, facts->n);
    /* the packer writes straight through to buf, so the facts can be appended
     * directly: the same bytes as cf_msg_pack_fact_map, at a fraction of the cost
     * (one capacity check per fact instead of two per field) */
    for (size_t i = 0; i < facts->n; i++) {
        cf_fact_view_t v;
        cf_fact_view_of(&v, &facts->v[i]);
        cf_msg_pack_fact_view(buf, &v);
    }
    key(pk, "class");
    if (!cls) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_map(pk, 4);
    key(pk, "relevant");
    if (cls->relevant)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    key(pk, "relevance");
    msgpack_pack_double(pk, cls->relevance);
    key(pk, "companies");
    pack_strv(pk, cls->companies, cls->ncompanies);
    key(pk, "regions");
    pack_strv(pk, cls->regions, cls->nregions);
}

void
cf_msg_pack_worker_error(msgpack_sbuffer *buf, uint64_t job, const char *error)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "error");
    key(pk, "job");
    pack_uint_or_nil(pk, job);
    key(pk, "error");
    cf_msg_pack_str(pk, error);
}

void
cf_msg_pack_article_done(msgpack_sbuffer *buf, uint64_t id, const char *url, uint64_t nfacts,
                         uint64_t first_seq, uint64_t last_seq)
{
    PACKER(buf);
    msgpack_pack_map(pk, 5);
    key(pk, "id");
    msgpack_pack_uint64(pk, id);
    key(pk, "url");
    cf_msg_pack_str(pk, url);
    key(pk, "facts");
    msgpack_pack_uint64(pk, nfacts);
    key(pk, "first_seq");
    pack_uint_or_nil(pk, first_seq);
    key(pk, "last_seq");
    pack_uint_or_nil(pk, last_seq);
}

void
cf_msg_pack_article_failed(msgpack_sbuffer *buf, uint64_t id, const char *url, unsigned attempts,
                           const char *error)
{
    PACKER(buf);
    msgpack_pack_map(pk, 4);
    key(pk, "id");
    msgpack_pack_uint64(pk, id);
    key(pk, "url");
    cf_msg_pack_str(pk, url);
    key(pk, "attempts");
    msgpack_pack_unsigned_int(pk, attempts);
    key(pk, "error");
    cf_msg_pack_str(pk, error);
}

void
cf_msg_pack_sys_heartbeat(msgpack_sbuffer *buf, uint64_t last, double time)
{
    PACKER(buf);
    msgpack_pack_map(pk, 2);
    key(pk, "last");
    msgpack_pack_uint64(pk, last);
    key(pk, "time");
    msgpack_pack_double(pk, time);
}

void
cf_msg_pack_replay(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t since,
                   const char *const *prefixes, size_t nprefixes, uint64_t limit, bool has_limit)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3 + (nprefixes > 0) + has_limit);
    pack_op(pk, "replay");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "since");
    msgpack_pack_uint64(pk, since);
    if (nprefixes) {
        key(pk, "prefix");
        msgpack_pack_array(pk, nprefixes);
        for (size_t i = 0; i < nprefixes; i++)
            cf_msg_pack_str(pk, prefixes[i]);
    }
    if (has_limit) {
        key(pk, "limit");
        msgpack_pack_uint64(pk, limit);
    }
}

void
cf_msg_pack_facts(msgpack_sbuffer *buf, const void *ref, size_t ref_len, const cf_msg_facts_t *q)
{
    PACKER(buf);
    const struct {
        const char *key;
        const char *val;
    } texts[] = {
        {"type", q->type},       {"subject", q->subject},         {"object", q->object},
        {"status", q->status},   {"place", q->place},             {"period_from", q->period_from},
        {"period_to", q->period_to},
    };
    size_t n = 3 + q->has_article + (q->text != NULL) + q->has_limit;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        n += texts[i].val != NULL;
    msgpack_pack_map(pk, n);
    pack_op(pk, "facts");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        if (texts[i].val) {
            key(pk, texts[i].key);
            cf_msg_pack_str(pk, texts[i].val);
        }
    }
    if (q->has_article) {
        key(pk, "article");
        msgpack_pack_uint64(pk, q->article);
    }
    if (q->text) {
        key(pk, "text");
        cf_msg_pack_str(pk, q->text);
    }
    key(pk, "since");
    msgpack_pack_uint64(pk, q->since);
    if (q->has_limit) {
        key(pk, "limit");
        msgpack_pack_uint64(pk, q->limit);
    }
}

void
cf_msg_pack_get_article(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t id)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "article");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "id");
    msgpack_pack_uint64(pk, id);
}

void
cf_msg_pack_query_fact(msgpack_sbuffer *buf, const void *ref, size_t ref_len, const cf_fact_t *f)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "fact");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "fact");
    cf_msg_pack_fact_map(pk, f);
}

void
cf_msg_pack_end(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t last,
                uint64_t head, const char *error)
{
    PACKER(buf);
    msgpack_pack_map(pk, 4 + (error != NULL));
    pack_op(pk, "end");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "last");
    msgpack_pack_uint64(pk, last);
    key(pk, "head");
    msgpack_pack_uint64(pk, head);
    if (error) {
        key(pk, "error");
        cf_msg_pack_str(pk, error);
    }
}

void
cf_msg_pack_query_error(msgpack_sbuffer *buf, const void *ref, size_t ref_len, const char *error)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "error");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "error");
    cf_msg_pack_str(pk, error);
}

void
cf_msg_pack_article_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                          const cf_article_t *a, const char *state, const cf_facts_t *facts)
{
    PACKER(buf);
    msgpack_pack_map(pk, 4);
    pack_op(pk, "article");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "article");
    msgpack_pack_map(pk, 8);
    key(pk, "id");
    msgpack_pack_uint64(pk, a->id);
    pack_article_fields(pk, a);
    key(pk, "state");
    cf_msg_pack_str(pk, state);
    key(pk, "facts");
    msgpack_pack_array(pk, facts->n);
    for (size_t i = 0; i < facts->n; i++)
        cf_msg_pack_fact_map(pk, &facts->v[i]);
}

void
cf_msg_pack_quarantine(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t since,
                       uint64_t limit)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3 + (limit != 0));
    pack_op(pk, "quarantine");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "since");
    msgpack_pack_uint64(pk, since);
    if (limit) {
        key(pk, "limit");
        msgpack_pack_uint64(pk, limit);
    }
}

void
cf_msg_pack_quarantined(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t id,
                        const char *url, const char *title, unsigned attempts, const char *error,
                        const char *received_at)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "quarantined");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "article");
    msgpack_pack_map(pk, 6);
    key(pk, "id");
    msgpack_pack_uint64(pk, id);
    key(pk, "url");
    cf_msg_pack_str(pk, url);
    key(pk, "title");
    cf_msg_pack_str(pk, title);
    key(pk, "attempts");
    msgpack_pack_unsigned_int(pk, attempts);
    key(pk, "error");
    cf_msg_pack_str(pk, error);
    key(pk, "received_at");
    cf_msg_pack_str(pk, received_at);
}

void
cf_msg_pack_requeue(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t id, bool all)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "requeue");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    if (all) {
        key(pk, "all");
        msgpack_pack_true(pk);
    } else {
        key(pk, "id");
        msgpack_pack_uint64(pk, id);
    }
}

void
cf_msg_pack_requeue_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                          uint64_t requeued)
{
    PACKER(buf);
    msgpack_pack_map(pk, 3);
    pack_op(pk, "requeue");
    key(pk, "ref");
    cf_msg_pack_ref(pk, ref, ref_len);
    key(pk, "requeued");
    msgpack_pack_uint64(pk, requeued);
}

/* ---- the replay hot path: {op: fact, ref, fact} written straight into buf ---- */

/* The bytes of {op: "fact", ref: (follows), ...}: fixmap 3, "op", "fact", "ref". */
static const uint8_t qf_head[] = {0x83, 0xa2, 'o', 'p', 0xa4, 'f', 'a', 'c', 't',
                                  0xa3, 'r', 'e', 'f'};
/* "fact" and the fact map header: map16 of 17 entries. */
static const uint8_t qf_fact[] = {0xa4, 'f', 'a', 'c', 't', 0xde, 0x00, 0x11};

static inline uint8_t *
w_raw(uint8_t *o, const void *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

/* A fixstr key (every key of a fact is shorter than 32 bytes). */
static inline uint8_t *
w_key(uint8_t *o, const char *k, size_t n)
{
    *o++ = (uint8_t)(0xa0 | n);
    return w_raw(o, k, n);
}
#define W_KEY(o, lit) w_key((o), lit, sizeof lit - 1)

static inline uint8_t *
w_be(uint8_t *o, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *o++ = (uint8_t)(v >> (8 * i));
    return o;
}

/* As msgpack_pack_uint64: the shortest unsigned form. */
static inline uint8_t *
w_uint(uint8_t *o, uint64_t v)
{
    if (v < 128) {
        *o++ = (uint8_t)v;
    } else if (v < 256) {
        *o++ = 0xcc;
        *o++ = (uint8_t)v;
    } else if (v < 65536) {
        *o++ = 0xcd;
        o = w_be(o, v, 2);
    } else if (v < 4294967296ULL) {
        *o++ = 0xce;
        o = w_be(o, v, 4);
    } else {
        *o++ = 0xcf;
        o = w_be(o, v, 8);
    }
    return o;
}

static inline uint8_t *
w_uint_or_nil(uint8_t *o, uint64_t v)
{
    if (!v) {
        *o++ = 0xc0;
        return o;
    }
    return w_uint(o, v);
}

static inline uint8_t *
w_double(uint8_t *o, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    *o++ = 0xcb;
    return w_be(o, u, 8);
}

/* As cf_msg_pack_str: nil, or the shortest str header and the bytes. */
static inline uint8_t *
w_str(uint8_t *o, cf_strv_t s)
{
    if (!s.p) {
        *o++ = 0xc0;
        return o;
    }
    if (s.n < 32) {
        *o++ = (uint8_t)(0xa0 | s.n);
    } else if (s.n < 256) {
        *o++ = 0xd9;
        *o++ = (uint8_t)s.n;
    } else if (s.n < 65536) {
        *o++ = 0xda;
        o = w_be(o, s.n, 2);
    } else {
        *o++ = 0xdb;
        o = w_be(o, s.n, 4);
    }
    return w_raw(o, s.p, s.n);
}

/* Bytes of the fact map of v at most: header, keys (< 160), 6 numbers of <= 9, 11
 * strings of <= 5 + their bytes. */
static size_t
fact_map_bound(const cf_fact_view_t *v)
{
    const cf_strv_t *strs[] = {&v->type,   &v->subject,   &v->object, &v->unit,
                               &v->period, &v->place,     &v->detail, &v->qualifier,
                               &v->status, &v->source,    &v->evidence};
    size_t need = 3 + 160 + 6 * 9;
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        need += 5 + (strs[i]->p ? strs[i]->n : 0);
    return need;
}

/* Room for need more bytes in buf. */
static uint8_t *
reserve(msgpack_sbuffer *buf, size_t need)
{
    if (buf->alloc - buf->size < need) {
        size_t cap = buf->alloc ? buf->alloc : 8192;
        while (cap - buf->size < need)
            cap *= 2;
        char *p = realloc(buf->data, cap);
        if (!p)
            abort(); /* as msgpack_sbuffer_write's callers: out of memory is fatal */
        buf->data = p;
        buf->alloc = cap;
    }
    return (uint8_t *)buf->data + buf->size;
}

/* The fact map (map16 of 17 entries), as cf_msg_pack_fact_map packs it. */
static uint8_t *
w_fact_map(uint8_t *o, const cf_fact_view_t *v)
{
    *o++ = 0xde;
    *o++ = 0x00;
    *o++ = 0x11;
    o = W_KEY(o, "seq");
    o = w_uint_or_nil(o, v->seq);
    o = W_KEY(o, "article");
    o = w_uint_or_nil(o, v->article);
    o = W_KEY(o, "type");
    o = w_str(o, v->type);
    o = W_KEY(o, "subject");
    o = w_str(o, v->subject);
    o = W_KEY(o, "object");
    o = w_str(o, v->object);
    o = W_KEY(o, "value");
    if (v->has_value)
        o = w_double(o, v->value);
    else
        *o++ = 0xc0;
    o = W_KEY(o, "unit");
    o = w_str(o, v->unit);
    o = W_KEY(o, "period");
    o = w_str(o, v->period);
    o = W_KEY(o, "place");
    o = w_str(o, v->place);
    o = W_KEY(o, "detail");
    o = w_str(o, v->detail);
    o = W_KEY(o, "qualifier");
    o = w_str(o, v->qualifier);
    o = W_KEY(o, "status");
    o = w_str(o, v->status);
    o = W_KEY(o, "source");
    o = w_str(o, v->source);
    o = W_KEY(o, "confidence");
    o = w_double(o, v->confidence);
    o = W_KEY(o, "evidence");
    o = w_str(o, v->evidence);
    o = W_KEY(o, "evidence_start");
    o = w_uint(o, v->evidence_start);
    o = W_KEY(o, "evidence_end");
    o = w_uint(o, v->evidence_end);
    return o;
}

size_t
cf_msg_pack_query_fact_view(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                            const cf_fact_view_t *v)
{
    size_t need = sizeof qf_head + (ref_len ? ref_len : 1) + sizeof qf_fact + fact_map_bound(v);
    uint8_t *o0 = reserve(buf, need), *o = o0;
    o = w_raw(o, qf_head, sizeof qf_head);
    if (ref_len)
        o = w_raw(o, ref, ref_len);
    else
        *o++ = 0xc0;
    o = w_raw(o, qf_fact, sizeof qf_fact - 3); /* "fact"; w_fact_map writes the header */
    o = w_fact_map(o, v);
    size_t n = (size_t)(o - o0);
    buf->size += n;
    return n;
}

size_t
cf_msg_pack_fact_view(msgpack_sbuffer *buf, const cf_fact_view_t *v)
{
    uint8_t *o0 = reserve(buf, fact_map_bound(v));
    size_t n = (size_t)(w_fact_map(o0, v) - o0);
    buf->size += n;
    return n;
}

static inline cf_strv_t
strv_of(const char *s)
{
    return (cf_strv_t){s, s ? strlen(s) : 0};
}

void
cf_fact_view_of(cf_fact_view_t *v, const cf_fact_t *f)
{
    v->seq = f->seq;
    v->article = f->article;
    v->type = strv_of(f->type);
    v->subject = strv_of(f->subject);
    v->object = strv_of(f->object);
    v->has_value = f->has_value;
    v->value = f->value;
    v->unit = strv_of(f->unit);
    v->period = strv_of(f->period);
    v->place = strv_of(f->place);
    v->detail = strv_of(f->detail);
    v->qualifier = strv_of(f->qualifier);
    v->status = strv_of(f->status);
    v->source = strv_of(f->source);
    v->confidence = f->confidence;
    v->evidence = strv_of(f->evidence);
    v->evidence_start = f->evidence_start;
    v->evidence_end = f->evidence_end;
}
