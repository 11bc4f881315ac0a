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
 * How the field is taken before httpd's own Expect check sees it is the
 * business of expect_capture.c; the list parser and the JSON writer are
 * the pure unit expect_parse.c; the counters shown by mod_status live in
 * expect_counters.c.  This file holds the configuration and the decision:
 * judged once the per-directory configuration is known, acted on after
 * access control.
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "mod_core.h"
#include "mod_proxy.h"

#include "expect_capture.h"
#include "expect_compat.h"
#include "expect_counters.h"
#include "expect_parse.h"

module AP_MODULE_DECLARE_DATA expect_module;

#define EXPECT_DEFAULT_ENGINE   1
#define EXPECT_DEFAULT_CONTINUE EXPECT_CONTINUE_DEFER
#define EXPECT_DEFAULT_UNKNOWN  EXPECT_UNKNOWN_REJECT
#define EXPECT_DEFAULT_FORMAT   EXPECT_FORMAT_JSON
#define EXPECT_DEFAULT_MESSAGE  \
    "The server cannot meet the expectation specified in the Expect header."

#define EXPECT_UNSET            -1

/* Keeps the rare work out of the hot functions' frames. */
#if defined(__GNUC__)
#define EXPECT_NOINLINE __attribute__((noinline))
#else
#define EXPECT_NOINLINE
#endif
#define EXPECT_ERROR_FILTER     "EXPECT_ERROR"
#define EXPECT_GUARD_FILTER     "EXPECT_GUARD"
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

/* Per-directory configuration; every scalar starts EXPECT_UNSET. */
typedef struct {
    int engine;
    int cont;               /* expect_continue_e */
    int unknown;            /* expect_unknown_e */
    int format;             /* expect_format_e */
    const char *message;    /* NULL: unset */
    apr_array_header_t *allow;  /* of const char *; NULL: unset */
} expect_dir_conf;

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
    int acted;              /* the judgement has been acted on */
    int answered_early;     /* an error response began before that */
    int stock;              /* ExpectEngine Off: httpd's own rules */
    int stock_refused;      /* ... and its 417 */
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
    int guard;              /* EXPECT_GUARD_WATCH or EXPECT_GUARD_SINK */
} expect_request;

enum {
    EXPECT_GUARD_WATCH = 0, /* see expect_guard_filter */
    EXPECT_GUARD_SINK
};

/* EXPECT_ERROR's context: how the refusal under way is sent. */
typedef struct {
    expect_request *rec;
    int status;             /* the refusal's status (417, or an
                             * ErrorDocument's redirect); 0 on the target
                             * of a local ErrorDocument, whose status is
                             * httpd's to set */
    int typed;              /* the module's own body: its Content-Type */
    apr_bucket_brigade *held;   /* the body until its end, for its length */
} expect_error_ctx;

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
/* Hooks and filters, in the order a request meets them                */
/* ------------------------------------------------------------------ */

static ap_filter_rec_t *expect_error_filter_handle;
static ap_filter_rec_t *expect_guard_filter_handle;

static expect_request *expect_new_request(request_rec *r, const char *field)
{
    expect_request *rec = apr_pcalloc(r->pool, sizeof(*rec));
    rec->field = field;
    ap_set_module_config(r->request_config, &expect_module, rec);
    return rec;
}

static int expect_has_body(request_rec *r)
{
    const char *cl;
    apr_off_t len;

    if (apr_table_get(r->headers_in, "Transfer-Encoding")) {
        return 1;
    }
    cl = apr_table_get(r->headers_in, "Content-Length");
    return cl && expect_parse_length(&len, cl) && len > 0;
}

/* The request whose Expect field the module judged: r itself, or for the
 * target of an internal redirect the initial request. */
static expect_request *expect_initial_record(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
    }
    return ap_get_module_config(r->request_config, &expect_module);
}

/* Whether the response under way is the module's refusal (a 417 of its
 * own, or what an ErrorDocument 417 makes of it). */
static int expect_refusing(const expect_request *rec)
{
    return rec && rec->acted && (rec->unmet || rec->stock_refused);
}

/* Adds EXPECT_ERROR to the response that carries a refusal; typed: the
 * body is the module's own, which needs its Content-Type. */
static void expect_add_error_filter(request_rec *r, expect_request *rec,
                                    int typed)
{
    expect_error_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

    ctx->rec = rec;
    ctx->status = r->prev ? 0 : r->status;
    ctx->typed = typed;
    ap_add_output_filter_handle(expect_error_filter_handle, ctx, r,
                                r->connection);
}

/* post_read_request of an internal redirect: the decision belongs to the
 * initial request.  Carry its outcome, so that logging and the target's
 * <If> see it; and when the target answers the module's refusal (an
 * ErrorDocument 417 that is a local URL), guard that answer too. */
static EXPECT_NOINLINE int expect_carry_outcome(request_rec *r)
{
    expect_request *rec = expect_initial_record(r);

    if (rec && rec->acted && rec->outcome) {
        apr_table_setn(r->subprocess_env, EXPECT_OUTCOME_VAR, rec->outcome);
    }
    if (expect_refusing(rec)) {
        expect_add_error_filter(r, rec, 0);
    }
    return DECLINED;
}

/* The request carried a non-empty Expect field: count it, parse it, and
 * note a 100-continue the way httpd would. */
static EXPECT_NOINLINE int expect_read_field(request_rec *r,
                                             expect_request *rec)
{
    const expect_member *m;
    int i, has_continue = 0, mentions_continue = 0, has_body;

    expect_count(r, EXPECT_COUNT_REQUESTS);
    rec->members = expect_parse(rec->field, strlen(rec->field), r->pool,
                                expect_hash_seed);
    m = (const expect_member *)rec->members->elts;
    for (i = 0; i < rec->members->nelts; i++) {
        if (m[i].kind == EXPECT_MEMBER_CONTINUE) {
            has_continue = 1;
        }
        if (expect_member_mentions_continue(&m[i])) {
            mentions_continue = 1;
        }
    }
    has_body = expect_has_body(r);
    rec->may_wait = mentions_continue && has_body;
    if (has_continue && has_body && r->proto_num >= HTTP_VERSION(1, 1)) {
        rec->wants_100 = 1;
        r->expecting_100 = 1;
    }
    return DECLINED;
}

/* post_read_request: take the field back from expect_capture.c (it is
 * then in r->headers_in under the name the client gave it, where it was),
 * parse it, and note a 100-continue the way httpd would
 * (r->expecting_100), so that a final answer given before the decision
 * (401, 403, a redirect) still closes a connection whose body was never
 * sent.  An empty field means no expectation and stays as it came. */
static int expect_post_read_request(request_rec *r)
{
    expect_request *rec;
    const char *field;

    if (r->prev) {
        return expect_carry_outcome(r);
    }
    field = expect_capture_field(r);
    if (!field || !field[0]) {
        return DECLINED;
    }
    rec = expect_new_request(r, field);
    ap_add_output_filter_handle(expect_guard_filter_handle, rec, r,
                                r->connection);
    return expect_read_field(r, rec);
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
    /* httpd refuses before it maps the request to any section, so its 417
     * goes out with the virtual host's configuration (its ErrorDocument),
     * and it ends the connection: the body is not read. */
    r->per_dir_config = r->server->lookup_defaults;
    r->expecting_100 = 0;       /* httpd notes only the exact value */
    r->connection->keepalive = AP_CONN_CLOSE;
    rec->stock_refused = 1;
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

static int expect_reject(request_rec *r, expect_request *rec)
{
    const expect_dir_conf *conf = rec->conf;
    int format = EXPECT_GET(conf, format, EXPECT_DEFAULT_FORMAT);

    if (APLOGrinfo(r)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "417 for Expect \"%s\": unmet %s (%s%s%s)",
                      expect_quote_field(r->pool, rec->field,
                                         strlen(rec->field)),
                      expect_quote_members(r->pool, rec->unmet),
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

/* Whether httpd will read a body of the length the request declares: not
 * when it is over the body limit that applies (LimitRequestBody), which
 * HTTP_IN checks before it reads anything.  A chunked body's length is not
 * known before it is read. */
static int expect_body_within_limit(request_rec *r)
{
    apr_off_t limit = ap_get_limit_req_body(r), len;
    const char *cl;

    if (!limit || apr_table_get(r->headers_in, "Transfer-Encoding")) {
        return 1;
    }
    cl = apr_table_get(r->headers_in, "Content-Length");
    return !cl || !expect_parse_length(&len, cl) || len <= limit;
}

/* Where the module acts on its judgement. */
typedef enum {
    EXPECT_IN_FIXUPS,       /* the usual place: the configuration is final */
    EXPECT_IN_MAP_TO_STORAGE,   /* a request answered there (OPTIONS *, TRACE) */
    EXPECT_AS_RESPONSE_BEGINS   /* a response begun before fixups */
} expect_when_e;

/* Act on the judgement: answer 417, or pass the accepted members on and
 * send an immediate 100 Continue.  In fixups, judge again if an <If> or
 * <Proxy> section changed the configuration since the judgement. */
static EXPECT_NOINLINE int expect_act(request_rec *r, expect_request *rec,
                                      expect_when_e when)
{
    if (!rec->judged
        || (when == EXPECT_IN_FIXUPS
            && rec->conf != ap_get_module_config(r->per_dir_config,
                                                 &expect_module))) {
        expect_judge(r, rec);
    }
    rec->acted = 1;
    if (rec->stock) {
        return expect_decide_stock(r, rec);
    }
    if (rec->unmet) {
        expect_count(r, rec->counter);
        if (rec->may_wait && !r->expecting_100) {
            /* "100-continue=1", "100-continue" from HTTP/1.0...: not the
             * expectation, but the client may still be waiting for a 100
             * before it sends the body.  Reading the body could only end in
             * a timeout: close instead, as for a real 100-continue. */
            r->connection->keepalive = AP_CONN_CLOSE;
        }
        return expect_reject(r, rec);
    }
    if (rec->counter == EXPECT_COUNT_IMMEDIATE
        && (when == EXPECT_AS_RESPONSE_BEGINS
            || !expect_body_within_limit(r))) {
        /* No 100 for a body httpd will refuse for its length (HTTP_IN
         * answers 413 at the first read, as under Defer), nor once the
         * response has begun. */
        rec->outcome = "continue";
        rec->counter = EXPECT_COUNT_CONTINUE;
        apr_table_setn(r->subprocess_env, EXPECT_OUTCOME_VAR, rec->outcome);
    }
    expect_count(r, rec->counter);
    /* The accepted members replace the field, unless another module has
     * changed or removed it since it was handed back (mod_headers'
     * RequestHeader, say): then that change stands. */
    if (apr_table_get(r->headers_in, "Expect") == rec->field) {
        if (rec->kept) {
            apr_table_setn(r->headers_in, "Expect", rec->kept);
        }
        else {
            apr_table_unset(r->headers_in, "Expect");
        }
    }
    if (rec->counter == EXPECT_COUNT_IMMEDIATE) {
        int status = r->status;
        const char *status_line = r->status_line;

        /* The status line given in full: before 2.4.52 httpd writes
         * r->status_line as it is. */
        r->status = HTTP_CONTINUE;
        r->status_line = ap_get_status_line(HTTP_CONTINUE);
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

/* The judgement, made before the <If> walk so that <If> conditions, and
 * everything after them (per-directory SetEnvIf, access checkers,
 * RewriteCond), can use EXPECT_OUTCOME: the same directory, files and
 * location walks that core's map_to_storage and the location walk after
 * it are about to run (their caches make httpd's own runs that follow
 * hits), then r->per_dir_config is put back as it was.  Proxied requests
 * are mapped by mod_proxy's own walk of <Proxy> sections: for them the
 * location walk alone.  fixups judges again if the final configuration
 * differs (an <If> or <Proxy> section with a directive of this module). */
static EXPECT_NOINLINE ap_conf_vector_t *expect_preview(request_rec *r,
                                                       expect_request *rec)
{
    ap_conf_vector_t *saved = r->per_dir_config, *walked = NULL;

    if (r->proxyreq || !r->filename
        || !strncmp(r->filename, "proxy:", 6)) {
        if (ap_location_walk(r) == OK) {
            walked = r->per_dir_config;
        }
    }
    else if (ap_directory_walk(r) == OK && ap_file_walk(r) == OK
             && ap_location_walk(r) == OK) {
        walked = r->per_dir_config;
    }
    if (walked) {
        expect_judge(r, rec);
    }
    r->per_dir_config = saved;
    return walked;
}

/* Act before the usual place, with the configuration the preview found:
 * a refusal keeps it, so that the URL's ErrorDocument 417 and
 * LimitRequestBody apply to it; a request let through goes on as httpd
 * would have served it. */
static int expect_act_early(request_rec *r, expect_request *rec,
                            expect_when_e when)
{
    ap_conf_vector_t *saved = r->per_dir_config, *walked = NULL;
    int status;

    if (!rec->judged) {
        walked = expect_preview(r, rec);
    }
    if (walked) {
        r->per_dir_config = walked;
    }
    status = expect_act(r, rec, when);
    if (status == DECLINED) {
        r->per_dir_config = saved;
    }
    return status;
}

/* Requests that mod_http answers in its own map_to_storage hooks, which
 * end the request cycle there: access control and fixups never run for
 * "OPTIONS *" nor for TRACE (unless mod_proxy forwards it). */
static int expect_answered_in_map_to_storage(request_rec *r)
{
    if (r->proxyreq || (r->filename && !strncmp(r->filename, "proxy:", 6))) {
        return 0;
    }
    return r->method_number == M_TRACE
           || (r->method_number == M_OPTIONS && r->uri
               && r->uri[0] == '*' && r->uri[1] == '\0');
}

/* map_to_storage, APR_HOOK_REALLY_FIRST, so before core's, mod_http's and
 * mod_proxy's: judges requests that carry Expect, and acts at once on
 * those that no later hook of the cycle will see. */
static int expect_map_to_storage(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);
    if (!rec || rec->judged) {
        return DECLINED;
    }
    if (expect_answered_in_map_to_storage(r)) {
        return expect_act_early(r, rec, EXPECT_IN_MAP_TO_STORAGE);
    }
    expect_preview(r, rec);
    return DECLINED;
}

/* fixups: act on the judgement, after access control and every other
 * fixup (see expect_register_hooks), just before the handler. */
static int expect_fixups(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);
    if (!rec || rec->acted) {
        return DECLINED;
    }
    return expect_act(r, rec, EXPECT_IN_FIXUPS);
}

/* mod_proxy's optional proxy_fixups hook runs on the copy of the headers
 * that goes to the backend, after ap_proxy_create_hdrbrgd() has removed
 * Expect (it keeps the field only when it runs its own 100-continue
 * exchange with the backend, and then the accepted extensions are still
 * in it).  Put the accepted extensions back: the backend is who has to
 * meet them.  100-continue itself is hop-by-hop and stays mod_proxy's. */
static int expect_proxy_fixups(request_rec *r)
{
    expect_request *rec;

    if (r->main) {
        return OK;      /* a subrequest: the field is not its own */
    }
    rec = expect_initial_record(r);
    if (rec && rec->extensions && !apr_table_get(r->headers_in, "Expect")) {
        apr_table_setn(r->headers_in, "Expect", rec->extensions);
    }
    return OK;
}

/* insert_error_filter: ap_send_error_response() runs this hook before it
 * picks the body.  On the module's 417, when no ErrorDocument 417 applies,
 * register the JSON body as the custom response. */
static void expect_insert_error_filter(request_rec *r)
{
    expect_request *rec = ap_get_module_config(r->request_config,
                                               &expect_module);
    int typed = 0;

    if (!rec) {
        return;
    }
    if (!rec->acted) {
        /* Answered before the module acted (401, 403, a redirect...): the
         * judged outcome never happened, and the answer stays.  In a scope
         * of ExpectEngine Off it goes out as stock's would: httpd notes
         * "100-continue" as it reads the request, whatever the body, and
         * does not keep the connection of a client that may still send
         * one. */
        rec->answered_early = 1;
        if (!rec->judged) {
            expect_preview(r, rec);     /* is the scope ExpectEngine Off? */
        }
        apr_table_unset(r->subprocess_env, EXPECT_OUTCOME_VAR);
        if (rec->stock && !strcasecmp(rec->field, "100-continue")) {
            r->expecting_100 = 1;
        }
        return;
    }
    if (!expect_refusing(rec)) {
        return;
    }
    if (r->status == HTTP_EXPECTATION_FAILED && rec->body
        && !ap_response_code_string(r, ap_index_of_response(r->status))) {
        ap_custom_response(r, HTTP_EXPECTATION_FAILED, rec->body);
        typed = 1;
    }
    expect_add_error_filter(r, rec, typed);
}

/* Bytes of a refusal held back to give it a Content-Length; an
 * ErrorDocument longer than this goes out as httpd sends it. */
#define EXPECT_ERROR_HOLD_MAX   (64 * 1024)

/* EXPECT_ERROR, on the response that carries a refusal.
 *
 * The module's own refusal stays a refusal.  httpd reads and discards the
 * body of a request it answers, so that the connection can carry the next
 * one; when that read fails -- the body is over LimitRequestBody
 * (declared, or found so while reading it chunked), malformed (a bad chunk,
 * an unreadable trailer), or too slow -- HTTP_IN closes the connection,
 * sends an error bucket down the output filters, and may set r->status;
 * HTTP_HEADER would turn that into a 413 or 400 page about a second error.
 * Here the error buckets are dropped and the status put back: the 417 goes
 * out, with "Connection: close".  Its body gets its Content-Type (httpd
 * forces text/html on a custom response) and, held until its end, its
 * Content-Length (a body past httpd's output buffer would go chunked).
 *
 * httpd's own 417 of ExpectEngine Off gets the same care: its page, its
 * status and its length.
 *
 * AP_FTYPE_CONTENT_SET - 1: ahead of mod_headers' error filter (so that
 * "Header always" keeps the last word) and of HTTP_HEADER. */
static apr_status_t expect_error_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    expect_error_ctx *ctx = f->ctx;
    apr_bucket *e, *next;
    apr_status_t rv;
    apr_off_t held;
    int eos = 0;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb); e = next) {
        next = APR_BUCKET_NEXT(e);
        if (APR_BUCKET_IS_EOS(e)) {
            eos = 1;
        }
        else if (AP_BUCKET_IS_ERROR(e)) {
            f->c->keepalive = AP_CONN_CLOSE;
            apr_bucket_delete(e);
        }
    }
    if (ctx->status && f->r->status != ctx->status) {
        /* A failed read that left no error bucket: HTTP_IN reports an
         * unreadable trailer section only by the 400 it leaves in
         * r->status, and before 2.4.53 httpd's discard does not close the
         * connection when a read fails (CVE-2022-22720). */
        if (ap_status_drops_connection(f->r->status)) {
            f->c->keepalive = AP_CONN_CLOSE;
        }
        f->r->status = ctx->status;
    }
    if (!ctx->held) {
        ctx->held = apr_brigade_create(f->r->pool, f->c->bucket_alloc);
    }
    if (!eos) {
        rv = ap_save_brigade(f, &ctx->held, &bb, f->r->pool);
        if (rv != APR_SUCCESS || apr_brigade_length(ctx->held, 0, &held)
                                 != APR_SUCCESS
            || held < 0 || held > EXPECT_ERROR_HOLD_MAX) {
            /* Too long or of unknown length: let it go as it is. */
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, ctx->held);
        }
        return APR_SUCCESS;
    }
    APR_BRIGADE_PREPEND(bb, ctx->held);
    if (ctx->typed) {
        ap_set_content_type(f->r, ctx->rec->content_type);
        ap_set_content_length(f->r, strlen(ctx->rec->body));
    }
    else if (!f->r->header_only
             && apr_brigade_length(bb, 1, &held) == APR_SUCCESS) {
        ap_set_content_length(f->r, held);
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* EXPECT_GUARD, on every request that carried Expect.  The module acts in
 * fixups, after access control; but a response can begin without passing
 * there: from a quick handler (mod_cache's CacheQuickHandler), or from a
 * hook that answers the request itself and returns DONE.  An error
 * response begun that way (401, 403, a redirect) stays what it is; any
 * other is judged when it begins, with the configuration that applies
 * then (for a quick handler: the server's, the virtual host's and the
 * <Location> sections'), and replaced by the module's 417 if that fails.
 *
 * AP_FTYPE_PROTOCOL - 1: the last request filter before HTTP_HEADER, so
 * nothing has reached the client when it decides, and after mod_cache's
 * CACHE_OUT, which removes every filter added ahead of it. */
static apr_status_t expect_guard_filter(ap_filter_t *f,
                                        apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    expect_request *rec = f->ctx;
    int status;

    if (rec->guard == EXPECT_GUARD_SINK) {
        /* The rest of a response that was replaced. */
        apr_brigade_cleanup(bb);
        return APR_SUCCESS;
    }
    if (rec->acted || rec->answered_early) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    status = expect_act_early(r, rec, EXPECT_AS_RESPONSE_BEGINS);
    if (status == DECLINED) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    /* Replace the response.  ap_send_error_response() starts the output
     * over from the protocol filters; this filter comes back as a sink
     * for whatever the original response still sends. */
    apr_brigade_cleanup(bb);
    ap_remove_output_filter(f);
    r->status = HTTP_OK;
    ap_die(status, r);
    rec->guard = EXPECT_GUARD_SINK;
    ap_add_output_filter_handle(expect_guard_filter_handle, rec, r,
                                r->connection);
    return APR_SUCCESS;
}

/* post_config: a fresh seed for the parser's duplicate detection on every
 * (re)start, so that no client can aim at its hash. */
static int expect_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s)
{
    if (apr_generate_random_bytes((unsigned char *)&expect_hash_seed,
                                  sizeof(expect_hash_seed)) != APR_SUCCESS) {
        expect_hash_seed = (apr_uint64_t)apr_time_now();
    }
    return OK;
}

/* The map of the module: where each part meets httpd's request cycle. */
static void expect_register_hooks(apr_pool_t *p)
{
    /* Before httpd reads a request: the header-line filter and the HTTP/2
     * table hand-over (expect_capture.c). */
    expect_capture_register_hooks();
    /* The counters' shared memory and their mod_status rows. */
    expect_counters_register_hooks();

    ap_hook_post_config(expect_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Ahead of every REALLY_FIRST hook (mod_log_forensic's, mod_http2's):
     * the field is back under its own name before any other module's
     * post_read_request looks at the headers, and
     * r->expecting_100 is set before anything could answer the request. */
    ap_hook_post_read_request(expect_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST - 1);
    /* The judgement: map_to_storage is the first hook that knows which
     * <Directory>, <Files> and <Location> sections apply; REALLY_FIRST so
     * that it precedes core's and mod_proxy's, and with them the <If>
     * walk, access checkers and per-directory SetEnvIf that may test
     * EXPECT_OUTCOME; and mod_http's, which answer OPTIONS * and TRACE
     * there: the module acts on those at once. */
    ap_hook_map_to_storage(expect_map_to_storage, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    /* The action: fixups run after authentication and authorization (a
     * client without credentials gets 401/403, not 417) and before the
     * handler; REALLY_LAST so that whatever another fixup decides stays
     * what it is (mod_rewrite's per-directory [F] and [R], mod_dir's and
     * mod_speling's redirects) and no 100 Continue goes out before it. */
    ap_hook_fixups(expect_fixups, NULL, NULL, APR_HOOK_REALLY_LAST);
    /* ap_send_error_response() runs insert_error_filter before it chooses
     * the body: where the module's 417 gets its JSON body, and where an
     * answer decided before the module acted is noticed. */
    ap_hook_insert_error_filter(expect_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    /* mod_proxy's optional hook on the headers for the backend: accepted
     * extensions are the backend's to meet. */
    APR_OPTIONAL_HOOK(proxy, fixups, expect_proxy_fixups, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* CONTENT_SET - 1: ahead of mod_headers' error filter (so that
     * "Header always" keeps the last word) and of HTTP_HEADER
     * (AP_FTYPE_PROTOCOL), which writes the Content-Type line. */
    expect_error_filter_handle =
        ap_register_output_filter(EXPECT_ERROR_FILTER, expect_error_filter,
                                  NULL, AP_FTYPE_CONTENT_SET - 1);
    /* PROTOCOL - 1: the last request filter, after mod_cache's CACHE_OUT
     * (CONTENT_SET - 1), just before HTTP_HEADER. */
    expect_guard_filter_handle =
        ap_register_output_filter(EXPECT_GUARD_FILTER, expect_guard_filter,
                                  NULL, AP_FTYPE_PROTOCOL - 1);
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
