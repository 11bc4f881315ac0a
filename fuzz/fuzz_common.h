/* Shared by the fuzz targets (fuzz_parse.c, fuzz_json.c): the module's
 * pure unit (expect_parse.h; each target links expect_parse.c), one APR
 * pool per process, a check macro that aborts with a message, and the
 * optional work counter.
 *
 * Each target is built two ways, both in mk/fuzz.mk:
 *   - with libFuzzer (make fuzz: clang -fsanitize=fuzzer,address,undefined);
 *   - with fuzz/replay.c as main() (make fuzz-replay-build, which
 *     t/fuzz_corpus.t runs), defining FUZZ_COUNT_WORK and compiling the
 *     target and expect_parse.c with -fsanitize-coverage=trace-pc: every
 *     basic block the compiler emits for them then calls
 *     __sanitizer_cov_trace_pc(), which replay.c counts while fuzz_work_on
 *     is set.  That count is the work the parser did, independent of
 *     timing, so linearity is asserted as a bound on blocks per input byte.
 */
#ifndef EXPECT_FUZZ_COMMON_H
#define EXPECT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apr_general.h"
#include "apr_strings.h"

#include "expect_parse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Checks of the checker itself (replay --selftest); 0 when they pass. */
int fuzz_selftest(void);

#ifdef FUZZ_COUNT_WORK
extern volatile int fuzz_work_on;
extern volatile unsigned long fuzz_work;
#define FUZZ_WORK_BEGIN() (fuzz_work = 0, fuzz_work_on = 1)
#define FUZZ_WORK_END()   (fuzz_work_on = 0, fuzz_work)
#endif

static apr_pool_t *fuzz_pool;

static inline void fuzz_init_pool(void)
{
    if (!fuzz_pool) {
        apr_initialize();
        apr_pool_create(&fuzz_pool, NULL);
    }
}

/* Bytes as C-escaped text on stderr, for failure messages. */
static inline void fuzz_dump(const char *label, const void *v, size_t len)
{
    const unsigned char *s = v;
    size_t i;

    fprintf(stderr, "  %s (%lu bytes): \"", label, (unsigned long)len);
    for (i = 0; i < len && i < 400; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
            fputc(s[i], stderr);
        }
        else {
            fprintf(stderr, "\\x%02x", s[i]);
        }
    }
    fprintf(stderr, "%s\"\n", i < len ? "..." : "");
}

#define FUZZ_CHECK(cond, ...)                                           \
    do {                                                                \
        if (!(cond)) {                                                  \
            fprintf(stderr, "PROPERTY FAILED at %s:%d: %s\n  ",         \
                    __FILE__, __LINE__, #cond);                         \
            fprintf(stderr, __VA_ARGS__);                               \
            fputc('\n', stderr);                                        \
            abort();                                                    \
        }                                                               \
    } while (0)

/* tchar per RFC 9110 5.6.2, written as "visible and not a delimiter" -- a
 * different formulation from the module's, on purpose. */
static inline int fuzz_ref_tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static inline int fuzz_ref_ci_equal(const unsigned char *a, const char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char x = a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) {
            return 0;
        }
    }
    return 1;
}

static inline size_t fuzz_ref_token_end(const unsigned char *s, size_t n, size_t i)
{
    while (i < n && fuzz_ref_tchar(s[i])) {
        i++;
    }
    return i;
}

#endif
