#ifndef CONFORM_SYMBOLS_H
#define CONFORM_SYMBOLS_H

#include <stdbool.h>

/* The value of a constant the scripts name (SOCK_STREAM, EPOLLIN, ...). */
bool symbol_value(const char *name, long long *val);
/* errno for EINPROGRESS and friends; -1 if unknown. */
int errno_value(const char *name);
/* The symbolic name of an errno value ("E?" if unknown, "0" for 0). */
const char *errno_name(int e);

#endif
