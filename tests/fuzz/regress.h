/* Runs a fuzz target's own LLVMFuzzerTestOneInput over every input kept in
 * fuzz/regress/<target>/ (inputs that once crashed it or broke one of its
 * properties), so `make test`, `make asan` and valgrind replay them. The
 * including file defines REGRESS_TARGET and includes the target's source. */
#ifndef SYNACK_TEST_FUZZ_REGRESS_H
#define SYNACK_TEST_FUZZ_REGRESS_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void replay_dir(void **state)
{
    (void)state;
    /* the source tree: this file sits in tests/fuzz/ */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *cut = strstr(dir, "/tests/fuzz/");
    assert_non_null(cut);
    snprintf(cut, sizeof dir - (size_t)(cut - dir), "/fuzz/regress/%s", REGRESS_TARGET);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static unsigned char buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* an exact-size copy, so a read past the input is caught */
        unsigned char *in = malloc(len ? len : 1);
        assert_non_null(in);
        memcpy(in, buf, len);
        print_message("replay %s (%zu bytes)\n", e->d_name, len);
        assert_int_equal(LLVMFuzzerTestOneInput(in, len), 0);
        free(in);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(replay_dir)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif
