/* Unit tests of mod_expect's pure unit (expect_parse.c): the RFC 9110
 * list parser and the JSON writer.  Linked with expect_parse.c and APR
 * alone (mk/fuzz.mk, `make unit-build`); prints TAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "expect_parse.h"

static int tests_run, tests_failed;

static void ok(int cond, const char *name)
{
    tests_run++;
    if (!cond) {
        tests_failed++;
    }
    printf("%sok %d - %s\n", cond ? "" : "not ", tests_run, name);
}

static void is_str(const char *got, const char *want, const char *name)
{
    int same = got && want && strcmp(got, want) == 0;
    ok(same, name);
    if (!same) {
        printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)",
               want ? want : "(null)");
    }
}

static const char *kind_name(expect_member_e k)
{
    switch (k) {
    case EXPECT_MEMBER_CONTINUE:  return "C";
    case EXPECT_MEMBER_EXTENSION: return "E";
    default:                      return "M";
    }
}

/* Render the parse as "kind:text[:dup]|..." for compact comparisons. */
static const char *render(apr_pool_t *p, const char *field)
{
    apr_array_header_t *m = expect_parse(field, strlen(field), p, 42);
    const char *out = "";
    int i;

    for (i = 0; i < m->nelts; i++) {
        expect_member *e = &APR_ARRAY_IDX(m, i, expect_member);
        out = apr_psprintf(p, "%s%s%s:%.*s%s", out, i ? "|" : "",
                           kind_name(e->kind), (int)e->len, e->text,
                           e->duplicate ? ":dup" : "");
    }
    return out;
}

static void test_parser(apr_pool_t *p)
{
    static const struct {
        const char *field;
        const char *want;
        const char *name;
    } cases[] = {
        { "100-continue", "C:100-continue", "bare 100-continue" },
        { "100-CONTINUE", "C:100-CONTINUE", "case-insensitive name" },
        { "  100-continue\t", "C:100-continue", "OWS around a member" },
        { "", "", "empty field" },
        { " , ,, ", "", "only empty elements" },
        { "a,,b", "E:a|E:b", "empty element between members" },
        { "100-continue, 100-continue", "C:100-continue|C:100-continue:dup",
          "duplicate counts once" },
        { "X-Foo, x-foo", "E:X-Foo|E:x-foo:dup",
          "duplicate names compare case-insensitively" },
        { "x-foo=1, x-foo=2", "E:x-foo=1|E:x-foo=2",
          "different values are different expectations" },
        { "100-continue=1", "E:100-continue=1",
          "100-continue with a value is an extension" },
        { "100-continue=1;a=b", "E:100-continue=1;a=b",
          "100-continue with parameters is an extension" },
        { "x=\"a,b\", y", "E:x=\"a,b\"|E:y",
          "comma inside a quoted-string does not split" },
        { "x=\"a\\\"b\"", "E:x=\"a\\\"b\"", "quoted-pair inside a value" },
        { "x=\"open, y", "M:x=\"open, y",
          "unbalanced quote runs to the end and is malformed" },
        { "x=tok ; p=1 ;q=\"v\"", "E:x=tok ; p=1 ;q=\"v\"",
          "parameters with OWS" },
        { "x=tok;;", "E:x=tok;;", "empty parameters" },
        { "x;p=1", "M:x;p=1", "parameters without a value are malformed" },
        { "x=", "M:x=", "missing value" },
        { "x =1", "M:x =1", "whitespace before '='" },
        { "x=1;p", "M:x=1;p", "parameter without '='" },
        { "x@y", "M:x@y", "bad token character" },
        { "\"q\"", "M:\"q\"", "a quoted-string is not a name" },
        { "x=a b", "M:x=a b", "space inside a token value" },
        { "x=\"a\x01\"", "M:x=\"a\x01\"", "control byte in a quoted-string" },
        { "x=\"\xe9\"", "E:x=\"\xe9\"", "obs-text in a quoted-string" },
        { "\xff", "M:\xff", "a byte >= 0x80 is not a token" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_str(render(p, cases[i].field), cases[i].want, cases[i].name);
    }
}

static void test_parser_names(apr_pool_t *p)
{
    apr_array_header_t *m;
    expect_member *e;

    m = expect_parse("x-foo=bar;a=b", 13, p, 1);
    e = &APR_ARRAY_IDX(m, 0, expect_member);
    ok(m->nelts == 1 && e->name_len == 5, "name length excludes the value");

    /* Length-delimited: bytes after len are never read. */
    m = expect_parse("a, b, c", 4, p, 1);
    ok(m->nelts == 2, "parser stops at len");
}

static void test_duplicates_many(apr_pool_t *p)
{
    apr_size_t n = 10000, i, dups = 0;
    char *field = apr_palloc(p, n * 4 + 1), *w = field;
    apr_array_header_t *m;

    for (i = 0; i < n; i++) {
        /* 100 distinct names, each repeated 100 times. */
        w += sprintf(w, "%s%c%c", i ? "," : "", 'a' + (int)(i % 10),
                     'a' + (int)((i / 10) % 10));
    }
    m = expect_parse(field, strlen(field), p, 7);
    for (i = 0; i < (apr_size_t)m->nelts; i++) {
        dups += APR_ARRAY_IDX(m, i, expect_member).duplicate;
    }
    ok(m->nelts == (int)n, "10000 members parsed");
    ok(dups == n - 100, "10000 members, 100 distinct");
}

static const char *json_of(apr_pool_t *p, const char *s, apr_size_t len,
                           apr_size_t max)
{
    expect_buf b = { p, NULL, 0, 0 };
    expect_json_string(&b, s, len, max);
    return b.data;
}

static void test_json_escaping(apr_pool_t *p)
{
    is_str(json_of(p, "plain", 5, 256), "\"plain\"", "plain text");
    is_str(json_of(p, "a\"b\\c", 5, 256), "\"a\\\"b\\\\c\"",
           "quote and backslash escaped");
    is_str(json_of(p, "\x01\x1f\x7f\x80\xff", 5, 256),
           "\"\\u0001\\u001f\\u007f\\u0080\\u00ff\"",
           "control, DEL and high bytes as \\u00XX");
    is_str(json_of(p, "a\0b", 3, 256), "\"a\\u0000b\"", "NUL byte escaped");
    is_str(json_of(p, "abcdef", 6, 4), "\"abcd...\"", "cut then ellipsis");
    is_str(json_of(p, "abcd", 4, 4), "\"abcd\"", "no ellipsis at the limit");
    is_str(json_of(p, "\"\"\"", 3, 2), "\"\\\"\\\"...\"",
           "escaping applies after the cut");
}

static void test_json_body(apr_pool_t *p)
{
    const char *field = "100-continue, x-foo";
    apr_array_header_t *m = expect_parse(field, strlen(field), p, 3);
    apr_array_header_t *unmet = apr_array_make(p, 1, sizeof(expect_member *));
    apr_array_header_t *sup = apr_array_make(p, 2, sizeof(const char *));
    const char *msg = "The server cannot meet the expectation specified "
                      "in the Expect header.";

    APR_ARRAY_PUSH(unmet, expect_member *) = &APR_ARRAY_IDX(m, 1,
                                                            expect_member);
    APR_ARRAY_PUSH(sup, const char *) = "100-continue";
    is_str(expect_json_body(p, 0, msg, field, strlen(field), unmet, sup),
           "{\"error\":\"The server cannot meet the expectation specified in"
           " the Expect header.\",\"status\":417,\"expect\":\"100-continue, "
           "x-foo\",\"unmet\":[\"x-foo\"],\"supported\":[\"100-continue\"]}\n",
           "JSON body shape and key order");
    is_str(expect_json_body(p, 1, msg, field, strlen(field), unmet, sup),
           "{\"type\":\"about:blank\",\"title\":\"Expectation Failed\","
           "\"status\":417,\"detail\":\"The server cannot meet the expectation"
           " specified in the Expect header.\",\"expect\":\"100-continue, "
           "x-foo\",\"unmet\":[\"x-foo\"],\"supported\":[\"100-continue\"]}\n",
           "Problem body shape and key order");

    /* Names only for well-formed members; raw text, cut, for malformed. */
    field = "x-bar=1;q=2, y@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"
            "@@@@@@@@@@@@@@@@@@@@@@@@z";
    m = expect_parse(field, strlen(field), p, 3);
    unmet = apr_array_make(p, 2, sizeof(expect_member *));
    APR_ARRAY_PUSH(unmet, expect_member *) = &APR_ARRAY_IDX(m, 0,
                                                            expect_member);
    APR_ARRAY_PUSH(unmet, expect_member *) = &APR_ARRAY_IDX(m, 1,
                                                            expect_member);
    sup = apr_array_make(p, 0, sizeof(const char *));
    is_str(strstr(expect_json_body(p, 0, "m", field, strlen(field), unmet,
                                   sup), "\"unmet\""),
           "\"unmet\":[\"x-bar\",\"y@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@"
           "@@@@@@@@@@@@@@@@@@@@@...\"],\"supported\":[]}\n",
           "unmet: name only, malformed cut at 64 bytes");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_parser(p);
    test_parser_names(p);
    test_duplicates_many(p);
    test_json_escaping(p);
    test_json_body(p);
    printf("1..%d\n", tests_run);
    apr_pool_destroy(p);
    apr_terminate();
    return tests_failed ? 1 : 0;
}
