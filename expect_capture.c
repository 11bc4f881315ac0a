/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_capture.c: keeping the Expect field out of the sight of httpd's
 * own Expect check, which answers every value but "100-continue" with an
 * HTML 417 before the module could judge it, and handing it back.
 *
 * Hidden means renamed, in r->headers_in, to "<name> (mod_expect)": a name
 * with a space, which no client can send (httpd refuses such a field name
 * in every HttpProtocolOptions mode).  Handed back means renamed to the
 * name the client spelled, in its place in the table.  Where the check
 * runs depends on the release and the protocol (expect_compat.h), and so
 * does where the field is hidden:
 *
 *   HTTP/1.x, httpd 2.4.49 and later: the check runs right after the
 *     header block is read.  The connection input filter EXPECT_IN sees
 *     each header line as httpd reads it (AP_MODE_GETLINE) and renames
 *     every "Expect" line to EXPECT_STASH_NAME, a token of the same length,
 *     so that httpd reads, folds, counts, limits and merges the line
 *     exactly as it would have.  A client may send that name itself: the
 *     filter sees those lines too, and if both kinds occur it hides one
 *     of the two groups before httpd merges the table (see
 *     expect_lines_separate), so that neither is merged with, renamed
 *     into or hidden by the other.  post_read_request hands the field
 *     back.
 *   HTTP/1.x before 2.4.49: the check runs after the post_read_request
 *     hooks; the last of them hides the field, the first quick_handler
 *     (the first hook after the check) hands it back.
 *   HTTP/2, before 2.4.49 and from 2.4.55: mod_http2 fills the header
 *     table before pre_read_request; that hook hides the field,
 *     post_read_request hands it back.
 *   HTTP/2, 2.4.49 to 2.4.54: no hook runs between the header table and
 *     the check (expect_compat.h); only "100-continue" passes it, and the
 *     module judges that.  With "H2SerializeHeaders On", mod_http2 passes
 *     each request to the stream's connection as HTTP/1.1 header lines,
 *     and EXPECT_IN captures the field there as for HTTP/1.x.
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "expect_capture.h"
#include "expect_compat.h"
#include "expect_parse.h"

APLOG_USE_MODULE(expect);

extern module AP_MODULE_DECLARE_DATA expect_module;

/* What "Expect" lines are called between EXPECT_IN and post_read_request:
 * the same length, so that LimitRequestFieldSize counts identically, and
 * the same first letter, so that the filter's first-byte test that finds
 * Expect lines finds client lines of this name too. */
#define EXPECT_STASH_NAME       "Expec~"
#define EXPECT_NAME_LEN         6

/* Appended to a field name to hide it from httpd. */
#define EXPECT_HIDDEN_SUFFIX    " (mod_expect)"
#define EXPECT_HIDDEN_EXPECT    "Expect" EXPECT_HIDDEN_SUFFIX

#define EXPECT_IN_FILTER        "EXPECT_IN"

#if defined(__GNUC__)
#define EXPECT_NOINLINE __attribute__((noinline))
#else
#define EXPECT_NOINLINE
#endif

/* ------------------------------------------------------------------ */
/* Hiding and handing back                                             */
/* ------------------------------------------------------------------ */

static const char *expect_hidden_name(apr_pool_t *p, const char *name)
{
    return apr_pstrcat(p, name, EXPECT_HIDDEN_SUFFIX, NULL);
}

/* Rebuild r->headers_in, in order, with the hidden names handed back and
 * (when stash is given) the fields called stash renamed to name. */
static void expect_unhide(request_rec *r, const char *stash, const char *name)
{
    const apr_array_header_t *in = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)in->elts;
    apr_size_t suffix = sizeof(EXPECT_HIDDEN_SUFFIX) - 1;
    apr_table_t *out = apr_table_make(r->pool, in->nelts);
    int i;

    for (i = 0; i < in->nelts; i++) {
        const char *key = e[i].key;
        apr_size_t len = strlen(key);

        if (stash && !strcasecmp(key, stash)) {
            key = name;
        }
        else if (len > suffix
                 && !strcmp(key + len - suffix, EXPECT_HIDDEN_SUFFIX)) {
            key = apr_pstrmemdup(r->pool, key, len - suffix);
        }
        apr_table_addn(out, key, e[i].val);
    }
    r->headers_in = out;
}

#if !EXPECT_CHECK_BEFORE_POST_READ || EXPECT_H2_CAPTURE
/* Hide every field called name (any case) under its hidden name: where
 * httpd's check looks at the table rather than at header lines (before
 * 2.4.49, and for HTTP/2). */
static void expect_hide(request_rec *r, const char *name)
{
    const apr_array_header_t *in = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)in->elts;
    apr_table_t *out = apr_table_make(r->pool, in->nelts);
    int i;

    for (i = 0; i < in->nelts; i++) {
        const char *key = e[i].key;

        if (!strcasecmp(key, name)) {
            key = expect_hidden_name(r->pool, key);
        }
        apr_table_addn(out, key, e[i].val);
    }
    r->headers_in = out;
}
#endif

/* ------------------------------------------------------------------ */
/* HTTP/1.x from 2.4.49: the header-line filter                        */
/* ------------------------------------------------------------------ */

#if EXPECT_CHECK_BEFORE_POST_READ

/* The two kinds of line the filter renames or notes. */
typedef enum {
    EXPECT_OURS = 0,        /* an Expect line, renamed to the stash name */
    EXPECT_THEIRS = 1       /* a client line that has the stash name */
} expect_origin_e;

/* Where EXPECT_IN is in the stream. */
typedef enum {
    EXPECT_IN_PASS = 0,     /* not in a header block: every read passes */
    EXPECT_IN_HEADERS,      /* at the start of a header line */
    EXPECT_IN_REQUEST_LINE, /* before the request line (pre_read_request) */
    EXPECT_IN_MID_LINE,     /* the rest of a line that began in a read */
    EXPECT_IN_WATCH         /* at a line start after a line of ours or of
                             * the stash name: the end of the block counts */
} expect_in_e;

/* Per-connection state of EXPECT_IN. */
typedef struct {
    expect_in_e state;
    expect_in_e after_line; /* the state at the next line start */
    request_rec *r;         /* whose header block is read */
    /* The lines of ours or of the stash name in r's block: */
    request_rec *noted;     /* the request they belong to; NULL from
                             * pre_read_request on, until the first */
    int lines[2];           /* how many of each origin */
    char name[2][EXPECT_NAME_LEN + 1];  /* the first of each, as spelled */
    apr_array_header_t *order;  /* origin (char) of each, in order */
    int moved;              /* the origin hidden at the end, or -1 */
    apr_bucket_brigade *more;   /* the rest of a line's first bytes */
} expect_lines;

static ap_filter_rec_t *expect_in_filter_handle;

/* Up to size bytes of the line that starts bb, copied into head; returns
 * how many.  A header line is read blocking, and a name can be split
 * across TCP segments: while fewer bytes than head holds have come and
 * none of them ends the line, the next piece of the same line is read and
 * appended to bb. */
static apr_size_t expect_line_head(expect_lines *ctx, ap_filter_t *f,
                                   apr_bucket_brigade *bb,
                                   apr_read_type_e block,
                                   char *head, apr_size_t size)
{
    for (;;) {
        apr_bucket *e;
        apr_size_t got = 0;
        apr_status_t rv;

        for (e = APR_BRIGADE_FIRST(bb);
             e != APR_BRIGADE_SENTINEL(bb) && got < size;
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            if (apr_bucket_read(e, &data, &len, APR_BLOCK_READ)
                != APR_SUCCESS) {
                return got;
            }
            if (len > size - got) {
                len = size - got;
            }
            memcpy(head + got, data, len);
            got += len;
        }
        if (got == size || memchr(head, '\n', got)
            || block != APR_BLOCK_READ) {
            return got;
        }
        if (!ctx->more) {
            ctx->more = apr_brigade_create(f->c->pool, f->c->bucket_alloc);
        }
        rv = ap_get_brigade(f->next, ctx->more, AP_MODE_GETLINE, block, 0);
        if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(ctx->more)) {
            apr_brigade_cleanup(ctx->more);
            return got;
        }
        APR_BRIGADE_CONCAT(bb, ctx->more);
    }
}

/* Whether the last data byte of bb ends a line. */
static int expect_ends_line(apr_bucket_brigade *bb)
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

/* The line at the start of bb begins with a field name of
 * EXPECT_NAME_LEN bytes: replace those bytes with the stash name. */
static apr_status_t expect_rename(ap_filter_t *f, apr_bucket_brigade *bb)
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
    e = apr_bucket_immortal_create(EXPECT_STASH_NAME, EXPECT_NAME_LEN,
                                   f->c->bucket_alloc);
    APR_BRIGADE_INSERT_HEAD(bb, e);
    return APR_SUCCESS;
}

static void expect_note(expect_lines *ctx, expect_origin_e origin,
                        const char *head)
{
    if (ctx->noted != ctx->r) {
        /* The first such line of this block. */
        ctx->noted = ctx->r;
        ctx->lines[EXPECT_OURS] = ctx->lines[EXPECT_THEIRS] = 0;
        ctx->order = apr_array_make(ctx->r->pool, 4, sizeof(char));
        ctx->moved = -1;
    }
    if (!ctx->lines[origin]++) {
        memcpy(ctx->name[origin], head, EXPECT_NAME_LEN);
        ctx->name[origin][EXPECT_NAME_LEN] = '\0';
    }
    APR_ARRAY_PUSH(ctx->order, char) = (char)origin;
}

/* The end of a header block with both renamed Expect lines and the
 * client's own stash-name lines.  httpd is about to merge all the fields
 * called by the stash name into one; every such line but the last field
 * is in the table already (httpd adds a field once it has read the next
 * line).  The group the pending last line belongs to keeps the name, so
 * that httpd merges and limits it (LimitRequestFieldSize after merging)
 * exactly as it would have; the other group is hidden, and httpd merges
 * and limits it under the hidden name. */
static void expect_lines_separate(expect_lines *ctx)
{
    request_rec *r = ctx->r;
    const apr_array_header_t *in = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)in->elts;
    const char *origin = (const char *)ctx->order->elts;
    int lines = ctx->order->nelts;
    apr_table_t *out;
    int i, n = 0, pending = -1, move;

    for (i = 0; i < in->nelts; i++) {
        n += !strcasecmp(e[i].key, EXPECT_STASH_NAME);
    }
    if (n < lines) {
        pending = origin[lines - 1];
    }
    move = pending == EXPECT_THEIRS ? EXPECT_OURS : EXPECT_THEIRS;

    out = apr_table_make(r->pool, in->nelts + 1);
    for (i = 0, n = 0; i < in->nelts; i++) {
        const char *key = e[i].key;

        if (!strcasecmp(key, EXPECT_STASH_NAME) && n < lines
            && origin[n++] == move) {
            key = expect_hidden_name(r->pool, key);
        }
        apr_table_addn(out, key, e[i].val);
    }
    r->headers_in = out;
    ctx->moved = move;
}

/* The filter's slow path, and the one place where its state changes: a
 * line that starts with a byte the fast path does not pass, a line piece
 * that does not come whole in one heap bucket, the request line and, once
 * a line of ours or of the stash name has passed, every line. */
static EXPECT_NOINLINE apr_status_t expect_lines_step(expect_lines *ctx,
                                                      ap_filter_t *f,
                                                      apr_bucket_brigade *bb,
                                                      apr_read_type_e block)
{
    char head[EXPECT_NAME_LEN + 1];
    apr_size_t got;
    apr_status_t rv;

    if (ctx->state != EXPECT_IN_MID_LINE
        && (got = expect_line_head(ctx, f, bb, block, head, sizeof(head)))) {
        ctx->after_line = ctx->state;
        if (head[0] == '\n' || (got > 1 && head[0] == '\r' && head[1] == '\n')) {
            /* An empty line: before the request line httpd skips it; after
             * it, it ends the header block. */
            if (ctx->state != EXPECT_IN_REQUEST_LINE) {
                if (ctx->state == EXPECT_IN_WATCH
                    && ctx->lines[EXPECT_OURS] && ctx->lines[EXPECT_THEIRS]) {
                    expect_lines_separate(ctx);
                }
                ctx->state = EXPECT_IN_PASS;
                return APR_SUCCESS;
            }
        }
        else if (ctx->state == EXPECT_IN_REQUEST_LINE) {
            ctx->after_line = EXPECT_IN_HEADERS;
        }
        else if (got == sizeof(head) && head[EXPECT_NAME_LEN] == ':') {
            if (expect_ci_equal(head, "Expect", EXPECT_NAME_LEN)) {
                if ((rv = expect_rename(f, bb)) != APR_SUCCESS) {
                    return rv;
                }
                expect_note(ctx, EXPECT_OURS, head);
                ctx->after_line = EXPECT_IN_WATCH;
            }
            else if (expect_ci_equal(head, EXPECT_STASH_NAME,
                                     EXPECT_NAME_LEN)) {
                expect_note(ctx, EXPECT_THEIRS, head);
                ctx->after_line = EXPECT_IN_WATCH;
            }
        }
    }
    ctx->state = expect_ends_line(bb) ? ctx->after_line : EXPECT_IN_MID_LINE;
    return APR_SUCCESS;
}

/* A header line piece has been read into bb: pass it up after a look at
 * its first and last bytes, read in place from the heap buckets the core
 * input filter hands up, or take the slow path. */
static EXPECT_NOINLINE apr_status_t expect_in_line(ap_filter_t *f,
                                                   apr_bucket_brigade *bb,
                                                   apr_read_type_e block)
{
    expect_lines *ctx = f->ctx;
    apr_status_t rv;
    apr_bucket *first, *last;

    rv = ap_get_brigade(f->next, bb, AP_MODE_GETLINE, block, 0);
    if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(bb)) {
        return rv;
    }
    first = APR_BRIGADE_FIRST(bb);
    last = APR_BRIGADE_LAST(bb);
    if (APR_BUCKET_IS_HEAP(first) && APR_BUCKET_IS_HEAP(last)
        && first->length && last->length) {
        char c = ((apr_bucket_heap *)first->data)->base[first->start];
        char lf = ((apr_bucket_heap *)last->data)->base[last->start
                                                         + last->length - 1];
        if (lf == '\n') {
            /* A whole line: in the block, one that cannot begin "Expect:"
             * nor the stash name; or the request line. */
            if (ctx->state == EXPECT_IN_HEADERS && (c | 0x20) != 'e') {
                return APR_SUCCESS;
            }
            if (ctx->state == EXPECT_IN_REQUEST_LINE && c != '\r'
                && c != '\n') {
                ctx->state = EXPECT_IN_HEADERS;
                return APR_SUCCESS;
            }
        }
    }
    return expect_lines_step(ctx, f, bb, block);
}

/* EXPECT_IN.  It acts only on AP_MODE_GETLINE reads of a header block,
 * from pre_read_request on; it changes nothing but the six name bytes of
 * Expect lines and passes up exactly the line pieces it gets from below,
 * so every other header line is read, folded, counted and limited by
 * httpd as without it.  Every header line of every request comes through
 * here, so every line costs: expect_in_line looks at two bytes of it.
 * Until a line of ours or of the stash name has passed, the empty line
 * that ends the block is not looked for: post_read_request stops the
 * filter. */
static apr_status_t expect_in_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block,
                                     apr_off_t readbytes)
{
    if (mode != AP_MODE_GETLINE
        || ((expect_lines *)f->ctx)->state == EXPECT_IN_PASS) {
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    return expect_in_line(f, bb, block);
}

/* pre_connection: every client connection gets EXPECT_IN, and so do the
 * connections of HTTP/2 streams where httpd leaves no other way (2.4.49 to
 * 2.4.54): with "H2SerializeHeaders On" mod_http2 hands each request to
 * them as HTTP/1.1 header lines.  Not mod_proxy's backend connections:
 * responses, not requests, are read there. */
static int expect_lines_pre_connection(conn_rec *c, void *csd)
{
    expect_lines *ctx;

    if ((c->master && EXPECT_H2_CAPTURE) || EXPECT_CONN_IS_OUTGOING(c)) {
        return DECLINED;
    }
    ctx = apr_pcalloc(c->pool, sizeof(*ctx));
    ap_set_module_config(c->conn_config, &expect_module, ctx);
    ap_add_input_filter_handle(expect_in_filter_handle, ctx, NULL, c);
    return DECLINED;
}

/* pre_read_request, for the header block about to be read. */
static int expect_lines_arm(request_rec *r, conn_rec *c)
{
    expect_lines *ctx = ap_get_module_config(c->conn_config, &expect_module);

    if (!ctx) {
        return 0;
    }
    ctx->state = EXPECT_IN_REQUEST_LINE;
    ctx->r = r;
    ctx->noted = NULL;      /* a new request_rec may reuse the old address */
    return 1;
}

/* post_read_request: the block has been read (or there was none, as for
 * HTTP/0.9).  Stop, and hand back what the filter renamed or hid.  Returns
 * 0 when the request did not come through the filter: an HTTP/2 stream
 * whose header lines were not serialized. */
static int expect_lines_hand_back(request_rec *r, const char **field)
{
    expect_lines *ctx = ap_get_module_config(r->connection->conn_config,
                                             &expect_module);
    if (!ctx) {
        return 0;
    }
    ctx->state = EXPECT_IN_PASS;
    *field = NULL;
    if (ctx->noted == r && ctx->lines[EXPECT_OURS]) {
        ctx->noted = NULL;
        expect_unhide(r, ctx->moved == EXPECT_OURS
                         ? EXPECT_STASH_NAME EXPECT_HIDDEN_SUFFIX
                         : EXPECT_STASH_NAME,
                      apr_pstrdup(r->pool, ctx->name[EXPECT_OURS]));
        *field = apr_table_get(r->headers_in, "Expect");
    }
    return *field || !r->connection->master;
}

#else /* !EXPECT_CHECK_BEFORE_POST_READ */

/* Before 2.4.49 the check follows the post_read_request hooks: the last
 * of them hides the field (other modules' hooks still see it)... */
static int expect_hide_for_check(request_rec *r)
{
    if (!r->prev && !r->main && apr_table_get(r->headers_in, "Expect")) {
        expect_hide(r, "Expect");
    }
    return DECLINED;
}

/* ...and the first hook after the check hands it back. */
static int expect_hand_back_after_check(request_rec *r, int lookup)
{
    if (!lookup && apr_table_get(r->headers_in, EXPECT_HIDDEN_EXPECT)) {
        expect_unhide(r, NULL, NULL);
    }
    return DECLINED;
}

#endif /* EXPECT_CHECK_BEFORE_POST_READ */

/* ------------------------------------------------------------------ */
/* The hooks                                                           */
/* ------------------------------------------------------------------ */

static void expect_capture_pre_read_request(request_rec *r, conn_rec *c)
{
#if EXPECT_CHECK_BEFORE_POST_READ
    if (expect_lines_arm(r, c)) {
        return;
    }
#endif
#if EXPECT_H2_CAPTURE
    /* HTTP/2: the table is filled; httpd checks it next. */
    if (c->master && apr_table_get(r->headers_in, "Expect")) {
        expect_hide(r, "Expect");
    }
#endif
}

const char *expect_capture_field(request_rec *r)
{
#if EXPECT_CHECK_BEFORE_POST_READ
    const char *field;

    if (expect_lines_hand_back(r, &field)) {
        return field;
    }
#endif
    if (apr_table_get(r->headers_in, EXPECT_HIDDEN_EXPECT)) {
        expect_unhide(r, NULL, NULL);
    }
    return apr_table_get(r->headers_in, "Expect");
}

#if EXPECT_CHECK_BEFORE_POST_READ && !EXPECT_H2_CAPTURE
/* httpd 2.4.49 to 2.4.54 with mod_http2: say once what HTTP/2 loses. */
static int expect_capture_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                      apr_pool_t *ptemp, server_rec *s)
{
    static const char key[] = "mod_expect_h2_notice";
    void *said = NULL;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG
        || !ap_find_linked_module("mod_http2.c")) {
        return OK;
    }
    apr_pool_userdata_get(&said, key, s->process->pool);
    if (!said) {
        apr_pool_userdata_set((void *)1, key, apr_pool_cleanup_null,
                              s->process->pool);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "%s checks the Expect field of HTTP/2 requests before "
                     "any module sees it (httpd 2.4.49 to 2.4.54): over "
                     "HTTP/2 a value other than 100-continue gets httpd's "
                     "own 417, unless H2SerializeHeaders is On; HTTP/1.x "
                     "is not affected", ap_get_server_banner());
    }
    return OK;
}
#endif

void expect_capture_register_hooks(void)
{
    /* pre_read_request runs before each request's header block is read
     * (HTTP/1.x: arm EXPECT_IN) and, for HTTP/2, once the header table is
     * filled and before httpd's check. */
    ap_hook_pre_read_request(expect_capture_pre_read_request, NULL, NULL,
                             APR_HOOK_MIDDLE);
#if EXPECT_CHECK_BEFORE_POST_READ
    /* pre_connection: the filter goes on each client connection once. */
    ap_hook_pre_connection(expect_lines_pre_connection, NULL, NULL,
                           APR_HOOK_MIDDLE);
    /* AP_FTYPE_CONNECTION: above mod_ssl (CONNECTION + 5) and
     * mod_reqtimeout (CONNECTION + 8), so it sees decrypted bytes and
     * reqtimeout still times the reads; below every request filter, so
     * it sees the header lines exactly as httpd reads them. */
    expect_in_filter_handle =
        ap_register_input_filter(EXPECT_IN_FILTER, expect_in_filter, NULL,
                                 AP_FTYPE_CONNECTION);
#else
    /* REALLY_LAST: after every other module's post_read_request, and so
     * just before httpd's own check. */
    ap_hook_post_read_request(expect_hide_for_check, NULL, NULL,
                              APR_HOOK_REALLY_LAST);
    /* REALLY_FIRST quick_handler: the first hook after the check, before
     * any quick handler could serve the request. */
    ap_hook_quick_handler(expect_hand_back_after_check, NULL, NULL,
                          APR_HOOK_REALLY_FIRST);
#endif
#if EXPECT_CHECK_BEFORE_POST_READ && !EXPECT_H2_CAPTURE
    ap_hook_post_config(expect_capture_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
#endif
}
