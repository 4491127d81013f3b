/* fuzz/regress/wire/ replayed through fuzz/fuzz_wire.c (see regress.h). */
#include "../../fuzz/fuzz_wire.c"

#define REGRESS_TARGET "wire"
#include "regress.h"
