#include <stdio.h>
#include "commands.h"
int synack_cmd_demo(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "synack demo: the core is being written in this session\n");
    return 1;
}
