/* `synack VERB ...`: one binary, one verb per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct verb verbs[] = {
    {"demo", synack_cmd_demo, "run the seed's exchange (handshake, data, half-close) and explain it"},
    {"connect", synack_cmd_nc, "netcat: stdin/stdout over a synack connection to ADDR PORT (TUN/TAP)"},
    {"listen", synack_cmd_nc, "netcat -l: accept a connection on PORT over synack (TUN/TAP)"},
    {"sim", synack_cmd_sim, "deterministic simulation: K stacks, faulty links, random workload, invariants"},
#ifdef SYNACK_HAVE_TRACE
    {"trace", synack_cmd_trace, "explain every TCP connection in a capture"},
#endif
};

static int usage(FILE *f)
{
    fprintf(f, "usage: synack VERB [ARGS...]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[1], verbs[i].name))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "synack: unknown verb '%s' (try 'synack --help')\n", argv[1]);
    return 2;
}
