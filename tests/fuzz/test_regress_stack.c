/* fuzz/regress/stack/ replayed through fuzz/fuzz_stack.c (see regress.h). */
#include "../../fuzz/fuzz_stack.c"

#define REGRESS_TARGET "stack"
#include "regress.h"
