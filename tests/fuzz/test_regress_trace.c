/* fuzz/regress/trace/ replayed through fuzz/fuzz_trace.c (see regress.h). */
#include "../../fuzz/fuzz_trace.c"

#define REGRESS_TARGET "trace"
#include "regress.h"
