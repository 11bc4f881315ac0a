/* main() for a fuzz target built without libFuzzer: runs the target's
 * property checks on each file named on the command line (a failed check
 * aborts), or the checks of the checker itself with --selftest.
 *
 *   replay [--selftest] FILE...
 *
 * Compiled WITHOUT coverage instrumentation; the target is compiled with
 * -fsanitize-coverage=trace-pc -DFUZZ_COUNT_WORK, and the callback below
 * counts the basic blocks it runs while fuzz_work_on is set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_selftest(void);

volatile int fuzz_work_on;
volatile unsigned long fuzz_work;

void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_pc(void)
{
    if (fuzz_work_on) {
        fuzz_work++;
    }
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t cap = 0, len = 0, n;

    if (!f) {
        return NULL;
    }
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
            if (!data) {
                fclose(f);
                return NULL;
            }
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    *size = len;
    return data;
}

int main(int argc, char **argv)
{
    int i, files = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        unsigned char *data, *exact;
        size_t size = 0;

        if (strcmp(argv[i], "--selftest") == 0) {
            if (fuzz_selftest() != 0) {
                fprintf(stderr, "replay: the checker's self-test failed\n");
                return 1;
            }
            printf("selftest passed\n");
            continue;
        }
        if (!(data = read_file(argv[i], &size))) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 2;
        }
        /* The target gets the same exact-size buffer libFuzzer would give. */
        exact = malloc(size ? size : 1);
        memcpy(exact, data, size);
        free(data);
        LLVMFuzzerTestOneInput(exact, size);
        free(exact);
        printf("replayed %s (%lu bytes", argv[i], (unsigned long)size);
        if (fuzz_work) {
            printf(", parser work %lu", (unsigned long)fuzz_work);
        }
        printf(")\n");
        fflush(stdout);
        files++;
    }
    return 0;
}
