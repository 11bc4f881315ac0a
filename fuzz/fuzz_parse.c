/* Fuzz target: expect_parse(), the RFC 9110 Expect list parser.
 *
 * The input is the field value, in a heap buffer of exactly its size (so
 * AddressSanitizer reports any read past len).  Properties checked:
 *   - every member lies inside the input, in order, without overlap;
 *   - its text is non-empty and trimmed of OWS (SP, HTAB);
 *   - it contains no comma outside a quoted-string;
 *   - the bytes between members are only OWS and commas, and two members
 *     are always separated by at least one comma;
 *   - the member list equals that of a naive reference splitter;
 *   - kind is CONTINUE exactly for a case-insensitive bare "100-continue",
 *     MALFORMED exactly when a reference matcher of the grammar
 *     (token [ "=" ( token / quoted-string ) parameters ]) says no, and
 *     name_len is the leading token for well-formed members;
 *   - duplicate flags equal a naive O(n^2) reference (up to 600 members)
 *     and do not depend on the hash seed;
 *   - with FUZZ_COUNT_WORK: the work (basic blocks run) is at most
 *     FUZZ_WORK_PER_BYTE per input byte plus a constant.
 */
#include "fuzz_common.h"

/* Blocks per byte the parser may spend.  Measured on the corpus the ratio
 * stays below 20 (the worst case is a field of one-byte members, each
 * paying a hash, an array push and a table probe); a quadratic path
 * exceeds any constant on the long seeds. */
#define FUZZ_WORK_PER_BYTE  64
#define FUZZ_WORK_CONSTANT  256
/* Naive duplicate reference only below this member count. */
#define FUZZ_NAIVE_MAX      600

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_init_pool();
    return 0;
}

/* Reference: a complete quoted-string starting at s[i] ('"'); returns the
 * index after the closing quote, or 0. */
static size_t ref_quoted_end(const unsigned char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"') {
            return i + 1;
        }
        if (c == '\\') {
            /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (i + 1 >= n) {
                return 0;
            }
            c = s[++i];
            if (!(c == '\t' || (c >= 0x20 && c != 0x7f))) {
                return 0;
            }
            continue;
        }
        /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
        if (!(c == '\t' || (c >= 0x20 && c != 0x7f))) {
            return 0;
        }
    }
    return 0;
}

/* Reference: token / quoted-string at s[i]; index after it, or 0. */
static size_t ref_value_end(const unsigned char *s, size_t n, size_t i)
{
    size_t e;

    if (i < n && s[i] == '"') {
        return ref_quoted_end(s, n, i);
    }
    e = fuzz_ref_token_end(s, n, i);
    return e > i ? e : 0;
}

/* Reference matcher of
 *   expectation = token [ "=" ( token / quoted-string ) parameters ]
 *   parameters  = *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] )
 * over the whole of s[0..n). */
static int ref_well_formed(const unsigned char *s, size_t n)
{
    size_t i = fuzz_ref_token_end(s, n, 0);

    if (i == 0) {
        return 0;
    }
    if (i == n) {
        return 1;
    }
    if (s[i] != '=' || (i = ref_value_end(s, n, i + 1)) == 0) {
        return 0;
    }
    while (i < n) {
        size_t e;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i == n || s[i] != ';') {
            return 0;
        }
        i++;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i == n || s[i] == ';') {
            continue;
        }
        e = fuzz_ref_token_end(s, n, i);
        if (e == i || e == n || s[e] != '=') {
            return 0;
        }
        if ((i = ref_value_end(s, n, e + 1)) == 0) {
            return 0;
        }
    }
    return 1;
}

/* Reference splitter: walks the input once, tracking quoted-strings the
 * way the contract describes (a backslash inside quotes escapes the next
 * byte; an unbalanced quote runs to the end), and records [start, end)
 * of each trimmed non-empty element. */
typedef struct { size_t start, end; } ref_span;

static size_t ref_split(const unsigned char *s, size_t n, ref_span *out)
{
    size_t count = 0, i = 0, start = 0;
    int quoted = 0;

    for (;;) {
        if (i == n || (!quoted && s[i] == ',')) {
            size_t a = start, b = i;
            while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
            if (b > a) {
                out[count].start = a;
                out[count].end = b;
                count++;
            }
            if (i == n) {
                return count;
            }
            start = i + 1;
        }
        else if (quoted && s[i] == '\\' && i + 1 < n) {
            i++;
        }
        else if (s[i] == '"') {
            quoted = !quoted;
        }
        i++;
    }
}

/* Two members are the same expectation: same leading token compared
 * case-insensitively, and the same bytes after it. */
static int ref_same(const unsigned char *a, size_t alen,
                    const unsigned char *b, size_t blen)
{
    size_t an = fuzz_ref_token_end(a, alen, 0);
    size_t bn = fuzz_ref_token_end(b, blen, 0);

    return alen == blen && an == bn && fuzz_ref_ci_equal(a, (const char *)b, an)
           && memcmp(a + an, b + an, alen - an) == 0;
}

static void check_one(const unsigned char *s, size_t n)
{
    apr_array_header_t *members, *again;
    const expect_member *m, *m2;
    ref_span *spans;
    size_t nspans, i, prev_end = 0;
    apr_uint64_t seed = 0x9e3779b97f4a7c15ULL ^ n;

    for (i = 0; i < n && i < 8; i++) {
        seed = seed * 131 + s[i];
    }

#ifdef FUZZ_COUNT_WORK
    {
        unsigned long work;
        FUZZ_WORK_BEGIN();
        members = expect_parse((const char *)s, n, fuzz_pool, seed);
        work = FUZZ_WORK_END();
        FUZZ_CHECK(n == 0 || work > 0,
                   "the work counter counted nothing: is the target built "
                   "with -fsanitize-coverage=trace-pc?");
        FUZZ_CHECK(work <= FUZZ_WORK_PER_BYTE * n + FUZZ_WORK_CONSTANT,
                   "parser work %lu blocks for %lu bytes (%.1f per byte)",
                   work, (unsigned long)n, n ? (double)work / n : 0.0);
    }
#else
    members = expect_parse((const char *)s, n, fuzz_pool, seed);
#endif
    m = (const expect_member *)members->elts;

    spans = malloc((n / 2 + 2) * sizeof(*spans));
    nspans = ref_split(s, n, spans);
    FUZZ_CHECK((size_t)members->nelts == nspans,
               "%d members, reference splitter finds %lu",
               members->nelts, (unsigned long)nspans);

    for (i = 0; i < nspans; i++) {
        const unsigned char *t = (const unsigned char *)m[i].text;
        size_t off = (size_t)(t - s), j, name;
        int quoted = 0, commas = 0;

        /* Inside the input, in order, no overlap. */
        FUZZ_CHECK(t >= s && m[i].len <= n && off <= n - m[i].len,
                   "member %lu lies outside the input", (unsigned long)i);
        FUZZ_CHECK(off >= prev_end, "member %lu overlaps its predecessor",
                   (unsigned long)i);
        FUZZ_CHECK(off == spans[i].start && off + m[i].len == spans[i].end,
                   "member %lu is [%lu,%lu), reference [%lu,%lu)",
                   (unsigned long)i, (unsigned long)off,
                   (unsigned long)(off + m[i].len),
                   (unsigned long)spans[i].start, (unsigned long)spans[i].end);
        /* Non-empty, trimmed. */
        FUZZ_CHECK(m[i].len > 0, "member %lu is empty", (unsigned long)i);
        FUZZ_CHECK(t[0] != ' ' && t[0] != '\t' && t[m[i].len - 1] != ' '
                   && t[m[i].len - 1] != '\t',
                   "member %lu is not trimmed", (unsigned long)i);
        /* No unquoted comma inside. */
        for (j = 0; j < m[i].len; j++) {
            if (quoted && t[j] == '\\' && j + 1 < m[i].len) {
                j++;
            }
            else if (t[j] == '"') {
                quoted = !quoted;
            }
            else {
                FUZZ_CHECK(quoted || t[j] != ',',
                           "member %lu has an unquoted comma at %lu",
                           (unsigned long)i, (unsigned long)j);
            }
        }
        /* The gap before it: OWS and commas, a comma between members. */
        for (j = prev_end; j < off; j++) {
            FUZZ_CHECK(s[j] == ' ' || s[j] == '\t' || s[j] == ',',
                       "byte 0x%02x at %lu belongs to no member", s[j],
                       (unsigned long)j);
            commas += s[j] == ',';
        }
        FUZZ_CHECK(i == 0 || commas > 0,
                   "members %lu and %lu are not separated by a comma",
                   (unsigned long)i - 1, (unsigned long)i);
        prev_end = off + m[i].len;

        /* Kind. */
        FUZZ_CHECK((m[i].kind == EXPECT_MEMBER_CONTINUE)
                   == (m[i].len == 12 && fuzz_ref_ci_equal(t, "100-continue",
                                                            12)),
                   "member %lu: CONTINUE kind %d disagrees with the text",
                   (unsigned long)i, (int)m[i].kind);
        FUZZ_CHECK((m[i].kind == EXPECT_MEMBER_MALFORMED)
                   == !ref_well_formed(t, m[i].len),
                   "member %lu: kind %d, reference grammar says %s",
                   (unsigned long)i, (int)m[i].kind,
                   ref_well_formed(t, m[i].len) ? "well-formed"
                                                : "malformed");
        name = fuzz_ref_token_end(t, m[i].len, 0);
        FUZZ_CHECK(m[i].kind == EXPECT_MEMBER_MALFORMED
                   || m[i].name_len == name,
                   "member %lu: name_len %lu, leading token %lu",
                   (unsigned long)i, (unsigned long)m[i].name_len,
                   (unsigned long)name);
    }
    for (i = prev_end; i < n; i++) {
        FUZZ_CHECK(s[i] == ' ' || s[i] == '\t' || s[i] == ',',
                   "trailing byte 0x%02x at %lu belongs to no member", s[i],
                   (unsigned long)i);
    }
    free(spans);

    /* Duplicates: the naive reference, and seed independence. */
    if (nspans <= FUZZ_NAIVE_MAX) {
        for (i = 0; i < nspans; i++) {
            size_t j;
            int dup = 0;
            for (j = 0; j < i && !dup; j++) {
                dup = m[j].len == m[i].len
                      && ref_same((const unsigned char *)m[j].text, m[j].len,
                                  (const unsigned char *)m[i].text,
                                  m[i].len);
            }
            FUZZ_CHECK(m[i].duplicate == dup,
                       "member %lu: duplicate flag %d, naive reference %d",
                       (unsigned long)i, m[i].duplicate, dup);
        }
    }
    again = expect_parse((const char *)s, n, fuzz_pool, ~seed * 7 + 1);
    m2 = (const expect_member *)again->elts;
    FUZZ_CHECK(again->nelts == members->nelts, "member count depends on seed");
    for (i = 0; i < nspans; i++) {
        FUZZ_CHECK(m2[i].duplicate == m[i].duplicate,
                   "member %lu: duplicate flag depends on the hash seed",
                   (unsigned long)i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy: one byte past len is a redzone. */
    unsigned char *copy = malloc(size ? size : 1);

    fuzz_init_pool();
    memcpy(copy, data, size);
    check_one(copy, size);
    free(copy);
    apr_pool_clear(fuzz_pool);
    return 0;
}

int fuzz_selftest(void)
{
    static const struct { const char *s; int ok; } grammar[] = {
        { "100-continue", 1 }, { "x=1;a=b", 1 }, { "x=\"a,b\"", 1 },
        { "x=tok ; p=1 ;q=\"v\"", 1 }, { "x=tok;;", 1 }, { "x;p=1", 0 },
        { "x=", 0 }, { "x =1", 0 }, { "x=1;p", 0 }, { "x@y", 0 },
        { "\"q\"", 0 }, { "x=a b", 0 }, { "x=\"open", 0 }, { "\xff", 0 },
        { "x=\"\\\"\"", 1 }, { "x=\"a\x01\"", 0 }, { "x=\"\xe9\"", 1 },
    };
    ref_span spans[8];
    size_t i;
    int failed = 0;

    for (i = 0; i < sizeof(grammar) / sizeof(grammar[0]); i++) {
        if (ref_well_formed((const unsigned char *)grammar[i].s,
                            strlen(grammar[i].s)) != grammar[i].ok) {
            fprintf(stderr, "reference grammar wrong on '%s'\n", grammar[i].s);
            failed = 1;
        }
    }
    if (ref_split((const unsigned char *)" a ,, \"b,c\" ,d\"e", 16, spans) != 3
        || spans[0].start != 1 || spans[0].end != 2 || spans[1].start != 6
        || spans[1].end != 11 || spans[2].start != 13 || spans[2].end != 16) {
        fprintf(stderr, "reference splitter wrong\n");
        failed = 1;
    }
    if (!ref_same((const unsigned char *)"X-Foo=1", 7,
                  (const unsigned char *)"x-foo=1", 7)
        || ref_same((const unsigned char *)"x=A", 3,
                    (const unsigned char *)"x=a", 3)) {
        fprintf(stderr, "reference duplicate test wrong\n");
        failed = 1;
    }
    return failed;
}
