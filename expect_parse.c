/* Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License.  You may obtain
 * a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND.
 */

/*
 * expect_parse.c: the RFC 9110 Expect list parser and the JSON writer of
 * 417 bodies.  Only bytes and an apr_pool_t: see expect_parse.h.
 */

#include <string.h>

#include "apr_strings.h"

#include "expect_parse.h"


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

int expect_ci_equal(const char *a, const char *b, apr_size_t n)
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

apr_size_t expect_token_len(const char *s, apr_size_t len)
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

int expect_member_mentions_continue(const expect_member *m)
{
    return m->len >= 12 && expect_ci_equal(m->text, "100-continue", 12);
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
apr_array_header_t *expect_parse(const char *s, apr_size_t len,
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

void expect_buf_add(expect_buf *b, const char *s, apr_size_t len)
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

void expect_json_string(expect_buf *b, const char *s, apr_size_t len,
                        apr_size_t max)
{
    expect_buf_add(b, "\"", 1);
    expect_json_chars(b, s, len, max);
    expect_buf_add(b, "\"", 1);
}

const char *expect_quote_field(apr_pool_t *p, const char *s, apr_size_t len)
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

const char *expect_quote_members(apr_pool_t *p,
                                 const apr_array_header_t *unmet)
{
    expect_buf b = { p, NULL, 0, 0 };
    int i;

    expect_buf_add(&b, "", 0);
    for (i = 0; i < unmet->nelts; i++) {
        if (i) {
            expect_buf_add(&b, ", ", 2);
        }
        expect_json_member(&b, APR_ARRAY_IDX(unmet, i, const expect_member *));
    }
    return b.data;
}

const char *expect_json_body(apr_pool_t *p, int problem, const char *message,
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
