/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * mod_expect.c: handling of the HTTP "Expect" request header field
 *
 * httpd answers every Expect value except the exact string "100-continue"
 * with an HTML 417 before any module sees the request, and then drops the
 * connection.  This module takes the field before that check, parses it as
 * the comma-separated list RFC 9110 section 10.1.1 defines, judges every
 * expectation against the per-directory configuration once access control
 * has passed, and either lets the request proceed (100-continue deferred to
 * the first body read or sent at once) or answers 417 Expectation Failed
 * with a JSON body saying what failed and what would be accepted.
 *
 * Directives (server config, virtual host, directory, .htaccess FileInfo):
 *
 *   ExpectEngine       On|Off                      default On
 *   ExpectContinue     Defer|Immediate|Reject      default Defer
 *   ExpectAllow        None|token [token] ...      default None
 *   ExpectUnknown      Reject|Ignore               default Reject
 *   ExpectErrorFormat  JSON|Problem|HTML           default JSON
 *   ExpectErrorMessage "text"
 *
 * The outcome is published as the environment variable EXPECT_OUTCOME
 * (rejected, immediate, continue, accepted or ignored).
 *
 * Example:
 *
 *   LoadModule expect_module modules/mod_expect.so
 *   <Location "/upload">
 *       ExpectContinue Immediate
 *       ExpectAllow x-checksum
 *   </Location>
 *   <Location "/api">
 *       ExpectContinue Reject
 *       ExpectErrorFormat Problem
 *   </Location>
 *
 * How the field is taken before httpd's check: HTTP/1.x header lines are
 * read one by one in AP_MODE_GETLINE through the request's input filter
 * chain.  A connection input filter, armed by pre_read_request for each
 * request's header block, renames the name of every "Expect:" line to the
 * private name EXPECT_STASH_FIELD, which has the same length and is a valid
 * token, so that httpd parses, folds, counts and limits the line exactly as
 * it would have, but its own Expect check no longer sees it.  The
 * post_read_request hook then takes the merged value out of the table.
 * HTTP/2 requests arrive with their header table already filled; the
 * pre_read_request hook takes the field from the table directly.
 */

#include "apr_strings.h"
#include "apr_hash.h"
#include "apr_lib.h"
#include "apr_atomic.h"
#include "apr_shm.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "mod_core.h"
#include "mod_proxy.h"
#include "mod_status.h"

module AP_MODULE_DECLARE_DATA expect_module;

#define EXPECT_DEFAULT_ENGINE   1
#define EXPECT_DEFAULT_CONTINUE EXPECT_CONTINUE_DEFER
#define EXPECT_DEFAULT_UNKNOWN  EXPECT_UNKNOWN_REJECT
#define EXPECT_DEFAULT_FORMAT   EXPECT_FORMAT_JSON
#define EXPECT_DEFAULT_MESSAGE  \
    "The server cannot meet the expectation specified in the Expect header."

/* Bytes of the received field quoted in a 417 body and in the log. */
#define EXPECT_QUOTE_FIELD_MAX  256
/* Bytes of a malformed member quoted in "unmet". */
#define EXPECT_QUOTE_MEMBER_MAX 64

/* The name "Expect" lines carry between the filter and post_read_request.
 * Same length as "Expect", so LimitRequestFieldSize counts identically.
 * A client sending this name itself only adds to its Expect list. */
#define EXPECT_STASH_FIELD      "Expec~"
#define EXPECT_NAME_LEN         6

#define EXPECT_UNSET            -1

#define EXPECT_IN_FILTER        "EXPECT_IN"

/* Keeps the rare work out of the hot functions' frames. */
#if defined(__GNUC__)
#define EXPECT_NOINLINE __attribute__((noinline))
#else
#define EXPECT_NOINLINE
#endif
#define EXPECT_ERROR_FILTER     "EXPECT_ERROR"
#define EXPECT_OUTCOME_VAR      "EXPECT_OUTCOME"

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

typedef enum {
    EXPECT_CONTINUE_DEFER = 0,
    EXPECT_CONTINUE_IMMEDIATE,
    EXPECT_CONTINUE_REJECT
} expect_continue_e;

typedef enum {
    EXPECT_UNKNOWN_REJECT = 0,
    EXPECT_UNKNOWN_IGNORE
} expect_unknown_e;

typedef enum {
    EXPECT_FORMAT_JSON = 0,
    EXPECT_FORMAT_PROBLEM,
    EXPECT_FORMAT_HTML
} expect_format_e;

typedef enum {
    EXPECT_MEMBER_CONTINUE = 0,  /* the bare 100-continue expectation */
    EXPECT_MEMBER_EXTENSION,     /* a well-formed expectation, anything else */
    EXPECT_MEMBER_MALFORMED      /* does not fit the grammar */
} expect_member_e;

/* One list member of the parsed field; text points into the field. */
typedef struct {
    const char *text;       /* the member as received, OWS trimmed */
    apr_size_t len;         /* length of text */
    apr_size_t name_len;    /* length of the leading token (0: malformed) */
    expect_member_e kind;
    int duplicate;          /* an earlier member is the same expectation */
} expect_member;

/* Per-directory configuration; every scalar starts EXPECT_UNSET. */
typedef struct {
    int engine;
    int cont;               /* expect_continue_e */
    int unknown;            /* expect_unknown_e */
    int format;             /* expect_format_e */
    const char *message;    /* NULL: unset */
    apr_array_header_t *allow;  /* of const char *; NULL: unset */
} expect_dir_conf;

/* Counters shared by every child and thread, one slot per virtual host.
 * The slot directory lives in the same anonymous shared memory segment,
 * which the parent keeps across restarts (see expect_counters_attach). */
typedef enum {
    EXPECT_COUNT_REQUESTS = 0,  /* requests that carried a non-empty Expect */
    EXPECT_COUNT_REJECTED,
    EXPECT_COUNT_IMMEDIATE,
    EXPECT_COUNT_CONTINUE,
    EXPECT_COUNT_ACCEPTED,
    EXPECT_COUNT_IGNORED,
    EXPECT_COUNTERS
} expect_counter_e;

#define EXPECT_SLOT_KEY_MAX 128

typedef struct {
    char key[EXPECT_SLOT_KEY_MAX];      /* "host:port"; empty when free */
    volatile apr_uint64_t count[EXPECT_COUNTERS];
} expect_slot;

typedef struct {
    apr_uint32_t nslots;
    expect_slot slot[1];
} expect_counters;

/* Per-connection state of the header-line filter. */
typedef enum {
    EXPECT_LINES_PASS = 0,  /* not reading a header block */
    EXPECT_LINES_REQUEST,   /* before the request line */
    EXPECT_LINES_HEADERS    /* inside the header block */
} expect_lines_e;

typedef struct {
    expect_lines_e state;
    int mid_line;           /* the last bytes passed up did not end a line */
    int stashed;            /* an Expect line was renamed in this block */
    apr_bucket_brigade *more;
    /* The filter keeps what it needs after its call down the chain here
     * rather than in registers and on its stack: a leaner frame. */
    ap_filter_t *f;
    apr_read_type_e block;
    const char *data;
    apr_size_t len;
} expect_conn_ctx;

/* Per-request record, present only on requests that carried Expect. */
typedef struct {
    const char *field;      /* received value, several lines joined ", " */
    apr_array_header_t *members;
    int wants_100;          /* a bare 100-continue member, on an HTTP/1.1+
                             * request with content */
    int may_wait;           /* the request has content and some member
                             * starts with "100-continue": the client may
                             * be holding its body back */
    int judged;             /* the members have been judged */
    int acted;              /* fixups has acted on the judgement */
    int stock;              /* ExpectEngine Off: httpd's own rules */
    const expect_dir_conf *conf;    /* the configuration that judged */
    apr_array_header_t *unmet;      /* of const expect_member * */
    int by_continue;        /* 100-continue under ExpectContinue Reject */
    int by_unknown;         /* an unknown member under ExpectUnknown Reject */
    const char *outcome;    /* EXPECT_OUTCOME value, NULL before judgement */
    int counter;            /* expect_counter_e of the outcome */
    const char *kept;       /* the Expect field passed on, NULL for none */
    const char *extensions; /* accepted extension members, joined ", " */
    const char *body;       /* 417 body, when the module answers it */
    const char *content_type;
} expect_request;

/* ------------------------------------------------------------------ */
/* Pure section: the RFC 9110 list parser and the JSON writer.          */
/* Only bytes and an apr_pool_t: no request_rec, no ap_* calls.         */
/* ------------------------------------------------------------------ */

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static int expect_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')) {
        return 1;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'':
    case '*': case '+': case '-': case '.': case '^': case '_':
    case '`': case '|': case '~':
        return 1;
    }
    return 0;
}

static int expect_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static int expect_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int expect_ci_equal(const char *a, const char *b, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        if (expect_lower((unsigned char)a[i])
            != expect_lower((unsigned char)b[i])) {
            return 0;
        }
    }
    return 1;
}

static apr_size_t expect_token_len(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    while (i < len && expect_is_tchar((unsigned char)s[i])) {
        i++;
    }
    return i;
}

/* Length of the quoted-string at s (which starts with DQUOTE), or 0 when
 * it is not a complete, valid quoted-string. */
static apr_size_t expect_quoted_len(const char *s, apr_size_t len)
{
    apr_size_t i = 1;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            return i + 1;
        }
        if (c == '\\') {
            if (i + 1 >= len) {
                return 0;
            }
            c = (unsigned char)s[i + 1];
            if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                return 0;
            }
            i += 2;
            continue;
        }
        if (c != '\t' && (c < 0x20 || c == 0x7f)) {
            return 0;
        }
        i++;
    }
    return 0;
}

/* Length of a token / quoted-string value at s, 0 when there is none. */
static apr_size_t expect_value_len(const char *s, apr_size_t len)
{
    if (len && s[0] == '"') {
        return expect_quoted_len(s, len);
    }
    return expect_token_len(s, len);
}

/* Classify one trimmed, non-empty member:
 * expectation = token [ "=" ( token / quoted-string ) parameters ]
 * parameters  = *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] ) */
static void expect_classify(expect_member *m)
{
    const char *s = m->text;
    apr_size_t len = m->len, i, n;

    n = expect_token_len(s, len);
    m->name_len = n;
    if (n == 0) {
        m->kind = EXPECT_MEMBER_MALFORMED;
        return;
    }
    if (n == len) {
        m->kind = (n == 12 && expect_ci_equal(s, "100-continue", 12))
                  ? EXPECT_MEMBER_CONTINUE : EXPECT_MEMBER_EXTENSION;
        return;
    }
    m->kind = EXPECT_MEMBER_MALFORMED;
    i = n;
    if (s[i++] != '=') {
        return;
    }
    if ((n = expect_value_len(s + i, len - i)) == 0) {
        return;
    }
    i += n;
    while (i < len) {
        while (i < len && expect_is_ows((unsigned char)s[i])) {
            i++;
        }
        if (i == len || s[i++] != ';') {
            return;
        }
        while (i < len && expect_is_ows((unsigned char)s[i])) {
            i++;
        }
        if (i == len || s[i] == ';') {
            continue;   /* an empty parameter */
        }
        if ((n = expect_token_len(s + i, len - i)) == 0) {
            return;
        }
        i += n;
        if (i == len || s[i++] != '=') {
            return;
        }
        if ((n = expect_value_len(s + i, len - i)) == 0) {
            return;
        }
        i += n;
    }
    m->kind = EXPECT_MEMBER_EXTENSION;
}

/* Hash of a member's identity: the name case-folded, the rest as is. */
static apr_uint64_t expect_member_hash(const expect_member *m,
                                       apr_uint64_t seed)
{
    apr_uint64_t h = seed ^ APR_UINT64_C(0xcbf29ce484222325);
    apr_size_t i;
    for (i = 0; i < m->len; i++) {
        unsigned char c = (unsigned char)m->text[i];
        h ^= (i < m->name_len) ? (unsigned char)expect_lower(c) : c;
        h *= APR_UINT64_C(0x100000001b3);
        h ^= h >> 29;
    }
    h ^= seed >> 7;
    h *= APR_UINT64_C(0x9e3779b97f4a7c15);
    return h ^ (h >> 32);
}

static int expect_member_same(const expect_member *a, const expect_member *b)
{
    if (a->len != b->len || a->name_len != b->name_len) {
        return 0;
    }
    return expect_ci_equal(a->text, b->text, a->name_len)
           && memcmp(a->text + a->name_len, b->text + b->name_len,
                     a->len - a->name_len) == 0;
}

/* Mark each member that repeats an earlier one.  Open addressing over an
 * index table twice the member count, keyed by a seeded hash: linear in
 * the number of members whatever their spelling. */
static void expect_mark_duplicates(apr_array_header_t *members,
                                   apr_pool_t *p, apr_uint64_t seed)
{
    expect_member *m = (expect_member *)members->elts;
    apr_size_t n = (apr_size_t)members->nelts, size = 4, i;
    int *slots;

    if (n < 2) {
        return;
    }
    while (size < 2 * n) {
        size *= 2;
    }
    slots = apr_palloc(p, size * sizeof(*slots));
    for (i = 0; i < size; i++) {
        slots[i] = -1;
    }
    for (i = 0; i < n; i++) {
        apr_size_t at = (apr_size_t)expect_member_hash(&m[i], seed)
                        & (size - 1);
        while (slots[at] >= 0) {
            if (expect_member_same(&m[slots[at]], &m[i])) {
                m[i].duplicate = 1;
                break;
            }
            at = (at + 1) & (size - 1);
        }
        if (!m[i].duplicate) {
            slots[at] = (int)i;
        }
    }
}

/* Parse an Expect field value (RFC 9110: Expect = #expectation) into its
 * members, in received order.  Empty elements and OWS are skipped; commas
 * inside a quoted-string do not split; an unbalanced quote runs to the end
 * of the field and makes that member malformed.  One pass to split, one to
 * classify, one to find duplicates: linear in len. */
static apr_array_header_t *expect_parse(const char *s, apr_size_t len,
                                        apr_pool_t *p, apr_uint64_t seed)
{
    apr_array_header_t *members = apr_array_make(p, 2, sizeof(expect_member));
    apr_size_t i = 0;

    while (i < len) {
        apr_size_t start, end;
        int quoted = 0;

        while (i < len && expect_is_ows((unsigned char)s[i])) {
            i++;
        }
        start = i;
        while (i < len) {
            char c = s[i];
            if (quoted) {
                if (c == '\\' && i + 1 < len) {
                    i++;
                }
                else if (c == '"') {
                    quoted = 0;
                }
            }
            else if (c == '"') {
                quoted = 1;
            }
            else if (c == ',') {
                break;
            }
            i++;
        }
        end = i;
        while (end > start && expect_is_ows((unsigned char)s[end - 1])) {
            end--;
        }
        if (end > start) {
            expect_member *m = apr_array_push(members);
            m->text = s + start;
            m->len = end - start;
            m->duplicate = 0;
            expect_classify(m);
        }
        i++;    /* past the comma */
    }
    expect_mark_duplicates(members, p, seed);
    return members;
}

/* A growing output buffer in a pool. */
typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} expect_buf;

static void expect_buf_grow(expect_buf *b, apr_size_t more)
{
    if (b->len + more + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap : 256;
        char *data;
        while (b->len + more + 1 > cap) {
            cap *= 2;
        }
        data = apr_palloc(b->p, cap);
        if (b->len) {
            memcpy(data, b->data, b->len);
        }
        b->data = data;
        b->cap = cap;
    }
}

static void expect_buf_add(expect_buf *b, const char *s, apr_size_t len)
{
    expect_buf_grow(b, len);
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void expect_buf_str(expect_buf *b, const char *s)
{
    expect_buf_add(b, s, strlen(s));
}

/* Append s[0..len) as JSON string content (without the quotes): '"' and
 * '\' are escaped, control bytes, DEL and bytes >= 0x80 become \u00XX, so
 * the output is pure printable ASCII.  When len exceeds max, only the
 * first max bytes are written, followed by "...". */
static void expect_json_chars(expect_buf *b, const char *s, apr_size_t len,
                              apr_size_t max)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i, n = len > max ? max : len;

    expect_buf_grow(b, n * 6 + 3);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char *out = b->data + b->len;
        if (c == '"' || c == '\\') {
            out[0] = '\\';
            out[1] = (char)c;
            b->len += 2;
        }
        else if (c < 0x20 || c >= 0x7f) {
            memcpy(out, "\\u00", 4);
            out[4] = hex[c >> 4];
            out[5] = hex[c & 0x0f];
            b->len += 6;
        }
        else {
            out[0] = (char)c;
            b->len += 1;
        }
    }
    if (len > max) {
        memcpy(b->data + b->len, "...", 3);
        b->len += 3;
    }
    b->data[b->len] = '\0';
}

static void expect_json_string(expect_buf *b, const char *s, apr_size_t len,
                               apr_size_t max)
{
    expect_buf_add(b, "\"", 1);
    expect_json_chars(b, s, len, max);
    expect_buf_add(b, "\"", 1);
}

/* The escaped, cut form of a field value, as quoted in bodies and logs. */
static const char *expect_quote_field(apr_pool_t *p, const char *s,
                                      apr_size_t len)
{
    expect_buf b = { p, NULL, 0, 0 };
    expect_buf_grow(&b, 0);
    b.data[0] = '\0';
    expect_json_chars(&b, s, len, EXPECT_QUOTE_FIELD_MAX);
    return b.data;
}

/* What an "unmet" entry shows of a member: its name, or for a malformed
 * member its raw text (cut by the writer). */
static void expect_json_member(expect_buf *b, const expect_member *m)
{
    if (m->kind == EXPECT_MEMBER_MALFORMED) {
        expect_json_string(b, m->text, m->len, EXPECT_QUOTE_MEMBER_MAX);
    }
    else {
        expect_json_string(b, m->text, m->name_len, m->name_len);
    }
}

/* The 417 body.  problem selects the RFC 9457 shape.  unmet holds member
 * pointers; supported holds C strings. */
static const char *expect_json_body(apr_pool_t *p, int problem,
                                    const char *message,
                                    const char *field, apr_size_t field_len,
                                    const apr_array_header_t *unmet,
                                    const apr_array_header_t *supported)
{
    expect_buf b = { p, NULL, 0, 0 };
    int i;

    if (problem) {
        expect_buf_str(&b, "{\"type\":\"about:blank\","
                           "\"title\":\"Expectation Failed\","
                           "\"status\":417,\"detail\":");
        expect_json_string(&b, message, strlen(message), (apr_size_t)-1);
    }
    else {
        expect_buf_str(&b, "{\"error\":");
        expect_json_string(&b, message, strlen(message), (apr_size_t)-1);
        expect_buf_str(&b, ",\"status\":417");
    }
    expect_buf_str(&b, ",\"expect\":");
    expect_json_string(&b, field, field_len, EXPECT_QUOTE_FIELD_MAX);
    expect_buf_str(&b, ",\"unmet\":[");
    for (i = 0; i < unmet->nelts; i++) {
        if (i) {
            expect_buf_add(&b, ",", 1);
        }
        expect_json_member(&b, APR_ARRAY_IDX(unmet, i, const expect_member *));
    }
    expect_buf_str(&b, "],\"supported\":[");
    for (i = 0; i < supported->nelts; i++) {
        const char *s = APR_ARRAY_IDX(supported, i, const char *);
        if (i) {
            expect_buf_add(&b, ",", 1);
        }
        expect_json_string(&b, s, strlen(s), (apr_size_t)-1);
    }
    expect_buf_str(&b, "]}\n");
    return b.data;
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

static apr_uint64_t expect_hash_seed;

static void *expect_create_dir_conf(apr_pool_t *p, char *dir)
{
    expect_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));
    conf->engine = EXPECT_UNSET;
    conf->cont = EXPECT_UNSET;
    conf->unknown = EXPECT_UNSET;
    conf->format = EXPECT_UNSET;
    conf->message = NULL;
    conf->allow = NULL;
    return conf;
}

#define EXPECT_MERGE(field, unset) \
    conf->field = (add->field != (unset)) ? add->field : base->field

static void *expect_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    expect_dir_conf *base = basev, *add = addv;
    expect_dir_conf *conf;

    /* Sections without a directive of ours are merged on every request
     * that walks them: they change nothing. */
    if (add->engine == EXPECT_UNSET && add->cont == EXPECT_UNSET
        && add->unknown == EXPECT_UNSET && add->format == EXPECT_UNSET
        && !add->message && !add->allow) {
        return base;
    }
    conf = apr_palloc(p, sizeof(*conf));

    EXPECT_MERGE(engine, EXPECT_UNSET);
    EXPECT_MERGE(cont, EXPECT_UNSET);
    EXPECT_MERGE(unknown, EXPECT_UNSET);
    EXPECT_MERGE(format, EXPECT_UNSET);
    EXPECT_MERGE(message, NULL);
    /* A scope's ExpectAllow replaces the inherited list as a whole. */
    EXPECT_MERGE(allow, NULL);
    return conf;
}

#define EXPECT_GET(conf, field, dflt) \
    ((conf)->field == EXPECT_UNSET ? (dflt) : (conf)->field)

/* The keyword directives share one setter; cmd->info describes each. */
typedef struct {
    apr_size_t offset;          /* of the int field in expect_dir_conf */
    const char *choices;        /* for the error message */
    const char *words[4];       /* keyword i sets the value i */
} expect_keywords;

static expect_keywords expect_engine_words = {
    APR_OFFSETOF(expect_dir_conf, engine), "On or Off", { "Off", "On" }
};
static expect_keywords expect_continue_words = {
    APR_OFFSETOF(expect_dir_conf, cont), "Defer, Immediate or Reject",
    { "Defer", "Immediate", "Reject" }      /* expect_continue_e order */
};
static expect_keywords expect_unknown_words = {
    APR_OFFSETOF(expect_dir_conf, unknown), "Reject or Ignore",
    { "Reject", "Ignore" }                  /* expect_unknown_e order */
};
static expect_keywords expect_format_words = {
    APR_OFFSETOF(expect_dir_conf, format), "JSON, Problem or HTML",
    { "JSON", "Problem", "HTML" }           /* expect_format_e order */
};

/* TAKE1 for ExpectEngine too: httpd's FLAG parser lets "On Off" through. */
static const char *expect_set_keyword(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    const expect_keywords *kw = cmd->info;
    int i;

    for (i = 0; i < 4 && kw->words[i]; i++) {
        if (!strcasecmp(arg, kw->words[i])) {
            *(int *)((char *)dconf + kw->offset) = i;
            return NULL;
        }
    }
    return apr_psprintf(cmd->pool, "%s: '%s' is not %s", cmd->cmd->name, arg,
                        kw->choices);
}

static const char *expect_set_message(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    ((expect_dir_conf *)dconf)->message = arg;
    return NULL;
}

/* ExpectAllow None | token [token] ...  Several lines in one scope add up;
 * None empties the scope's list (and so the inherited one is replaced). */
static const char *expect_set_allow(cmd_parms *cmd, void *dconf,
                                    int argc, char *const argv[])
{
    expect_dir_conf *conf = dconf;
    int i;

    if (argc == 0) {
        return apr_psprintf(cmd->pool, "%s: takes None or one or more "
                            "expectation names", cmd->cmd->name);
    }
    if (!conf->allow) {
        conf->allow = apr_array_make(cmd->pool, argc, sizeof(const char *));
    }
    for (i = 0; i < argc; i++) {
        const char *name = argv[i];
        apr_size_t len = strlen(name);

        if (!strcasecmp(name, "None")) {
            if (argc > 1) {
                return apr_psprintf(cmd->pool, "%s: None cannot be combined "
                                    "with expectation names",
                                    cmd->cmd->name);
            }
            apr_array_clear(conf->allow);
            return NULL;
        }
        if (len == 0 || expect_token_len(name, len) != len) {
            return apr_psprintf(cmd->pool, "%s: '%s' is not a valid "
                                "expectation name (an HTTP token)",
                                cmd->cmd->name, name);
        }
        if (!strcasecmp(name, "100-continue")) {
            return apr_psprintf(cmd->pool, "%s: 100-continue is not an "
                                "extension; use ExpectContinue to choose "
                                "how it is handled", cmd->cmd->name);
        }
        APR_ARRAY_PUSH(conf->allow, const char *) = name;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

/* Set in the parent by post_config; every child inherits them by fork.
 * expect_server_slots maps a server_rec to its slot number + 1 (server
 * configs are shared by virtual hosts that set no directive of ours, so
 * the slot cannot live there). */
static expect_counters *expect_shm_counters;
static apr_hash_t *expect_server_slots;

static int expect_server_slot(const server_rec *s)
{
    return (int)(apr_uintptr_t)apr_hash_get(expect_server_slots, &s,
                                            sizeof(s)) - 1;
}

static void expect_set_server_slot(const server_rec *s, int slot)
{
    const server_rec **key = apr_palloc(apr_hash_pool_get(expect_server_slots),
                                        sizeof(*key));
    *key = s;
    apr_hash_set(expect_server_slots, key, sizeof(*key),
                 (void *)(apr_uintptr_t)(slot + 1));
}

/* "name:port" of a virtual host; the main server's port is shown only
 * when its ServerName gives one. */
static const char *expect_server_key(apr_pool_t *p, const server_rec *s)
{
    const char *name = s->server_hostname ? s->server_hostname : "";
    apr_port_t port = s->addrs ? s->addrs->host_port : s->port;

    return port ? apr_psprintf(p, "%s:%u", name, (unsigned)port) : name;
}

static const char *const expect_counter_names[EXPECT_COUNTERS] = {
    "Requests", "Rejected", "Immediate", "Continue", "Accepted", "Ignored"
};

static void expect_count(request_rec *r, expect_counter_e which)
{
    int slot;

    if (expect_shm_counters && (slot = expect_server_slot(r->server)) >= 0) {
        apr_atomic_inc64(&expect_shm_counters->slot[slot].count[which]);
    }
}

static expect_counters *expect_counters_create(apr_pool_t *pool,
                                               apr_uint32_t nslots,
                                               apr_shm_t **shm)
{
    apr_size_t size = APR_OFFSETOF(expect_counters, slot)
                      + nslots * sizeof(expect_slot);
    expect_counters *c;

    if (apr_shm_create(shm, size, NULL, pool) != APR_SUCCESS) {
        return NULL;
    }
    c = apr_shm_baseaddr_get(*shm);
    memset(c, 0, size);
    c->nslots = nslots;
    return c;
}

/* Give every virtual host a counter slot, keyed by "name:port".  The
 * segment belongs to the process pool, so a graceful (or plain) restart
 * finds it again and each virtual host keeps its counts; it is replaced
 * by a larger copy when the configuration grows past its slots. */
static void expect_counters_attach(server_rec *main_s, apr_pool_t *pconf,
                                   apr_pool_t *ptemp)
{
    static const char ukey[] = "mod_expect_counters";
    apr_pool_t *pp = main_s->process->pool;
    apr_hash_t *keys = apr_hash_make(ptemp);
    apr_shm_t *shm = NULL;
    expect_counters *c = NULL;
    server_rec *s;
    apr_uint32_t n = 0, i;
    void *data;
    char *claimed;

    for (s = main_s; s; s = s->next) {
        n++;
    }
    apr_pool_userdata_get(&data, ukey, pp);
    if (data) {
        shm = data;
        c = apr_shm_baseaddr_get(shm);
    }
    if (!c || c->nslots < n) {
        apr_shm_t *grown;
        expect_counters *bigger = expect_counters_create(pp, 2 * n + 16,
                                                         &grown);
        if (!bigger) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_s,
                         "cannot create shared memory for the Expect "
                         "counters; mod_status will not show them");
            expect_shm_counters = NULL;
            return;
        }
        if (c) {
            memcpy(bigger->slot, c->slot, c->nslots * sizeof(expect_slot));
        }
        apr_pool_userdata_set(grown, ukey, apr_pool_cleanup_null, pp);
        c = bigger;
    }

    for (i = 0; i < c->nslots; i++) {
        if (c->slot[i].key[0]) {
            apr_hash_set(keys, c->slot[i].key, APR_HASH_KEY_STRING,
                         &c->slot[i]);
        }
    }
    claimed = apr_pcalloc(ptemp, c->nslots);
    expect_server_slots = apr_hash_make(pconf);
    /* First the virtual hosts that already have a slot... */
    for (s = main_s; s; s = s->next) {
        expect_slot *slot = apr_hash_get(keys, expect_server_key(ptemp, s),
                                         APR_HASH_KEY_STRING);
        if (slot && !claimed[slot - c->slot]) {
            claimed[slot - c->slot] = 1;
            expect_set_server_slot(s, (int)(slot - c->slot));
        }
    }
    /* ...then the new ones take free slots, or else the slots of virtual
     * hosts that are gone. */
    for (i = 0; i < 2; i++) {
        apr_uint32_t at = 0;
        for (s = main_s; s; s = s->next) {
            if (expect_server_slot(s) >= 0) {
                continue;
            }
            while (at < c->nslots
                   && (claimed[at] || (i == 0 && c->slot[at].key[0]))) {
                at++;
            }
            if (at == c->nslots) {
                break;
            }
            memset(&c->slot[at], 0, sizeof(expect_slot));
            apr_cpystrn(c->slot[at].key, expect_server_key(ptemp, s),
                        EXPECT_SLOT_KEY_MAX);
            claimed[at] = 1;
            expect_set_server_slot(s, (int)at);
        }
    }
    expect_shm_counters = c;
}

/* mod_status: a table on /server-status, "Expect...: N" lines in ?auto. */
static int expect_status_hook(request_rec *r, int flags)
{
    expect_counters *c = expect_shm_counters;
    apr_uint64_t total[EXPECT_COUNTERS] = { 0 };
    server_rec *s;
    int i;

    if (!c) {
        return OK;
    }
    for (s = ap_server_conf; s; s = s->next) {
        int slot = expect_server_slot(s);
        if (slot < 0) {
            continue;
        }
        for (i = 0; i < EXPECT_COUNTERS; i++) {
            total[i] += c->slot[slot].count[i];
        }
    }
    if (flags & AP_STATUS_SHORT) {
        for (i = 0; i < EXPECT_COUNTERS; i++) {
            ap_rprintf(r, "Expect%s: %" APR_UINT64_T_FMT "\n",
                       expect_counter_names[i], total[i]);
        }
        for (s = ap_server_conf; s; s = s->next) {
            int slot = expect_server_slot(s);
            if (slot < 0) {
                continue;
            }
            for (i = 0; i < EXPECT_COUNTERS; i++) {
                ap_rprintf(r, "Expect%s[%s]: %" APR_UINT64_T_FMT "\n",
                           expect_counter_names[i], c->slot[slot].key,
                           c->slot[slot].count[i]);
            }
        }
        return OK;
    }
    ap_rputs("<hr />\n<h2>Expect (mod_expect)</h2>\n"
             "<table border=\"1\"><tr><th>Virtual host</th>"
             "<th>Requests with Expect</th>", r);
    for (i = 1; i < EXPECT_COUNTERS; i++) {
        ap_rprintf(r, "<th>%s</th>", expect_counter_names[i]);
    }
    ap_rputs("</tr>\n", r);
    for (s = ap_server_conf; s; s = s->next) {
        int slot = expect_server_slot(s);
        if (slot < 0) {
            continue;
        }
        ap_rprintf(r, "<tr><td>%s</td>",
                   ap_escape_html(r->pool, c->slot[slot].key));
        for (i = 0; i < EXPECT_COUNTERS; i++) {
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>",
                       c->slot[slot].count[i]);
        }
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("<tr><td><b>Total</b></td>", r);
    for (i = 0; i < EXPECT_COUNTERS; i++) {
        ap_rprintf(r, "<td><b>%" APR_UINT64_T_FMT "</b></td>", total[i]);
    }
    ap_rputs("</tr>\n</table>\n", r);
    return OK;
}

/* ------------------------------------------------------------------ */
/* Hooks and filters, in the order a request meets them                */
/* ------------------------------------------------------------------ */

static ap_filter_rec_t *expect_in_filter_handle;
static ap_filter_rec_t *expect_error_filter_handle;

/* pre_connection: give every client connection the header-line filter.
 * HTTP/2 streams (c->master set) carry their headers in a table and are
 * handled in pre_read_request, so they get none. */
static int expect_pre_connection(conn_rec *c, void *csd)
{
    expect_conn_ctx *ctx;

    if (c->master) {
        return DECLINED;
    }
    ctx = apr_pcalloc(c->pool, sizeof(*ctx));
    ctx->state = EXPECT_LINES_PASS;
    ap_set_module_config(c->conn_config, &expect_module, ctx);
    ctx->f = ap_add_input_filter_handle(expect_in_filter_handle, ctx, NULL, c);
    return DECLINED;
}

/* Bytes at the start of bb, up to n, copied into out; returns how many.
 * The common case (a whole line in the first bucket) copies nothing: *head
 * then points into the bucket. */
static apr_size_t expect_peek(apr_bucket_brigade *bb, char *out,
                              apr_size_t n, const char **head)
{
    apr_bucket *e = APR_BRIGADE_FIRST(bb);
    apr_size_t got = 0;

    *head = out;
    while (got < n && e != APR_BRIGADE_SENTINEL(bb)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_METADATA(e)) {
            if (APR_BUCKET_IS_EOS(e)) {
                break;
            }
            e = APR_BUCKET_NEXT(e);
            continue;
        }
        if (apr_bucket_read(e, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            break;
        }
        if (got == 0 && len >= n) {
            *head = data;
            return n;
        }
        if (len > n - got) {
            len = n - got;
        }
        memcpy(out + got, data, len);
        got += len;
        e = APR_BUCKET_NEXT(e);
    }
    return got;
}

static int expect_last_byte_is_lf(apr_bucket_brigade *bb)
{
    apr_bucket *e;

    for (e = APR_BRIGADE_LAST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_PREV(e)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_METADATA(e)) {
            continue;
        }
        if (apr_bucket_read(e, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            return 0;
        }
        if (len) {
            return data[len - 1] == '\n';
        }
    }
    return 0;
}

/* The header line "Expect:" is at the start of bb; give it the stash name. */
static apr_status_t expect_rename_line(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apr_bucket *after, *e;
    apr_status_t rv;

    rv = apr_brigade_partition(bb, EXPECT_NAME_LEN, &after);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while ((e = APR_BRIGADE_FIRST(bb)) != after) {
        apr_bucket_delete(e);
    }
    e = apr_bucket_immortal_create(EXPECT_STASH_FIELD, EXPECT_NAME_LEN,
                                   f->c->bucket_alloc);
    APR_BRIGADE_INSERT_HEAD(bb, e);
    return APR_SUCCESS;
}

/* The general case of a line start: its first bytes may be spread over
 * buckets, or not have arrived yet.  Make sure the first seven bytes (or
 * the whole line, when shorter) are at hand -- a name can be split across
 * TCP segments -- then classify the line.  Header lines are read
 * blocking; a non-blocking read is judged on what arrived. */
static EXPECT_NOINLINE apr_status_t expect_line_start(expect_conn_ctx *ctx,
                                                      apr_bucket_brigade *bb)
{
    ap_filter_t *f = ctx->f;
    apr_read_type_e block = ctx->block;
    char buf[EXPECT_NAME_LEN + 1];
    const char *head;
    apr_size_t got;
    apr_status_t rv;

    got = expect_peek(bb, buf, sizeof(buf), &head);
    while (got < sizeof(buf) && !memchr(head, '\n', got)
           && block == APR_BLOCK_READ) {
        if (!ctx->more) {
            ctx->more = apr_brigade_create(f->c->pool, f->c->bucket_alloc);
        }
        rv = ap_get_brigade(f->next, ctx->more, AP_MODE_GETLINE, block, 0);
        if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(ctx->more)) {
            apr_brigade_cleanup(ctx->more);
            break;
        }
        APR_BRIGADE_CONCAT(bb, ctx->more);
        got = expect_peek(bb, buf, sizeof(buf), &head);
    }
    if ((got >= 1 && head[0] == '\n')
        || (got >= 2 && head[0] == '\r' && head[1] == '\n')) {
        /* An empty line: before the request line httpd skips it; in the
         * header block it ends the headers. */
        if (ctx->state == EXPECT_LINES_HEADERS) {
            ctx->state = EXPECT_LINES_PASS;
        }
    }
    else if (ctx->state == EXPECT_LINES_REQUEST) {
        ctx->state = EXPECT_LINES_HEADERS;  /* this is the request line */
    }
    else if (got == sizeof(buf) && head[EXPECT_NAME_LEN] == ':'
             && expect_ci_equal(head, "expect", EXPECT_NAME_LEN)) {
        if ((rv = expect_rename_line(f, bb)) != APR_SUCCESS) {
            return rv;
        }
        ctx->stashed = 1;
    }
    ctx->mid_line = !expect_last_byte_is_lf(bb);
    return APR_SUCCESS;
}

/* Whether a bucket's last byte is LF, for a heap bucket read in place
 * (see expect_in_filter); -1 when that cannot be told so cheaply. */
static APR_INLINE int expect_heap_ends_line(const apr_bucket *e)
{
    if (APR_BUCKET_IS_HEAP(e) && e->length) {
        const char *base = ((const apr_bucket_heap *)e->data)->base;
        return base[e->start + e->length - 1] == '\n';
    }
    return -1;
}

/* A line piece in several buckets (or led by a metadata or empty one). */
static EXPECT_NOINLINE apr_status_t expect_line_piece(expect_conn_ctx *ctx,
                                                      apr_bucket_brigade *bb)
{
    if (!ctx->mid_line) {
        return expect_line_start(ctx, bb);
    }
    ctx->mid_line = !expect_last_byte_is_lf(bb);
    return APR_SUCCESS;
}

/* EXPECT_IN: a connection input filter (AP_FTYPE_CONNECTION, so above
 * mod_ssl's CONNECTION+5 and mod_reqtimeout's CONNECTION+8: it sees
 * decrypted bytes).  It only looks at AP_MODE_GETLINE reads while a header
 * block is being read, i.e. between pre_read_request and the empty line
 * that ends the headers; everything else passes straight through.  It
 * changes nothing but the six name bytes of "Expect:" lines, and passes up
 * exactly the line pieces it gets from below, so every other header is
 * read, folded, counted and limited by httpd exactly as without it.
 *
 * Every header line of every request comes through here, so the common
 * case is decided on the first byte of the first bucket, with no copy:
 * only a line that starts with 'E', 'e' or a lone CR needs a closer look. */
/* The end of a line piece of several buckets: is its last byte LF? */
static EXPECT_NOINLINE apr_status_t expect_note_line_end(expect_conn_ctx *ctx,
                                                        apr_bucket_brigade *bb)
{
    int lf = expect_heap_ends_line(APR_BRIGADE_LAST(bb));
    ctx->mid_line = lf < 0 ? !expect_last_byte_is_lf(bb) : !lf;
    return APR_SUCCESS;
}

/* Classify a line piece whose first bucket's bytes are ctx->data/len. */
static APR_INLINE apr_status_t expect_classify_piece(expect_conn_ctx *ctx,
                                                    apr_bucket_brigade *bb,
                                                    apr_bucket *e)
{
    if (ctx->len == 0) {
        return expect_line_piece(ctx, bb);
    }
    if (!ctx->mid_line) {
        char c = ctx->data[0];
        if (c == '\n' || (c == '\r' && ctx->len > 1 && ctx->data[1] == '\n')) {
            if (ctx->state == EXPECT_LINES_HEADERS) {
                ctx->state = EXPECT_LINES_PASS;     /* end of the headers */
            }
        }
        else if (c == 'E' || c == 'e' || c == '\r') {
            return expect_line_start(ctx, bb);
        }
        else if (ctx->state == EXPECT_LINES_REQUEST) {
            ctx->state = EXPECT_LINES_HEADERS;      /* the request line */
        }
    }
    if (APR_BUCKET_NEXT(e) != APR_BRIGADE_SENTINEL(bb)) {
        return expect_note_line_end(ctx, bb);
    }
    ctx->mid_line = ctx->data[ctx->len - 1] != '\n';       /* one bucket */
    return APR_SUCCESS;
}

/* A line piece that does not start with a heap bucket. */
static EXPECT_NOINLINE apr_status_t expect_look_at_other(expect_conn_ctx *ctx,
                                                        apr_bucket_brigade *bb)
{
    apr_bucket *e = APR_BRIGADE_FIRST(bb);

    if (APR_BUCKET_IS_METADATA(e)
        || apr_bucket_read(e, &ctx->data, &ctx->len, APR_BLOCK_READ)
           != APR_SUCCESS) {
        ctx->len = 0;
    }
    return expect_classify_piece(ctx, bb, e);
}

/* What the filter does with the line piece it got from below.  Heap
 * buckets, which is what the core input filter and mod_ssl hand up, are
 * looked at in place through the public apr_bucket_heap layout; every
 * other case leaves through a tail call, so this stays a leaf. */
static EXPECT_NOINLINE apr_status_t expect_look_at_line(expect_conn_ctx *ctx,
                                                       apr_bucket_brigade *bb)
{
    apr_bucket *e;

    if (APR_BRIGADE_EMPTY(bb)) {
        return APR_SUCCESS;
    }
    e = APR_BRIGADE_FIRST(bb);
    if (!APR_BUCKET_IS_HEAP(e)) {
        return expect_look_at_other(ctx, bb);
    }
    ctx->data = ((apr_bucket_heap *)e->data)->base + e->start;
    ctx->len = e->length;
    return expect_classify_piece(ctx, bb, e);
}

static apr_status_t expect_in_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block,
                                     apr_off_t readbytes)
{
    expect_conn_ctx *ctx = f->ctx;
    apr_status_t rv;

    if (mode != AP_MODE_GETLINE || ctx->state == EXPECT_LINES_PASS) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    ctx->block = block;
    rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return expect_look_at_line(ctx, bb);
}

static expect_request *expect_new_request(request_rec *r, const char *field)
{
    expect_request *rec = apr_pcalloc(r->pool, sizeof(*rec));
    rec->field = field;
    ap_set_module_config(r->request_config, &expect_module, rec);
    return rec;
}

/* pre_read_request: for HTTP/1.x, arm the line filter for the header block
 * about to be read; for HTTP/2 (mod_http2 fills r->headers_in before this
 * hook and runs httpd's Expect check after it), take the field now. */
static EXPECT_NOINLINE void expect_take_from_table(request_rec *r)
{
    const char *field = apr_table_get(r->headers_in, "Expect");
    if (field) {
        expect_new_request(r, field);
        apr_table_unset(r->headers_in, "Expect");
    }
}

static void expect_pre_read_request(request_rec *r, conn_rec *c)
{
    expect_conn_ctx *ctx = ap_get_module_config(c->conn_config,
                                                &expect_module);
    if (ctx) {
        ctx->state = EXPECT_LINES_REQUEST;
        ctx->mid_line = 0;
        ctx->stashed = 0;
    }
    else {
        expect_take_from_table(r);
    }
}

static int expect_has_body(request_rec *r)
{
    const char *cl;
    apr_off_t len;

    if (apr_table_get(r->headers_in, "Transfer-Encoding")) {
        return 1;
    }
    cl = apr_table_get(r->headers_in, "Content-Length");
    return cl && ap_parse_strict_length(&len, cl) && len > 0;
}

/* An internal redirect: the decision belongs to the initial request;
 * carry its outcome so that logging and the target's <If> see it. */
static EXPECT_NOINLINE int expect_carry_outcome(request_rec *r)
{
    request_rec *initial = r->prev;
    expect_request *rec;

    while (initial->prev) {
        initial = initial->prev;
    }
    rec = ap_get_module_config(initial->request_config, &expect_module);
    if (rec && rec->acted && rec->outcome) {
        apr_table_setn(r->subprocess_env, EXPECT_OUTCOME_VAR, rec->outcome);
    }
    return DECLINED;
}

static EXPECT_NOINLINE void expect_unstash(request_rec *r)
{
    const char *field = apr_table_get(r->headers_in, EXPECT_STASH_FIELD);

    if (field) {
        apr_table_unset(r->headers_in, EXPECT_STASH_FIELD);
        expect_new_request(r, field);
    }
}

/* The request carried Expect: count it, put the field back under its own
 * name, parse it, and note a 100-continue the way httpd would. */
static EXPECT_NOINLINE int expect_read_field(request_rec *r,
                                             expect_request *rec)
{
    const expect_member *m;
    int i, has_continue = 0, looks_like_continue = 0, has_body;

    if (!rec->field[0]) {
        /* An empty field value means no expectation. */
        ap_set_module_config(r->request_config, &expect_module, NULL);
        return DECLINED;
    }
    expect_count(r, EXPECT_COUNT_REQUESTS);
    apr_table_setn(r->headers_in, "Expect", rec->field);
    rec->members = expect_parse(rec->field, strlen(rec->field), r->pool,
                                expect_hash_seed);
    m = (const expect_member *)rec->members->elts;
    for (i = 0; i < rec->members->nelts; i++) {
        if (m[i].kind == EXPECT_MEMBER_CONTINUE) {
            has_continue = 1;
        }
        if (m[i].len >= 12 && expect_ci_equal(m[i].text, "100-continue", 12)) {
            looks_like_continue = 1;
        }
    }
    has_body = expect_has_body(r);
    rec->may_wait = looks_like_continue && has_body;
    if (has_continue && has_body && r->proto_num >= HTTP_VERSION(1, 1)) {
        rec->wants_100 = 1;
        r->expecting_100 = 1;
    }
    return DECLINED;
}

/* post_read_request, APR_HOOK_REALLY_FIRST: put the field back under its
 * own name before any other module looks at the headers, parse it, and
 * note a 100-continue the way httpd would (r->expecting_100), so that a
 * final answer given before the decision (401, 403, a redirect) still
 * closes a connection whose body was never sent. */
static EXPECT_NOINLINE int expect_post_read_slow(request_rec *r,
                                                 expect_conn_ctx *ctx)
{
    expect_request *rec;

    if (r->prev) {
        return expect_carry_outcome(r);
    }
    if (ctx && ctx->stashed) {
        ctx->stashed = 0;
        expect_unstash(r);
    }
    rec = ap_get_module_config(r->request_config, &expect_module);
    return rec ? expect_read_field(r, rec) : DECLINED;
}

static int expect_post_read_request(request_rec *r)
{
    expect_conn_ctx *ctx = ap_get_module_config(r->connection->conn_config,
                                                &expect_module);
    if (ctx) {
        ctx->state = EXPECT_LINES_PASS;     /* e.g. after HTTP/0.9 */
    }
    if ((ctx && ctx->stashed) || r->prev
        || ap_get_module_config(r->request_config, &expect_module)) {
        return expect_post_read_slow(r, ctx);
    }
    return DECLINED;
}

static int expect_allowed(const expect_dir_conf *conf, const expect_member *m)
{
    int i;

    if (!conf->allow) {
        return 0;
    }
    for (i = 0; i < conf->allow->nelts; i++) {
        const char *name = APR_ARRAY_IDX(conf->allow, i, const char *);
        if (strlen(name) == m->name_len
            && expect_ci_equal(name, m->text, m->name_len)) {
            return 1;
        }
    }
    return 0;
}

/* ExpectEngine Off: what httpd itself does with the field. */
static int expect_decide_stock(request_rec *r, expect_request *rec)
{
    if (!strcasecmp(rec->field, "100-continue")) {
        r->expecting_100 = 1;
        return DECLINED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "client sent an unrecognized expectation value of "
                  "Expect: %s (ExpectEngine Off)",
                  ap_escape_logitem(r->pool, rec->field));
    r->connection->keepalive = AP_CONN_CLOSE;
    return HTTP_EXPECTATION_FAILED;
}

/* The judgement: which members are met, dropped or unmet under this
 * scope's configuration.  No side effect on the request but the outcome
 * it names. */
static void expect_judge_members(request_rec *r, expect_request *rec,
                                 const expect_dir_conf *conf)
{
    const expect_member *m = (const expect_member *)rec->members->elts;
    int cont = EXPECT_GET(conf, cont, EXPECT_DEFAULT_CONTINUE);
    int unknown = EXPECT_GET(conf, unknown, EXPECT_DEFAULT_UNKNOWN);
    expect_buf kept = { r->pool, NULL, 0, 0 };
    expect_buf extensions = { r->pool, NULL, 0, 0 };
    int i, continued = 0;

    for (i = 0; i < rec->members->nelts; i++) {
        expect_buf *to = &kept;

        if (m[i].duplicate) {
            continue;
        }
        if (m[i].kind == EXPECT_MEMBER_CONTINUE) {
            if (r->proto_num < HTTP_VERSION(1, 1)) {
                continue;       /* RFC 9110: ignored from HTTP/1.0 */
            }
            if (cont == EXPECT_CONTINUE_REJECT) {
                rec->by_continue = 1;
                to = NULL;
            }
            else if (!rec->wants_100) {
                continue;       /* no content: dropped as if absent */
            }
            else {
                continued = 1;
                if (cont == EXPECT_CONTINUE_IMMEDIATE) {
                    continue;   /* met here and now: not passed on */
                }
            }
        }
        else if (m[i].kind == EXPECT_MEMBER_EXTENSION
                 && expect_allowed(conf, &m[i])) {
            if (extensions.len) {
                expect_buf_add(&extensions, ", ", 2);
            }
            expect_buf_add(&extensions, m[i].text, m[i].len);
        }
        else if (unknown == EXPECT_UNKNOWN_REJECT) {
            rec->by_unknown = 1;
            to = NULL;
        }
        else {
            continue;           /* ExpectUnknown Ignore */
        }

        if (to) {
            if (to->len) {
                expect_buf_add(to, ", ", 2);
            }
            expect_buf_add(to, m[i].text, m[i].len);
        }
        else {
            if (!rec->unmet) {
                rec->unmet = apr_array_make(r->pool, 2,
                                            sizeof(const expect_member *));
            }
            APR_ARRAY_PUSH(rec->unmet, const expect_member *) = &m[i];
        }
    }

    rec->kept = kept.data;
    rec->extensions = extensions.data;
    if (rec->unmet) {
        rec->outcome = "rejected";
        rec->counter = EXPECT_COUNT_REJECTED;
    }
    else if (continued && cont == EXPECT_CONTINUE_IMMEDIATE) {
        rec->outcome = "immediate";
        rec->counter = EXPECT_COUNT_IMMEDIATE;
    }
    else if (continued) {
        rec->outcome = "continue";
        rec->counter = EXPECT_COUNT_CONTINUE;
    }
    else if (rec->extensions) {
        rec->outcome = "accepted";
        rec->counter = EXPECT_COUNT_ACCEPTED;
    }
    else {
        rec->outcome = "ignored";
        rec->counter = EXPECT_COUNT_IGNORED;
    }
}

/* Judge the members under the configuration r->per_dir_config holds now,
 * and publish the outcome.  A second judgement (see expect_act)
 * starts from scratch. */
static EXPECT_NOINLINE void expect_judge(request_rec *r,
                                         expect_request *rec)
{
    expect_dir_conf *conf = ap_get_module_config(r->per_dir_config,
                                                 &expect_module);
    rec->judged = 1;
    rec->conf = conf;
    rec->stock = 0;
    rec->unmet = NULL;
    rec->by_continue = rec->by_unknown = 0;
    if (!EXPECT_GET(conf, engine, EXPECT_DEFAULT_ENGINE)) {
        rec->stock = 1;
        rec->outcome = NULL;
        apr_table_unset(r->subprocess_env, EXPECT_OUTCOME_VAR);
        return;
    }
    expect_judge_members(r, rec, conf);
    apr_table_setn(r->subprocess_env, EXPECT_OUTCOME_VAR, rec->outcome);
}

/* The judgement, made before the <If> walk so that <If> conditions, and
 * everything after them (per-directory SetEnvIf, access checkers,
 * RewriteCond), can use EXPECT_OUTCOME: the same directory, files and
 * location walks that core's map_to_storage and the location walk after
 * it are about to run (their caches make httpd's own runs that follow
 * hits), then r->per_dir_config is put back as it was.  Proxied requests
 * are mapped by mod_proxy's own walk of <Proxy> sections: for them the
 * location walk alone.  fixups judges again if the final configuration
 * differs (an <If> or <Proxy> section with a directive of this module). */
static EXPECT_NOINLINE void expect_preview(request_rec *r,
                                           expect_request *rec)
{
    ap_conf_vector_t *saved = r->per_dir_config;

    if (r->proxyreq
        || (r->filename && !strncmp(r->filename, "proxy:", 6))) {
        if (ap_location_walk(r) == OK) {
            expect_judge(r, rec);
        }
    }
    else if (ap_directory_walk(r) == OK && ap_file_walk(r) == OK
             && ap_location_walk(r) == OK) {
        expect_judge(r, rec);
    }
    r->per_dir_config = saved;
}

/* map_to_storage, APR_HOOK_REALLY_FIRST, so before core's and mod_proxy's:
 * only looks (DECLINED), on requests that carry Expect. */
static int expect_map_to_storage(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);
    if (rec && !rec->judged) {
        expect_preview(r, rec);
    }
    return DECLINED;
}

static int expect_reject(request_rec *r, expect_request *rec)
{
    const expect_dir_conf *conf = rec->conf;
    int format = EXPECT_GET(conf, format, EXPECT_DEFAULT_FORMAT);

    if (APLOGrinfo(r)) {
        expect_buf names = { r->pool, NULL, 0, 0 };
        int i;

        for (i = 0; i < rec->unmet->nelts; i++) {
            if (i) {
                expect_buf_add(&names, ", ", 2);
            }
            expect_json_member(&names, APR_ARRAY_IDX(rec->unmet, i,
                                                     const expect_member *));
        }
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "417 for Expect \"%s\": unmet %s (%s%s%s)",
                      expect_quote_field(r->pool, rec->field,
                                         strlen(rec->field)),
                      names.data,
                      rec->by_continue ? "ExpectContinue Reject" : "",
                      rec->by_continue && rec->by_unknown ? ", " : "",
                      rec->by_unknown ? "ExpectUnknown Reject" : "");
    }

    if (format != EXPECT_FORMAT_HTML) {
        int cont = EXPECT_GET(conf, cont, EXPECT_DEFAULT_CONTINUE);
        apr_array_header_t *supported;

        supported = apr_array_make(r->pool, 4, sizeof(const char *));
        if (cont != EXPECT_CONTINUE_REJECT) {
            APR_ARRAY_PUSH(supported, const char *) = "100-continue";
        }
        if (conf->allow) {
            apr_array_cat(supported, conf->allow);
        }
        rec->body = expect_json_body(r->pool,
                                     format == EXPECT_FORMAT_PROBLEM,
                                     conf->message ? conf->message
                                                   : EXPECT_DEFAULT_MESSAGE,
                                     rec->field, strlen(rec->field),
                                     rec->unmet, supported);
        rec->content_type = format == EXPECT_FORMAT_PROBLEM
                            ? "application/problem+json"
                            : "application/json";
    }
    return HTTP_EXPECTATION_FAILED;
}

/* Act on the judgement: answer 417, or pass the accepted members on and
 * send an immediate 100 Continue. */
static EXPECT_NOINLINE int expect_act(request_rec *r, expect_request *rec)
{
    if (!rec->judged
        || rec->conf != ap_get_module_config(r->per_dir_config,
                                             &expect_module)) {
        expect_judge(r, rec);
    }
    rec->acted = 1;
    if (rec->stock) {
        return expect_decide_stock(r, rec);
    }
    expect_count(r, rec->counter);
    if (rec->unmet) {
        if (rec->may_wait && !r->expecting_100) {
            /* "100-continue=1", "100-continue" from HTTP/1.0...: not the
             * expectation, but the client may still be waiting for a 100
             * before it sends the body.  Reading the body could only end in
             * a timeout: close instead, as for a real 100-continue. */
            r->connection->keepalive = AP_CONN_CLOSE;
        }
        return expect_reject(r, rec);
    }
    if (rec->kept) {
        apr_table_setn(r->headers_in, "Expect", rec->kept);
    }
    else {
        apr_table_unset(r->headers_in, "Expect");
    }
    if (rec->counter == EXPECT_COUNT_IMMEDIATE) {
        int status = r->status;
        const char *status_line = r->status_line;

        r->status = HTTP_CONTINUE;
        r->status_line = NULL;
        ap_send_interim_response(r, 0);
        r->status = status;
        r->status_line = status_line;
    }
    if (APLOGrdebug(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "Expect \"%s\": %s, passed on as \"%s\"",
                      expect_quote_field(r->pool, rec->field,
                                         strlen(rec->field)),
                      rec->outcome,
                      rec->kept ? expect_quote_field(r->pool, rec->kept,
                                                     strlen(rec->kept))
                                : "");
    }
    return DECLINED;
}

/* fixups, APR_HOOK_REALLY_FIRST: act on the judgement.  Fixups run after
 * authentication and authorization (a client without credentials gets
 * 401/403 first) and before the handler; first among fixups so that later
 * ones (mod_headers' RequestHeader, mod_rewrite's per-directory rules,
 * mod_dir) see the field as decided. */
static int expect_fixups(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);
    if (!rec || rec->acted) {
        return DECLINED;
    }
    return expect_act(r, rec);
}

/* mod_proxy's optional proxy_fixups hook runs on the copy of the headers
 * that goes to the backend, after ap_proxy_create_hdrbrgd() has removed
 * Expect (it keeps the field only when it runs its own 100-continue
 * exchange with the backend, and then the accepted extensions are still
 * in it).  Put the accepted extensions back: the backend is who has to
 * meet them.  100-continue itself is hop-by-hop and stays mod_proxy's. */
static int expect_proxy_fixups(request_rec *r)
{
    const request_rec *initial = r;
    expect_request *rec;

    while (initial->prev) {
        initial = initial->prev;
    }
    if (initial->main) {
        return OK;
    }
    rec = ap_get_module_config(initial->request_config, &expect_module);
    if (rec && rec->extensions && !apr_table_get(r->headers_in, "Expect")) {
        apr_table_setn(r->headers_in, "Expect", rec->extensions);
    }
    return OK;
}

/* insert_error_filter: ap_send_error_response() runs this hook before it
 * picks the body.  When the 417 is ours and no ErrorDocument 417 applies,
 * register the JSON body as the custom response and add the filter that
 * corrects the Content-Type httpd forces to text/html. */
static void expect_insert_error_filter(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);

    if (!rec) {
        return;
    }
    if (rec->judged && !rec->acted) {
        /* Answered before fixups (401, 403, a redirect...): the judged
         * outcome never happened. */
        apr_table_unset(r->subprocess_env, EXPECT_OUTCOME_VAR);
        return;
    }
    if (r->status != HTTP_EXPECTATION_FAILED || !rec->body
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;
    }
    ap_custom_response(r, HTTP_EXPECTATION_FAILED, rec->body);
    ap_add_output_filter_handle(expect_error_filter_handle, rec, r,
                                r->connection);
}

/* EXPECT_ERROR: AP_FTYPE_CONTENT_SET - 1, ahead of mod_headers' error
 * filter (so "Header always" still has the last word) and of HTTP_HEADER
 * (AP_FTYPE_PROTOCOL), which writes the Content-Type line.  It also gives
 * the length: a body past the output buffer would otherwise go chunked. */
static apr_status_t expect_error_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    expect_request *rec = f->ctx;

    ap_set_content_type(f->r, rec->content_type);
    ap_set_content_length(f->r, strlen(rec->body));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static int expect_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    if (apr_generate_random_bytes((unsigned char *)&expect_hash_seed,
                                  sizeof(expect_hash_seed)) != APR_SUCCESS) {
        expect_hash_seed = (apr_uint64_t)apr_time_now();
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        expect_counters_attach(s, pconf, ptemp);
    }
    return OK;
}

static void expect_register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(expect_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(expect_pre_connection, NULL, NULL,
                           APR_HOOK_MIDDLE);
    ap_hook_pre_read_request(expect_pre_read_request, NULL, NULL,
                             APR_HOOK_MIDDLE);
    ap_hook_post_read_request(expect_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_map_to_storage(expect_map_to_storage, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(expect_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_insert_error_filter(expect_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(proxy, fixups, expect_proxy_fixups, NULL, NULL,
                      APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, expect_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);

    expect_in_filter_handle =
        ap_register_input_filter(EXPECT_IN_FILTER, expect_in_filter, NULL,
                                 AP_FTYPE_CONNECTION);
    expect_error_filter_handle =
        ap_register_output_filter(EXPECT_ERROR_FILTER, expect_error_filter,
                                  NULL, AP_FTYPE_CONTENT_SET - 1);
}

static const command_rec expect_cmds[] = {
    AP_INIT_TAKE1("ExpectEngine", expect_set_keyword, &expect_engine_words,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "On to judge Expect here, Off for httpd's own handling"),
    AP_INIT_TAKE1("ExpectContinue", expect_set_keyword,
                  &expect_continue_words,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "Defer, Immediate or Reject: how 100-continue is handled"),
    AP_INIT_TAKE_ARGV("ExpectAllow", expect_set_allow, NULL,
                      RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                      "None, or the extension expectations accepted and "
                      "passed on"),
    AP_INIT_TAKE1("ExpectUnknown", expect_set_keyword,
                  &expect_unknown_words,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "Reject or Ignore: what happens to expectations that are "
                  "neither 100-continue nor allowed"),
    AP_INIT_TAKE1("ExpectErrorFormat", expect_set_keyword,
                  &expect_format_words,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "JSON, Problem or HTML: the body of a 417"),
    AP_INIT_TAKE1("ExpectErrorMessage", expect_set_message, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_FILEINFO,
                  "the sentence a 417 body gives the client"),
    { NULL }
};

AP_DECLARE_MODULE(expect) = {
    STANDARD20_MODULE_STUFF,
    expect_create_dir_conf,     /* create per-directory config */
    expect_merge_dir_conf,      /* merge per-directory config */
    NULL,                       /* create per-server config */
    NULL,                       /* merge per-server config */
    expect_cmds,                /* command table */
    expect_register_hooks       /* register hooks */
};
