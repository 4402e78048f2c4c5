/* SPDX-License-Identifier: MIT
 * cf_json: facts and msgpack bodies to JSON, JSON objects to articles. */
#include "cf_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <msgpack.h>

#include "cf_msg.h"
#include "cf_text.h"

static json_t *
number(double v)
{
    /* integral values within double's exact range print as integers */
    if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* jansson's integers are signed: a value past INT64_MAX (no real archive makes one:
 * seq and ids are SQLite row ids) becomes a number, as from_obj does, not a negative */
static json_t *
json_u64(uint64_t v)
{
    return v > INT64_MAX ? json_real((double)v) : json_integer((json_int_t)v);
}

json_t *
cf_json_fact(const cf_fact_t *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", f->seq ? json_u64(f->seq) : json_null());
    if (f->article_name)
        json_object_set_new(o, "article", json_string(f->article_name));
    else
        json_object_set_new(o, "article", f->article ? json_u64(f->article) : json_null());
    json_object_set_new(o, "type", str_or_null(f->type));
    json_object_set_new(o, "subject", str_or_null(f->subject));
    json_object_set_new(o, "object", str_or_null(f->object));
    json_object_set_new(o, "value", f->has_value ? number(f->value) : json_null());
    json_object_set_new(o, "unit", str_or_null(f->unit));
    json_object_set_new(o, "period", str_or_null(f->period));
    json_object_set_new(o, "place", str_or_null(f->place));
    json_object_set_new(o, "detail", str_or_null(f->detail));
    json_object_set_new(o, "qualifier", str_or_null(f->qualifier));
    json_object_set_new(o, "status", str_or_null(f->status));
    json_object_set_new(o, "source", str_or_null(f->source));
    json_object_set_new(o, "confidence", number(f->confidence));
    json_object_set_new(o, "evidence", str_or_null(f->evidence));
    json_object_set_new(o, "evidence_start", json_u64(f->evidence_start));
    json_object_set_new(o, "evidence_end", json_u64(f->evidence_end));
    return o;
}

/* ---- facts without jansson ---------------------------------------------------- */
/* A fact line is written straight into its buffer: one capacity check per fact
 * (the bound computed at the top of cf_json_fact_append), then stores through a
 * pointer. Literal pieces have constant sizes, so their copies compile to a few moves
 * instead of a call each. */

static void
reserve(cf_json_buf_t *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more)
        cap *= 2;
    b->data = cf_realloc(b->data, cap);
    b->cap = cap;
}

#define W_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

static char *
w_raw(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static bool
needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The index of the first byte of s[i, n) that needs escaping, or n. Evidence and
 * names rarely hold one: with SSE2 the scan takes 16 bytes per step. */
static size_t
next_escape(const char *s, size_t i, size_t n)
{
#if defined(__SSE2__)
    const __m128i ctl = _mm_set1_epi8(0x1f), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\');
    for (; n - i >= 16; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* c < 0x20 (unsigned) exactly when max(c, 0x1f) == 0x1f */
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                                                _mm_cmpeq_epi8(v, bslash)));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < n && !needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

/* The letter of c's two-character escape (\n for a line feed...), or 0 for \u00XX. */
static char
short_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    default:
        return 0;
    }
}

/* Bytes that w_str writes for a string of n bytes at most: every byte escaped as
 * \u00XX, and the quotes (or "null"). */
static size_t
str_bound(size_t n)
{
    return 6 * n + 4;
}

/* A JSON string as jansson writes it without JSON_ENSURE_ASCII: '"' and '\\'
 * escaped, control characters as \b \f \n \r \t or \u00XX, the rest as is. s of n
 * bytes, or NULL for null. */
static char *
w_str(char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!s)
        return W_LIT(o, "null");
    *o++ = '"';
    size_t run = 0;
    for (size_t i = next_escape(s, 0, n); i < n; i = next_escape(s, run, n)) {
        o = w_raw(o, s + run, i - run);
        unsigned char c = (unsigned char)s[i];
        char e = short_escape(c);
        *o++ = '\\';
        if (e) {
            *o++ = e;
        } else {
            o = W_LIT(o, "u00");
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
        run = i + 1;
    }
    o = w_raw(o, s + run, n - run);
    *o++ = '"';
    return o;
}

#define U64_MAX_DIGITS 20

static char *
w_u64(char *o, uint64_t v)
{
    char tmp[U64_MAX_DIGITS];
    size_t i = sizeof tmp;
    do
        tmp[--i] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return w_raw(o, tmp + i, sizeof tmp - i);
}

/* number() as text: integral values as integers, others as jansson prints a real
 * with JSON_REAL_PRECISION(15) (%.15g, no '+' or leading zeros in the exponent,
 * ".0" when it would read as an integer). */
/* The last reals formatted, by their bits: confidences and common values repeat
 * from fact to fact, and %.15g is the writer's most expensive step. */
#define REAL_CACHE 16
#define REAL_TEXT 40 /* more than %.15g's longest ("-1.23456789012345e-308") */

typedef struct real_text {
    uint64_t bits;
    char text[REAL_TEXT];
    size_t len;
    bool used;
} real_text_t;

static char *
w_number(char *o, double v)
{
    char tmp[REAL_TEXT];
    if (isfinite(v) && v == floor(v) && fabs(v) < 9007199254740992.0) {
        if (v < 0) {
            *o++ = '-';
            v = -v;
        }
        return w_u64(o, (uint64_t)v);
    }
    static real_text_t cache[REAL_CACHE]; /* the command line is single-threaded */
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    real_text_t *slot = &cache[(bits ^ (bits >> 29)) % REAL_CACHE];
    if (slot->used && slot->bits == bits)
        return w_raw(o, slot->text, slot->len);
    snprintf(tmp, sizeof tmp, "%.15g", v);
    char *e = strchr(tmp, 'e');
    if (e) {
        char *d = e + 1, *src = e + 1;
        if (*src == '+')
            src++;
        else if (*src == '-')
            *d++ = *src++;
        while (*src == '0' && src[1])
            src++;
        memmove(d, src, strlen(src) + 1);
    } else if (!strchr(tmp, '.')) {
        strcat(tmp, ".0");
    }
    slot->bits = bits;
    slot->used = true;
    slot->len = strlen(tmp);
    memcpy(slot->text, tmp, sizeof tmp);
    return w_raw(o, tmp, slot->len);
}

/* ,"key":"value" for string field k of cf_json_fact_append (its s and n) */
#define W_STR_FIELD(o, key, k) w_str(W_LIT((o), ",\"" key "\":"), s[k], n[k])

enum {
    JS_ARTICLE,
    JS_TYPE,
    JS_SUBJECT,
    JS_OBJECT,
    JS_UNIT,
    JS_PERIOD,
    JS_PLACE,
    JS_DETAIL,
    JS_QUALIFIER,
    JS_STATUS,
    JS_SOURCE,
    JS_EVIDENCE,
    JS_COUNT
};

void
cf_json_fact_append(const cf_fact_t *f, cf_json_buf_t *b)
{
    const char *s[JS_COUNT] = {f->article_name, f->type,   f->subject, f->object,
                               f->unit,         f->period, f->place,   f->detail,
                               f->qualifier,    f->status, f->source,  f->evidence};
    size_t n[JS_COUNT];
    /* the keys and punctuation (< 256 bytes), 4 integers, 2 reals, the strings */
    size_t need = 256 + 4 * (U64_MAX_DIGITS + 1) + 2 * REAL_TEXT;
    for (size_t i = 0; i < JS_COUNT; i++) {
        n[i] = s[i] ? strlen(s[i]) : 0;
        need += str_bound(n[i]);
    }
    reserve(b, need);
    char *o = b->data + b->len;
    o = W_LIT(o, "{\"seq\":");
    o = f->seq ? w_u64(o, f->seq) : W_LIT(o, "null");
    o = W_LIT(o, ",\"article\":");
    if (f->article_name)
        o = w_str(o, s[JS_ARTICLE], n[JS_ARTICLE]);
    else
        o = f->article ? w_u64(o, f->article) : W_LIT(o, "null");
    o = W_STR_FIELD(o, "type", JS_TYPE);
    o = W_STR_FIELD(o, "subject", JS_SUBJECT);
    o = W_STR_FIELD(o, "object", JS_OBJECT);
    o = W_LIT(o, ",\"value\":");
    o = f->has_value ? w_number(o, f->value) : W_LIT(o, "null");
    o = W_STR_FIELD(o, "unit", JS_UNIT);
    o = W_STR_FIELD(o, "period", JS_PERIOD);
    o = W_STR_FIELD(o, "place", JS_PLACE);
    o = W_STR_FIELD(o, "detail", JS_DETAIL);
    o = W_STR_FIELD(o, "qualifier", JS_QUALIFIER);
    o = W_STR_FIELD(o, "status", JS_STATUS);
    o = W_STR_FIELD(o, "source", JS_SOURCE);
    o = W_LIT(o, ",\"confidence\":");
    o = w_number(o, f->confidence);
    o = W_STR_FIELD(o, "evidence", JS_EVIDENCE);
    o = W_LIT(o, ",\"evidence_start\":");
    o = w_u64(o, (uint64_t)f->evidence_start);
    o = W_LIT(o, ",\"evidence_end\":");
    o = w_u64(o, (uint64_t)f->evidence_end);
    o = W_LIT(o, "}\n");
    b->len = (size_t)(o - b->data);
}

#undef W_STR_FIELD

void
cf_json_buf_free(cf_json_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static json_t *
from_obj(const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return o->via.u64 > INT64_MAX ? json_real((double)o->via.u64)
                                      : json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return isfinite(o->via.f64) ? number(o->via.f64) : json_null();
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        /* text that is not UTF-8 cannot be JSON: it becomes null */
        json_t *s = o->type == MSGPACK_OBJECT_STR ? json_stringn(o->via.str.ptr, o->via.str.size)
                                                  : json_stringn(o->via.bin.ptr, o->via.bin.size);
        return s ? s : json_null();
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; i < o->via.array.size; i++)
            json_array_append_new(a, from_obj(&o->via.array.ptr[i]));
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR)
                continue;
            char *key = cf_strndup(k->via.str.ptr, k->via.str.size);
            json_object_set_new(m, key, from_obj(&o->via.map.ptr[i].val));
            free(key);
        }
        return m;
    }
    default: return json_null();
    }
}

json_t *
cf_json_from_msgpack(const void *data, size_t len)
{
    if (cf_msg_scan(data, len, NULL) != CF_OK)
        return NULL;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    json_t *v = NULL;
    if (msgpack_unpack_next(&up, data, len, &off) == MSGPACK_UNPACK_SUCCESS)
        v = from_obj(&up.data);
    msgpack_unpacked_destroy(&up);
    return v;
}

int
cf_json_print_line(json_t *v, FILE *out)
{
    /* JSON_ENSURE_ASCII off: UTF-8 passes through; 15 digits: 0.8 prints as 0.8 */
    if (json_dumpf(v, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) != 0)
        return -1;
    if (fputc('\n', out) == EOF || fflush(out) != 0)
        return -1;
    return 0;
}

static int
text(const json_t *obj, const char *key, bool required, char **out, cf_err_t *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return cf_err_set(err, CF_EINVAL, "field '%s': missing", key);
        return CF_OK;
    }
    if (!json_is_string(v))
        return cf_err_set(err, CF_EINVAL, "field '%s': expected a string", key);
    *out = cf_strndup(json_string_value(v), json_string_length(v));
    return CF_OK;
}

int
cf_json_to_article(const json_t *obj, cf_article_t *a, cf_err_t *err)
{
    memset(a, 0, sizeof *a);
    int rc;
    if (!json_is_object(obj))
        return cf_err_set(err, CF_EINVAL, "expected a JSON object");
    if ((rc = text(obj, "url", true, &a->url, err)) != CF_OK ||
        (rc = text(obj, "title", false, &a->title, err)) != CF_OK ||
        (rc = text(obj, "body", true, &a->body, err)) != CF_OK ||
        (rc = text(obj, "source", false, &a->source, err)) != CF_OK ||
        (rc = text(obj, "published", false, &a->published, err)) != CF_OK ||
        (rc = text(obj, "lang", false, &a->lang, err)) != CF_OK) {
        cf_article_clear(a);
        return rc;
    }
    if (!a->title)
        a->title = cf_strdup("");
    a->body_len = strlen(a->body);
    return CF_OK;
}
