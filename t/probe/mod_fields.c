/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 */

/*
 * mod_fields.c: a probe of the test suite, not part of mod_expect.
 *
 * The handler "fields-probe" lists the request's header fields as the
 * handler sees them, in table order, one a line: the name as the client
 * spelled it, a colon, a space, the value in brackets.
 *
 *   Host: [x]
 *   Expec~: [v1]
 *
 * Names may hold any token character (CGI cannot show them), and every
 * httpd release the suite runs against has this handler (mod_lua lists a
 * table only from 2.4.43 on).  Used by t/keepalive.t.
 */

#include "apr_strings.h"

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

static int fields_handler(request_rec *r)
{
    const apr_array_header_t *in;
    const apr_table_entry_t *e;
    int i;

    if (!r->handler || strcmp(r->handler, "fields-probe")) {
        return DECLINED;
    }
    ap_set_content_type(r, "text/plain");
    if (r->header_only) {
        return OK;
    }
    in = apr_table_elts(r->headers_in);
    e = (const apr_table_entry_t *)in->elts;
    for (i = 0; i < in->nelts; i++) {
        ap_rvputs(r, e[i].key, ": [", e[i].val ? e[i].val : "", "]\n", NULL);
    }
    return OK;
}

static void fields_register_hooks(apr_pool_t *p)
{
    ap_hook_handler(fields_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(fields) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    fields_register_hooks
};
