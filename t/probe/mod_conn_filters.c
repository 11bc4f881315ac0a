/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 */

/*
 * mod_conn_filters.c: a probe of the test suite, not part of mod_expect.
 *
 * Logs the input filters of every connection, once every module's
 * pre_connection hook has added its own (core's core_in comes after), with
 * one line at level trace1 -- so only where httpd's own per-module log
 * level asks for it:
 *
 *   LogLevel conn_filters:trace1
 *
 * The lines read:
 *
 *   conn_filters: client connection from 127.0.0.1:40312: expect_in
 *   conn_filters: outgoing connection to 127.0.0.1:9202: (none)
 *
 * mod_proxy runs pre_connection for its backend connections too (with the
 * virtual host of the request as their server), so the line shows whether
 * a module's connection filter sits where it has no business (t/proxy.t).
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_log.h"
#include "util_filter.h"

/* mod_proxy's backend connections: conn_rec->outgoing from 2.4.49; before,
 * they have no scoreboard slot, which client connections always have. */
static int conn_filters_outgoing(conn_rec *c)
{
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 116)
    return c->outgoing;
#else
    return c->sbh == NULL;
#endif
}

static int conn_filters_report(conn_rec *c, void *csd)
{
    const char *names = NULL;
    ap_filter_t *f;

    if (!APLOGctrace1(c) || c->master) {
        return DECLINED;
    }
    for (f = c->input_filters; f; f = f->next) {
        names = names ? apr_pstrcat(c->pool, names, " ", f->frec->name, NULL)
                      : f->frec->name;
    }
    if (!names) {
        names = "(none)";
    }
    if (conn_filters_outgoing(c)) {
        ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, c,
                      "conn_filters: outgoing connection to %s:%d: %s",
                      c->client_ip, c->client_addr ? c->client_addr->port : 0,
                      names);
    }
    else {
        ap_log_cerror(APLOG_MARK, APLOG_TRACE1, 0, c,
                      "conn_filters: client connection from %s:%d: %s",
                      c->client_ip, c->client_addr ? c->client_addr->port : 0,
                      names);
    }
    return DECLINED;
}

static void conn_filters_register_hooks(apr_pool_t *p)
{
    /* After every other module's pre_connection hook, just before core's
     * (APR_HOOK_REALLY_LAST: it adds core_in and returns DONE, which ends
     * the hook), so the list holds every filter a module added. */
    ap_hook_pre_connection(conn_filters_report, NULL, NULL,
                           APR_HOOK_REALLY_LAST - 1);
}

AP_DECLARE_MODULE(conn_filters) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    conn_filters_register_hooks
};
