/* Fuzz target: the JSON writer (expect_json_body, expect_json_string,
 * expect_quote_field).
 *
 * Input: byte 0 chooses the variant (bit 0: Problem shape; bit 1: the
 * message is the field text itself; bit 2: "supported" lists the
 * field's well-formed names; bit 3: only every other member is unmet);
 * the rest is the Expect field value, in an exact-size heap copy.
 *
 * Properties checked, for every input:
 *   - the 417 body is pure printable ASCII (0x20..0x7e; only the final
 *     newline is outside) and valid JSON per the strict validator below;
 *   - it is one object with the keys in the contract's order, "status" 417,
 *     "error"/"detail" the message, "expect" the field's first 256 bytes
 *     followed by "..." when longer, "unmet" each unmet member's name (a
 *     malformed member: its first 64 bytes, "..." when longer), and
 *     "supported" the given list;
 *   - string values decode (\u00XX read as the byte XX) back to exactly
 *     those bytes -- for printable ASCII input, to the input itself;
 *   - expect_json_string() with several cut lengths, and
 *     expect_quote_field(), give printable ASCII that decodes the same way
 *     and honours the cut.
 */
#include "fuzz_common.h"

/* The module's default ExpectErrorMessage. */
#define FUZZ_MESSAGE \
    "The server cannot meet the expectation specified in the Expect header."

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init_pool();
    return 0;
}

/* ---- A small strict JSON validator (RFC 8259) with a tiny DOM ---------- */

typedef enum { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_LITERAL } jtype;

typedef struct jvalue jvalue;
struct jvalue {
    jtype type;
    /* J_STRING: decoded bytes (\u00XX as byte XX); wide set when a \u
     * escape above 0xff occurred.  J_NUMBER/J_LITERAL: raw text. */
    char *str;
    size_t len;
    int wide;
    /* J_OBJECT / J_ARRAY */
    size_t count;
    char **keys;            /* decoded keys (objects) */
    size_t *key_lens;
    jvalue **items;
};

typedef struct {
    const char *s;
    size_t n, i;
    int depth;
    const char *error;
} jparser;

static jvalue *j_value(jparser *p);

static void j_ws(jparser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'
                           || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

static jvalue *j_fail(jparser *p, const char *why)
{
    if (!p->error) {
        p->error = why;
    }
    return NULL;
}

static int j_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static jvalue *j_string(jparser *p)
{
    jvalue *v = apr_pcalloc(fuzz_pool, sizeof(*v));
    char *out = apr_palloc(fuzz_pool, p->n - p->i + 1);
    size_t o = 0;

    v->type = J_STRING;
    p->i++;                                         /* opening quote */
    for (;;) {
        unsigned char c;
        if (p->i >= p->n) {
            return j_fail(p, "unterminated string");
        }
        c = (unsigned char)p->s[p->i++];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return j_fail(p, "raw control byte in a string");
        }
        if (c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        if (p->i >= p->n) {
            return j_fail(p, "backslash at end of input");
        }
        c = (unsigned char)p->s[p->i++];
        switch (c) {
        case '"': case '\\': case '/': out[o++] = (char)c; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            int k;
            for (k = 0; k < 4; k++) {
                int h = p->i < p->n ? j_hex((unsigned char)p->s[p->i]) : -1;
                if (h < 0) {
                    return j_fail(p, "bad \\u escape");
                }
                cp = cp * 16 + (unsigned)h;
                p->i++;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* A high surrogate needs its low half. */
                if (p->i + 6 > p->n || p->s[p->i] != '\\'
                    || p->s[p->i + 1] != 'u') {
                    return j_fail(p, "lone high surrogate");
                }
                p->i += 2;
                cp = 0;
                for (k = 0; k < 4; k++) {
                    int h = j_hex((unsigned char)p->s[p->i++]);
                    if (h < 0) {
                        return j_fail(p, "bad \\u escape");
                    }
                    cp = cp * 16 + (unsigned)h;
                }
                if (cp < 0xdc00 || cp > 0xdfff) {
                    return j_fail(p, "bad low surrogate");
                }
                v->wide = 1;
            }
            else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return j_fail(p, "lone low surrogate");
            }
            else if (cp > 0xff) {
                v->wide = 1;
            }
            else {
                out[o++] = (char)cp;
            }
            break;
        }
        default:
            return j_fail(p, "unknown escape");
        }
    }
    out[o] = '\0';
    v->str = out;
    v->len = o;
    return v;
}

static jvalue *j_number(jparser *p)
{
    jvalue *v = apr_pcalloc(fuzz_pool, sizeof(*v));
    size_t start = p->i;

    v->type = J_NUMBER;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    if (p->i < p->n && p->s[p->i] == '0') {
        p->i++;
    }
    else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    }
    else {
        return j_fail(p, "bad number");
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        size_t d = ++p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == d) return j_fail(p, "no digits after '.'");
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        size_t d;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        d = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == d) return j_fail(p, "no exponent digits");
    }
    v->str = apr_pstrmemdup(fuzz_pool, p->s + start, p->i - start);
    v->len = p->i - start;
    return v;
}

static jvalue *j_container(jparser *p, int object)
{
    jvalue *v = apr_pcalloc(fuzz_pool, sizeof(*v));
    size_t cap = 8;

    if (++p->depth > 64) {
        return j_fail(p, "nested too deep");
    }
    v->type = object ? J_OBJECT : J_ARRAY;
    v->items = apr_palloc(fuzz_pool, cap * sizeof(*v->items));
    v->keys = apr_palloc(fuzz_pool, cap * sizeof(*v->keys));
    v->key_lens = apr_palloc(fuzz_pool, cap * sizeof(*v->key_lens));
    p->i++;
    j_ws(p);
    if (p->i < p->n && p->s[p->i] == (object ? '}' : ']')) {
        p->i++;
        p->depth--;
        return v;
    }
    for (;;) {
        jvalue *item, *key = NULL;
        if (object) {
            size_t k;
            j_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') {
                return j_fail(p, "object key is not a string");
            }
            if (!(key = j_string(p))) {
                return NULL;
            }
            for (k = 0; k < v->count; k++) {
                if (v->key_lens[k] == key->len
                    && memcmp(v->keys[k], key->str, key->len) == 0) {
                    return j_fail(p, "duplicate key");
                }
            }
            j_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                return j_fail(p, "missing ':'");
            }
            p->i++;
        }
        if (!(item = j_value(p))) {
            return NULL;
        }
        if (v->count == cap) {
            size_t ncap = cap * 2;
            jvalue **items = apr_palloc(fuzz_pool, ncap * sizeof(*items));
            char **keys = apr_palloc(fuzz_pool, ncap * sizeof(*keys));
            size_t *lens = apr_palloc(fuzz_pool, ncap * sizeof(*lens));
            memcpy(items, v->items, cap * sizeof(*items));
            memcpy(keys, v->keys, cap * sizeof(*keys));
            memcpy(lens, v->key_lens, cap * sizeof(*lens));
            v->items = items;
            v->keys = keys;
            v->key_lens = lens;
            cap = ncap;
        }
        v->items[v->count] = item;
        v->keys[v->count] = key ? key->str : NULL;
        v->key_lens[v->count] = key ? key->len : 0;
        v->count++;
        j_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == (object ? '}' : ']')) {
            p->i++;
            p->depth--;
            return v;
        }
        return j_fail(p, "expected ',' or the closing bracket");
    }
}

static jvalue *j_literal(jparser *p, const char *word)
{
    size_t len = strlen(word);
    jvalue *v;

    if (p->n - p->i < len || memcmp(p->s + p->i, word, len) != 0) {
        return j_fail(p, "unexpected character");
    }
    v = apr_pcalloc(fuzz_pool, sizeof(*v));
    v->type = J_LITERAL;
    v->str = apr_pstrdup(fuzz_pool, word);
    v->len = len;
    p->i += len;
    return v;
}

static jvalue *j_value(jparser *p)
{
    j_ws(p);
    if (p->i >= p->n) {
        return j_fail(p, "value expected");
    }
    switch (p->s[p->i]) {
    case '{': return j_container(p, 1);
    case '[': return j_container(p, 0);
    case '"': return j_string(p);
    case 't': return j_literal(p, "true");
    case 'f': return j_literal(p, "false");
    case 'n': return j_literal(p, "null");
    default:  return j_number(p);
    }
}

/* The whole text must be exactly one JSON value (whitespace around). */
static jvalue *json_parse(const char *s, size_t n, const char **error)
{
    jparser p = { s, n, 0, 0, NULL };
    jvalue *v = j_value(&p);

    if (v) {
        j_ws(&p);
        if (p.i != n) {
            v = j_fail(&p, "text after the value");
        }
    }
    *error = p.error;
    return v;
}

/* ---- Properties --------------------------------------------------------- */

/* The bytes a writer call must encode: s cut at max, then "...". */
static char *cut_of(const unsigned char *s, size_t len, size_t max,
                    size_t *out_len)
{
    size_t n = len > max ? max : len;
    char *out = apr_palloc(fuzz_pool, n + 4);

    memcpy(out, s, n);
    if (len > max) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    *out_len = n;
    return out;
}

static void check_printable(const char *what, const char *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c > 0x7e) {
            fuzz_dump(what, out, n);
        }
        FUZZ_CHECK(c >= 0x20 && c <= 0x7e,
                   "%s: byte 0x%02x at offset %lu is not printable ASCII",
                   what, c, (unsigned long)i);
    }
}

static void check_string_value(const char *what, const jvalue *v,
                               const char *want, size_t want_len)
{
    FUZZ_CHECK(v && v->type == J_STRING, "%s is not a string", what);
    if (v->wide || v->len != want_len || memcmp(v->str, want, want_len)) {
        fuzz_dump("decoded", v->str, v->len);
        fuzz_dump("expected", want, want_len);
    }
    FUZZ_CHECK(!v->wide, "%s has a \\u escape above 0xff", what);
    FUZZ_CHECK(v->len == want_len && memcmp(v->str, want, want_len) == 0,
               "%s does not decode to the expected bytes", what);
}

/* A bare JSON string (as expect_json_string writes it). */
static void check_json_string(const unsigned char *s, size_t len, size_t max)
{
    expect_buf b = { fuzz_pool, NULL, 0, 0 };
    const char *error;
    const jvalue *v;
    size_t want_len;
    const char *want = cut_of(s, len, max, &want_len);

    expect_json_string(&b, (const char *)s, len, max);
    FUZZ_CHECK(b.data && strlen(b.data) == b.len,
               "json_string: length bookkeeping or a NUL in the output");
    check_printable("json_string", b.data, b.len);
    v = json_parse(b.data, b.len, &error);
    if (!v) {
        fuzz_dump("output", b.data, b.len);
    }
    FUZZ_CHECK(v, "json_string output is not valid JSON: %s", error);
    check_string_value("json_string", v, want, want_len);
    if (len <= max) {
        /* Printable ASCII input without '"' or '\' is written as is. */
        size_t i, plain = 1;
        for (i = 0; i < len; i++) {
            plain &= s[i] >= 0x20 && s[i] <= 0x7e && s[i] != '"'
                     && s[i] != '\\';
        }
        FUZZ_CHECK(!plain || (b.len == len + 2
                              && memcmp(b.data + 1, s, len) == 0),
                   "plain printable text was altered");
    }
}

static void check_quote_field(const unsigned char *s, size_t len)
{
    const char *q = expect_quote_field(fuzz_pool, (const char *)s, len);
    char *wrapped;
    const char *error, *want;
    const jvalue *v;
    size_t qlen = strlen(q), want_len;

    check_printable("quote_field", q, qlen);
    /* It is string content: wrapped in quotes it must be one JSON string,
     * so it can neither close the log's quotes nor inject anything. */
    wrapped = apr_palloc(fuzz_pool, qlen + 3);
    wrapped[0] = '"';
    memcpy(wrapped + 1, q, qlen);
    wrapped[qlen + 1] = '"';
    wrapped[qlen + 2] = '\0';
    v = json_parse(wrapped, qlen + 2, &error);
    FUZZ_CHECK(v, "quote_field output is not JSON string content: %s", error);
    want = cut_of(s, len, EXPECT_QUOTE_FIELD_MAX, &want_len);
    check_string_value("quote_field", v, want, want_len);
}

static void check_body(unsigned flags, const unsigned char *s, size_t len)
{
    int problem = flags & 1;
    apr_array_header_t *members, *unmet, *supported;
    const expect_member *m;
    const char *message, *body, *error;
    const jvalue *v, *list;
    static const char *const json_keys[] =
        { "error", "status", "expect", "unmet", "supported" };
    static const char *const problem_keys[] =
        { "type", "title", "status", "detail", "expect", "unmet", "supported" };
    const char *const *keys = problem ? problem_keys : json_keys;
    size_t nkeys = problem ? 7 : 5, k, blen, want_len;
    const char *want;
    int i;

    members = expect_parse((const char *)s, len, fuzz_pool, 5);
    m = (const expect_member *)members->elts;
    unmet = apr_array_make(fuzz_pool, 4, sizeof(const expect_member *));
    supported = apr_array_make(fuzz_pool, 4, sizeof(const char *));
    for (i = 0; i < members->nelts; i++) {
        if (!(flags & 8) || i % 2 == 0) {
            APR_ARRAY_PUSH(unmet, const expect_member *) = &m[i];
        }
        if ((flags & 4) && m[i].kind != EXPECT_MEMBER_MALFORMED) {
            APR_ARRAY_PUSH(supported, const char *) =
                apr_pstrmemdup(fuzz_pool, m[i].text, m[i].name_len);
        }
    }
    if (!(flags & 4)) {
        APR_ARRAY_PUSH(supported, const char *) = "100-continue";
        APR_ARRAY_PUSH(supported, const char *) = "x-trace";
    }
    /* ExpectErrorMessage takes any text, up to a NUL. */
    message = (flags & 2) ? apr_pstrmemdup(fuzz_pool, (const char *)s, len)
                          : FUZZ_MESSAGE;

    body = expect_json_body(fuzz_pool, problem, message, (const char *)s, len,
                            unmet, supported);
    blen = strlen(body);
    FUZZ_CHECK(blen > 0 && body[blen - 1] == '\n',
               "the body does not end with a newline");
    check_printable("body", body, blen - 1);
    v = json_parse(body, blen, &error);
    if (!v) {
        fuzz_dump("body", body, blen);
    }
    FUZZ_CHECK(v, "the body is not valid JSON: %s", error);
    FUZZ_CHECK(v->type == J_OBJECT && v->count == nkeys,
               "the body is not an object with %lu keys",
               (unsigned long)nkeys);
    for (k = 0; k < nkeys; k++) {
        FUZZ_CHECK(strcmp(v->keys[k], keys[k]) == 0,
                   "key %lu is \"%s\", expected \"%s\"", (unsigned long)k,
                   v->keys[k], keys[k]);
    }
    k = 0;
    if (problem) {
        check_string_value("type", v->items[0], "about:blank", 11);
        check_string_value("title", v->items[1], "Expectation Failed", 18);
        k = 2;
    }
    else {
        check_string_value("error", v->items[0], message, strlen(message));
        k = 1;
    }
    FUZZ_CHECK(v->items[k]->type == J_NUMBER
               && strcmp(v->items[k]->str, "417") == 0, "status is not 417");
    if (problem) {
        check_string_value("detail", v->items[3], message, strlen(message));
    }
    want = cut_of(s, len, EXPECT_QUOTE_FIELD_MAX, &want_len);
    check_string_value("expect", v->items[nkeys - 3], want, want_len);

    list = v->items[nkeys - 2];
    FUZZ_CHECK(list->type == J_ARRAY && list->count == (size_t)unmet->nelts,
               "unmet has %lu entries, expected %d",
               (unsigned long)list->count, unmet->nelts);
    for (i = 0; i < unmet->nelts; i++) {
        const expect_member *u = APR_ARRAY_IDX(unmet, i, const expect_member *);
        if (u->kind == EXPECT_MEMBER_MALFORMED) {
            want = cut_of((const unsigned char *)u->text, u->len,
                          EXPECT_QUOTE_MEMBER_MAX, &want_len);
        }
        else {
            want = u->text;
            want_len = fuzz_ref_token_end((const unsigned char *)u->text,
                                          u->len, 0);
        }
        check_string_value("unmet entry", list->items[i], want, want_len);
    }
    list = v->items[nkeys - 1];
    FUZZ_CHECK(list->type == J_ARRAY
               && list->count == (size_t)supported->nelts,
               "supported has the wrong number of entries");
    for (i = 0; i < supported->nelts; i++) {
        const char *name = APR_ARRAY_IDX(supported, i, const char *);
        check_string_value("supported entry", list->items[i], name,
                           strlen(name));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned flags = size ? data[0] : 0;
    size_t len = size ? size - 1 : 0;
    unsigned char *copy = malloc(len ? len : 1);
    static const size_t cuts[] = { 0, 1, 6, EXPECT_QUOTE_MEMBER_MAX,
                                   EXPECT_QUOTE_FIELD_MAX, (size_t)-1 };
    size_t c;

    fuzz_init_pool();
    memcpy(copy, data + (size ? 1 : 0), len);
    check_body(flags, copy, len);
    check_quote_field(copy, len);
    for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        check_json_string(copy, len, cuts[c]);
    }
    if (len > 1) {
        check_json_string(copy, len, len - 1);
        check_json_string(copy, len, len);
    }
    free(copy);
    apr_pool_clear(fuzz_pool);
    return 0;
}

/* The validator must refuse what is not strict JSON, and decode what is. */
int fuzz_selftest(void)
{
    static const char *const bad[] = {
        "", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "\"\x01\"", "\"\\x41\"",
        "\"\\u12\"", "01", "1.", "-", "1e", "{\"a\":1}x", "{a:1}",
        "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\\udc00\"", "'a'", "tru",
        "\"abc", "[\"a\" \"b\"]", "{\"a\":}",
    };
    static const char *const good[] = {
        "{}", "[]", "0", "-1.5e+3", "\"\\u00e9\\\"\\\\\\/\"", "true",
        " {\"a\":[1,\"x\",null,false]}\n", "\"\\ud83d\\ude00\"",
    };
    const char *error;
    const jvalue *v;
    size_t i;
    int failed = 0;

    fuzz_init_pool();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (json_parse(bad[i], strlen(bad[i]), &error)) {
            fprintf(stderr, "validator accepted invalid JSON: %s\n", bad[i]);
            failed = 1;
        }
    }
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!json_parse(good[i], strlen(good[i]), &error)) {
            fprintf(stderr, "validator refused valid JSON %s: %s\n", good[i],
                    error);
            failed = 1;
        }
    }
    v = json_parse("\"a\\u00ff\\\"\"", 11, &error);
    if (!v || v->len != 3 || memcmp(v->str, "a\xff\"", 3) != 0) {
        fprintf(stderr, "validator decodes \\u00ff wrongly\n");
        failed = 1;
    }
    apr_pool_clear(fuzz_pool);
    return failed;
}
