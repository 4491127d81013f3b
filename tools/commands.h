/* The verbs of the `synack` command. Each returns the process exit code. */
#ifndef SYNACK_TOOLS_COMMANDS_H
#define SYNACK_TOOLS_COMMANDS_H

int synack_cmd_demo(int argc, char **argv);
int synack_cmd_trace(int argc, char **argv);

#endif
