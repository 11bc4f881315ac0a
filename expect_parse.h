/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_parse.h: the pure part of mod_expect -- the RFC 9110 Expect list
 * parser and the writer of 417 bodies.  Bytes and an apr_pool_t only: no
 * httpd header, no request_rec, so the unit tests and the fuzz targets
 * link it without a server.
 */

#ifndef EXPECT_PARSE_H
#define EXPECT_PARSE_H

#include "apr_pools.h"
#include "apr_tables.h"

/* Bytes of the received field quoted in a 417 body and in the log. */
#define EXPECT_QUOTE_FIELD_MAX  256
/* Bytes of a malformed member quoted in "unmet". */
#define EXPECT_QUOTE_MEMBER_MAX 64

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

/* A growing, NUL-terminated output buffer in a pool; start it as
 * { pool, NULL, 0, 0 }.  data stays NULL until something is added. */
typedef struct {
    apr_pool_t *p;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} expect_buf;

void expect_buf_add(expect_buf *b, const char *s, apr_size_t len);

/* Case-insensitive (ASCII) comparison of n bytes. */
int expect_ci_equal(const char *a, const char *b, apr_size_t n);

/* Length of the RFC 9110 token at the start of s[0..len). */
apr_size_t expect_token_len(const char *s, apr_size_t len);

/* Parse an Expect field value (Expect = #expectation) into its members
 * (an array of expect_member), in received order, duplicates marked.
 * seed keys the duplicate detection's hash.  Linear in len. */
apr_array_header_t *expect_parse(const char *s, apr_size_t len,
                                 apr_pool_t *p, apr_uint64_t seed);

/* Whether the member starts with "100-continue" (any case), with or
 * without a value: a client that sent it may be holding its body back. */
int expect_member_mentions_continue(const expect_member *m);

/* Append s[0..len) as the content of a JSON string, escaped to pure
 * printable ASCII; cut after max bytes, followed by "...". */
void expect_json_string(expect_buf *b, const char *s, apr_size_t len,
                        apr_size_t max);

/* The escaped, cut form of a field value, as quoted in bodies and logs. */
const char *expect_quote_field(apr_pool_t *p, const char *s, apr_size_t len);

/* The unmet members (an array of const expect_member *) as a list of JSON
 * strings, as the 417 body's "unmet" shows them: for the log line. */
const char *expect_quote_members(apr_pool_t *p,
                                 const apr_array_header_t *unmet);

/* The 417 body.  problem selects the RFC 9457 shape; unmet holds
 * const expect_member pointers, supported holds C strings. */
const char *expect_json_body(apr_pool_t *p, int problem, const char *message,
                             const char *field, apr_size_t field_len,
                             const apr_array_header_t *unmet,
                             const apr_array_header_t *supported);

#endif /* EXPECT_PARSE_H */
