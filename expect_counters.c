/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_counters.c: the Expect counters (see expect_counters.h).
 *
 * One slot per virtual host, keyed "name:port", in an anonymous shared
 * memory segment that the parent creates and keeps across restarts; the
 * children inherit it by fork and count with atomic increments.
 */

#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "mod_status.h"

#include "expect_compat.h"
#include "expect_counters.h"

APLOG_USE_MODULE(expect);

#define EXPECT_SLOT_KEY_MAX 128

typedef struct {
    char key[EXPECT_SLOT_KEY_MAX];      /* "host:port"; empty when free */
    volatile apr_uint64_t count[EXPECT_COUNTERS];
} expect_slot;

/* The segment: the slot directory and the slots. */
typedef struct {
    apr_uint32_t nslots;
    expect_slot slot[1];
} expect_counters;

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

void expect_count(request_rec *r, expect_counter_e which)
{
    int slot;

    if (expect_shm_counters && (slot = expect_server_slot(r->server)) >= 0) {
        expect_atomic_inc64(&expect_shm_counters->slot[slot].count[which]);
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

/* post_config: find or make the segment once the virtual hosts are known
 * (not in the first, configuration-testing pass at startup). */
static int expect_counters_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                                       apr_pool_t *ptemp, server_rec *s)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        expect_counters_attach(s, pconf, ptemp);
    }
    return OK;
}

void expect_counters_register_hooks(void)
{
    /* post_config runs in the parent, before the children are forked:
     * they inherit the segment. */
    ap_hook_post_config(expect_counters_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    /* mod_status's optional hook: our rows after its own tables. */
    APR_OPTIONAL_HOOK(ap, status_hook, expect_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
