/* The verbs of the `synack` command. Each returns the process exit code. */
#ifndef SYNACK_TOOLS_COMMANDS_H
#define SYNACK_TOOLS_COMMANDS_H

int synack_cmd_demo(int argc, char **argv);
int synack_cmd_trace(int argc, char **argv);
/* connect and listen: argv[0] says which */
int synack_cmd_nc(int argc, char **argv);
int synack_cmd_sim(int argc, char **argv);

#endif
