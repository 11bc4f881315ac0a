/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_capture.c: taking the Expect field out of the sight of httpd's
 * own Expect check, which would otherwise answer every value but
 * "100-continue" with an HTML 417 before any module runs.
 *
 * HTTP/1.x header lines are read one by one in AP_MODE_GETLINE through
 * the request's input filter chain.  The connection input filter EXPECT_IN,
 * armed by pre_read_request for each request's header block, renames the
 * name of every "Expect:" line to the private name EXPECT_STASH_FIELD,
 * which has the same length and is a valid token, so that httpd parses,
 * folds, counts and limits the line exactly as it would have, but its own
 * Expect check no longer sees it.  HTTP/2 requests arrive with their
 * header table already filled; pre_read_request moves the field to the
 * private name directly.  The module's post_read_request takes it back
 * with expect_capture_field().
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "expect_capture.h"
#include "expect_parse.h"

extern module AP_MODULE_DECLARE_DATA expect_module;

/* The name "Expect" lines carry between the filter and post_read_request.
 * Same length as "Expect", so LimitRequestFieldSize counts identically.
 * A client sending this name itself only adds to its Expect list. */
#define EXPECT_STASH_FIELD      "Expec~"
#define EXPECT_NAME_LEN         6

#define EXPECT_IN_FILTER        "EXPECT_IN"

/* Keeps the rare work out of the hot functions' frames. */
#if defined(__GNUC__)
#define EXPECT_NOINLINE __attribute__((noinline))
#else
#define EXPECT_NOINLINE
#endif

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


static ap_filter_rec_t *expect_in_filter_handle;

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

/* HTTP/2: mod_http2 fills r->headers_in before pre_read_request and runs
 * httpd's Expect check after it, so the field moves to the private name
 * now. */
static EXPECT_NOINLINE void expect_stash_from_table(request_rec *r)
{
    const char *field = apr_table_get(r->headers_in, "Expect");

    if (field) {
        apr_table_unset(r->headers_in, "Expect");
        apr_table_setn(r->headers_in, EXPECT_STASH_FIELD, field);
    }
}

/* pre_read_request: for HTTP/1.x, arm the line filter for the header block
 * about to be read; for HTTP/2, stash the field from the table. */
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
        expect_stash_from_table(r);
    }
}

static EXPECT_NOINLINE const char *expect_unstash(request_rec *r)
{
    const char *field = apr_table_get(r->headers_in, EXPECT_STASH_FIELD);

    if (field) {
        apr_table_unset(r->headers_in, EXPECT_STASH_FIELD);
    }
    return field;
}

const char *expect_capture_field(request_rec *r)
{
    expect_conn_ctx *ctx = ap_get_module_config(r->connection->conn_config,
                                                &expect_module);
    if (ctx) {
        ctx->state = EXPECT_LINES_PASS;     /* e.g. after HTTP/0.9 */
        if (!ctx->stashed) {
            return NULL;
        }
        ctx->stashed = 0;
    }
    return expect_unstash(r);
}

void expect_capture_register_hooks(void)
{
    /* pre_connection: every client connection gets EXPECT_IN once. */
    ap_hook_pre_connection(expect_pre_connection, NULL, NULL,
                           APR_HOOK_MIDDLE);
    /* pre_read_request runs before each request's header block is read
     * (HTTP/1.x), and after mod_http2 has filled the header table. */
    ap_hook_pre_read_request(expect_pre_read_request, NULL, NULL,
                             APR_HOOK_MIDDLE);
    /* AP_FTYPE_CONNECTION: above mod_ssl (CONNECTION+5) and mod_reqtimeout
     * (CONNECTION+8), so it sees decrypted bytes, and below every request
     * filter, so it sees the header lines exactly as httpd reads them. */
    expect_in_filter_handle =
        ap_register_input_filter(EXPECT_IN_FILTER, expect_in_filter, NULL,
                                 AP_FTYPE_CONNECTION);
}
