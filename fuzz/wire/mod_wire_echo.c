/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * mod_wire_echo.c: the test-only handler of the differential wire fuzzer
 * (make fuzz-wire, t/wire_replay.t).  Never installed, never part of the
 * product.  Both servers of a run, stock httpd and httpd with mod_expect,
 * load it from the same configuration.
 *
 * It shows what httpd made of a request, as exactly as bytes allow:
 *
 *   X-Wire-In     (a response header, on every response of a request that
 *                 reached post_read_request, error responses included):
 *                 the request line's parts and every field of
 *                 r->headers_in in table order, as they stood when the
 *                 request had just been read;
 *   X-Wire-Stage  the last of post_read_request, fixups, handler the
 *                 request reached;
 *   X-Wire-Head   1 on the response to a HEAD request (no body follows);
 *   the body of   SetHandler wire-echo: the request again, the fields as
 *                 the handler sees them, the body's length and MD5, the
 *                 trailers, r->expecting_100 and EXPECT_OUTCOME;
 *                 SetHandler wire-noread: the same without reading the
 *                 body (httpd discards it after the handler).
 *
 * Field values are escaped (%XX for '%', ';', '=' and every byte outside
 * 0x21..0x7e); a value longer than WIRE_FULL_MAX is shown as its length
 * and MD5 unless its name has six bytes (Expect and every name the fuzzer
 * renames it to), which are always shown in full.
 */

#include "apr_md5.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

module AP_MODULE_DECLARE_DATA wire_echo_module;

#define WIRE_FULL_MAX 512

typedef struct {
    char *data;
    apr_size_t len, cap;
    apr_pool_t *p;
} wire_buf;

static void wire_add(wire_buf *b, const char *s, apr_size_t len)
{
    if (b->len + len + 1 > b->cap) {
        apr_size_t cap = b->cap ? b->cap * 2 : 1024;
        char *data;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        data = apr_palloc(b->p, cap);
        if (b->len) {
            memcpy(data, b->data, b->len);
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static void wire_str(wire_buf *b, const char *s)
{
    wire_add(b, s, strlen(s));
}

static void wire_escaped(wire_buf *b, const char *s, apr_size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c <= 0x20 || c > 0x7e || c == '%' || c == ';' || c == '=') {
            char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
            wire_add(b, esc, 3);
        }
        else {
            wire_add(b, (const char *)&c, 1);
        }
    }
}

static void wire_md5(wire_buf *b, const void *data, apr_size_t len)
{
    unsigned char digest[APR_MD5_DIGESTSIZE];
    char hex[2 * APR_MD5_DIGESTSIZE + 1];
    int i;

    apr_md5(digest, data, len);
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    wire_str(b, hex);
}

/* name=value for one field: the value in full, or #length:md5. */
static void wire_field(wire_buf *b, const char *key, const char *val)
{
    apr_size_t klen = strlen(key), vlen = val ? strlen(val) : 0;

    wire_escaped(b, key, klen);
    wire_str(b, "=");
    if (vlen <= WIRE_FULL_MAX || klen == 6) {
        wire_escaped(b, val ? val : "", vlen);
    }
    else {
        wire_str(b, apr_psprintf(b->p, "#%" APR_SIZE_T_FMT ":", vlen));
        wire_md5(b, val, vlen);
    }
}

static void wire_table(wire_buf *b, apr_table_t *t, const char *sep)
{
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        wire_str(b, sep);
        wire_field(b, e[i].key, e[i].val);
    }
}

/* The request line's parts, as key=value;... */
static void wire_request(wire_buf *b, request_rec *r, const char *sep)
{
    wire_str(b, "method=");
    wire_escaped(b, r->method ? r->method : "", r->method ? strlen(r->method) : 0);
    wire_str(b, sep);
    wire_str(b, "uri=");
    if (r->unparsed_uri) {
        wire_escaped(b, r->unparsed_uri, strlen(r->unparsed_uri));
    }
    wire_str(b, sep);
    wire_str(b, "path=");
    if (r->uri) {
        wire_escaped(b, r->uri, strlen(r->uri));
    }
    wire_str(b, sep);
    wire_str(b, "protocol=");
    if (r->protocol) {
        wire_escaped(b, r->protocol, strlen(r->protocol));
    }
    wire_str(b, apr_psprintf(b->p, "%sproto_num=%d%sassbackwards=%d",
                             sep, r->proto_num, sep, r->assbackwards));
}

static void wire_stage(request_rec *r, const char *stage)
{
    apr_table_setn(r->err_headers_out, "X-Wire-Stage", stage);
    apr_table_setn(r->notes, "wire-stage", stage);
}

/* post_read_request, after mod_expect's (REALLY_FIRST) has handed the
 * Expect field back: what httpd read. */
static int wire_post_read_request(request_rec *r)
{
    wire_buf b = { NULL, 0, 0, r->pool };

    if (r->main || r->prev) {
        return DECLINED;
    }
    wire_request(&b, r, ";");
    wire_table(&b, r->headers_in, ";");
    apr_table_setn(r->err_headers_out, "X-Wire-In", b.data);
    apr_table_setn(r->notes, "wire-in", b.data);
    if (r->header_only) {
        apr_table_setn(r->err_headers_out, "X-Wire-Head", "1");
    }
    wire_stage(r, "prr");
    return DECLINED;
}

/* insert_error_filter: an error response that replaces the one under
 * way (a failed body read ends in one) may start from cleared header
 * tables; put the fields back. */
static void wire_insert_error_filter(request_rec *r)
{
    const char *in = apr_table_get(r->notes, "wire-in");

    if (in && !r->main && !r->prev) {
        apr_table_setn(r->err_headers_out, "X-Wire-In", in);
        apr_table_setn(r->err_headers_out, "X-Wire-Stage",
                       apr_table_get(r->notes, "wire-stage"));
        if (r->header_only) {
            apr_table_setn(r->err_headers_out, "X-Wire-Head", "1");
        }
    }
}

static int wire_fixups(request_rec *r)
{
    if (!r->main && !r->prev) {
        wire_stage(r, "fixups");
    }
    return DECLINED;
}

/* The fuzzer's reference runs rename the Expect field by changing the
 * first letter of its name (E to X, Z or Q); where httpd reads such a
 * line as part of a body, the second digest (bodyn) still compares equal:
 * it hashes the body with the first letter of every "?xpect:" at the start
 * of a line put back to E (or e).  at_line: the previous byte was '\n'. */
static void wire_md5_normalized(apr_md5_ctx_t *md5, const char *data,
                                apr_size_t len, int *at_line, char *held,
                                apr_size_t *nheld)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = data[i];

        if (*nheld) {
            held[(*nheld)++] = c;
            if (*nheld == 7 || apr_tolower(c) != "?xpect:"[*nheld - 1]) {
                if (*nheld == 7 && c == ':') {
                    held[0] = apr_isupper(held[0]) ? 'E' : 'e';
                }
                apr_md5_update(md5, held, *nheld);
                *nheld = 0;
            }
        }
        else if (*at_line && strchr("EeXxZzQq", c) && c) {
            held[(*nheld)++] = c;
        }
        else {
            apr_md5_update(md5, &c, 1);
        }
        *at_line = c == '\n';
    }
}

/* Reads the whole body; returns OK or the status the read failed with. */
static int wire_read_body(request_rec *r, apr_off_t *total, wire_buf *digest)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    apr_md5_ctx_t md5, md5n;
    unsigned char out[APR_MD5_DIGESTSIZE];
    char held[8];
    apr_size_t nheld = 0;
    int i, seen_eos = 0, at_line = 1;

    apr_md5_init(&md5);
    apr_md5_init(&md5n);
    *total = 0;
    while (!seen_eos) {
        apr_bucket *e;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         8192);
        if (rv != APR_SUCCESS) {
            apr_brigade_destroy(bb);
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        if (APR_BRIGADE_EMPTY(bb)) {
            break;
        }
        for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(e)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            if (apr_bucket_read(e, &data, &len, APR_BLOCK_READ)
                != APR_SUCCESS) {
                apr_brigade_destroy(bb);
                return HTTP_BAD_REQUEST;
            }
            apr_md5_update(&md5, data, len);
            wire_md5_normalized(&md5n, data, len, &at_line, held, &nheld);
            *total += len;
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    apr_md5_final(out, &md5);
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++) {
        wire_str(digest, apr_psprintf(r->pool, "%02x", out[i]));
    }
    if (nheld) {
        apr_md5_update(&md5n, held, nheld);
    }
    apr_md5_final(out, &md5n);
    wire_str(digest, "\nbodyn=");
    for (i = 0; i < APR_MD5_DIGESTSIZE; i++) {
        wire_str(digest, apr_psprintf(r->pool, "%02x", out[i]));
    }
    return OK;
}

static int wire_handler(request_rec *r)
{
    wire_buf b = { NULL, 0, 0, r->pool };
    wire_buf digest = { NULL, 0, 0, r->pool };
    int reads, status;
    apr_off_t total = 0;
    const char *outcome;

    if (!r->handler) {
        return DECLINED;
    }
    if (!strcmp(r->handler, "wire-echo")) {
        reads = 1;
    }
    else if (!strcmp(r->handler, "wire-noread")) {
        reads = 0;
    }
    else {
        return DECLINED;
    }
    wire_stage(r, "handler");
    wire_str(&b, "wire-echo\n");
    wire_request(&b, r, "\n");
    wire_str(&b, apr_psprintf(r->pool, "\nexpecting_100=%d\n",
                              r->expecting_100));
    wire_str(&b, "headers");
    wire_table(&b, r->headers_in, "\nh ");
    if (reads) {
        status = wire_read_body(r, &total, &digest);
        if (status != OK) {
            return status;
        }
        wire_str(&b, apr_psprintf(r->pool, "\nbody=%" APR_OFF_T_FMT " %s",
                                  total, digest.data ? digest.data : ""));
        wire_str(&b, "\ntrailers");
        wire_table(&b, r->trailers_in, "\nt ");
    }
    else {
        wire_str(&b, "\nbody=unread");
    }
    outcome = apr_table_get(r->subprocess_env, "EXPECT_OUTCOME");
    wire_str(&b, "\noutcome=");
    wire_str(&b, outcome ? outcome : "-");
    wire_str(&b, "\n");

    ap_set_content_type(r, "text/plain");
    ap_set_content_length(r, b.len);
    if (!r->header_only) {
        ap_rwrite(b.data, b.len, r);
    }
    return OK;
}

static void wire_register_hooks(apr_pool_t *p)
{
    /* FIRST: after mod_expect's REALLY_FIRST post_read_request, which
     * hands the Expect field back under its own name. */
    ap_hook_post_read_request(wire_post_read_request, NULL, NULL,
                              APR_HOOK_FIRST);
    /* LAST: after access control and the fixups of other modules, before
     * mod_expect's own (APR_HOOK_REALLY_LAST), which may answer 417: the
     * stage "fixups" says the request got past access control. */
    ap_hook_fixups(wire_fixups, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_error_filter(wire_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_handler(wire_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(wire_echo) = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    wire_register_hooks
};
