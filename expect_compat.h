/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_compat.h: what differs between the httpd 2.4 releases mod_expect
 * supports (2.4.37 and later, with APR 1.6 and later).  Every test of an
 * httpd or APR version in the module is here, decided at compile time
 * from httpd's module magic number (MMN) and APR's version; each names the
 * change it follows.
 */

#ifndef EXPECT_COMPAT_H
#define EXPECT_COMPAT_H

#include "apr_version.h"
#include "apr_atomic.h"
#include "apr_strings.h"

#include "ap_mmn.h"
#include "httpd.h"

/* httpd 2.4.49 (MMN 20120211.107) moved the HTTP/1.x Expect check into
 * ap_check_request_header(), which ap_read_request() calls right after
 * the header block, before any post_read_request hook.  Before 2.4.49
 * ap_read_request() checked Expect itself, after the post_read_request
 * hooks. */
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 107)
#define EXPECT_CHECK_BEFORE_POST_READ 1
#else
#define EXPECT_CHECK_BEFORE_POST_READ 0
#endif

/* mod_http2 fills r->headers_in before it runs pre_read_request, then
 * checks Expect: so before 2.4.49 (the request record is created with
 * its headers) and again from 2.4.55 (MMN 20120211.125, mod_http2 2.0).
 * From 2.4.49 to 2.4.54 it runs pre_read_request first, then copies the
 * headers and calls ap_check_request_header() at once: no hook, filter
 * or optional function of a module runs in between, so an HTTP/2 request
 * whose Expect is not exactly "100-continue" gets httpd's own 417 there,
 * unless "H2SerializeHeaders On" makes mod_http2 pass the request to the
 * stream's connection as HTTP/1.1 header lines. */
#if !AP_MODULE_MAGIC_AT_LEAST(20120211, 107) \
    || AP_MODULE_MAGIC_AT_LEAST(20120211, 125)
#define EXPECT_H2_CAPTURE 1
#else
#define EXPECT_H2_CAPTURE 0
#endif

/* conn_rec->outgoing marks mod_proxy's backend connections from httpd
 * 2.4.49 (MMN 20120211.116).  Before, mod_proxy creates them without a
 * scoreboard slot, which client connections always have. */
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 116)
#define EXPECT_CONN_IS_OUTGOING(c) ((c)->outgoing)
#else
#define EXPECT_CONN_IS_OUTGOING(c) ((c)->sbh == NULL)
#endif

/* ap_parse_strict_length() is httpd 2.4.44 (MMN 20120211.93); before, the
 * same rule (only digits, no sign, no overflow) with apr_strtoff(). */
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 93)
#define expect_parse_length ap_parse_strict_length
#else
static APR_INLINE int expect_parse_length(apr_off_t *len, const char *str)
{
    char *end;

    return *str >= '0' && *str <= '9'
           && apr_strtoff(len, str, &end, 10) == APR_SUCCESS && !*end;
}
#endif

/* 64-bit atomics are APR 1.7 (apr_atomic_inc64); with APR 1.6 the
 * compiler's own builtin does the same on the shared counters. */
#if APR_VERSION_AT_LEAST(1, 7, 0)
#define expect_atomic_inc64(p) apr_atomic_inc64(p)
#else
#define expect_atomic_inc64(p) \
    ((void)__atomic_fetch_add((p), 1, __ATOMIC_RELAXED))
#endif

#endif /* EXPECT_COMPAT_H */
