#include "wire.h"

const char *wire_strerror(int result)
{
    switch (result) {
    case WIRE_OK: return "ok";
    case WIRE_ETRUNC: return "truncated";
    case WIRE_EVERSION: return "wrong IP version";
    case WIRE_EHDRLEN: return "bad header length";
    case WIRE_ETOTLEN: return "bad total length";
    case WIRE_ECSUM: return "bad checksum";
    case WIRE_EOPTLEN: return "bad option length";
    case WIRE_ESPACE: return "no room to emit";
    case WIRE_EUNSUPP: return "unsupported";
    }
    return "unknown wire error";
}
