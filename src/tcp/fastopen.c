/* TCP Fast Open (RFC 7413), the server's half: the cookie (§4.1.2) and the
 * decision a listener makes on a SYN (§4.2.2), as Linux's tcp_try_fastopen.
 *
 * The cookie is Linux's: SipHash-2-4 (libsodium's crypto_shorthash_siphash24)
 * keyed with the stack's 16-byte Fast Open key, over the SYN's source then
 * destination address (4 bytes each for IPv4, 16 for IPv6), 8 bytes long.
 * RFC 7413 §4.1.2 asks for a MAC over the client's address that only the
 * server can make and check cheaply; a keyed PRF is that, and matching Linux
 * byte for byte lets a client that learnt a cookie from one stack use it
 * on the other one keyed the same (and lets Linux's tests check ours). */
#include <sodium.h>
#include <string.h>

#include "internal.h"

void tcp_fo_cookie(const struct tcp_ctx *ctx, const struct tcb *child, uint8_t out[TCP_FO_COOKIE_LEN])
{
    const struct tcp_tuple *t = TCP_TUPLE(child);
    const uint8_t *key = ctx->fo_listener_key ? ctx->fo_listener_key(ctx->cb, child) : NULL;
    uint8_t msg[32];
    size_t alen = t->family == 4 ? 4 : 16;
    memcpy(msg, t->raddr, alen); /* the SYN's source: the client */
    memcpy(msg + alen, t->laddr, alen);
    crypto_shorthash_siphash24(out, msg, 2 * alen, key ? key : ctx->fo_key);
}

/* RFC 7413 §4.2.2 / Linux tcp_try_fastopen. The stack set TCB_FO_LISTEN on
 * the child when its listener takes Fast Open (the server bit, a queue
 * length from TCP_FASTOPEN or the 0x400 bit, and room in that queue). */
bool tcp_fo_server_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *seg)
{
    const struct wire_tcp_opts *o = &seg->opt;
    bool syn_data = seg->payload_len > 0;
    if (!(child->flags & TCB_FO_LISTEN) || !(ctx->p.fastopen & TCP_FO_SERVER))
        return false;
    if (!syn_data && !o->fo_kind)
        return false;
    /* Linux TFO_SERVER_COOKIE_NOT_REQD: data in any SYN is taken */
    if (syn_data && (ctx->p.fastopen & TCP_FO_SERVER_NO_COOKIE))
        return true;
    if (!o->fo_kind)
        return false; /* data without the option: ACK only the SYN (§4.2.2) */
    if (o->fo_kind == WIRE_TCPOPT_EXP)
        child->flags |= TCB_FO_EXP;
    if (o->fo_len == TCP_FO_COOKIE_LEN) {
        uint8_t want[TCP_FO_COOKIE_LEN];
        tcp_fo_cookie(ctx, child, want);
        if (sodium_memcmp(want, o->fo_cookie, sizeof want) == 0) {
            ctx->st->tcp_fo_passive++;
            return true; /* the SYN-ACK carries no cookie then (Linux) */
        }
        ctx->st->tcp_fo_passive_fail++;
    } else if (o->fo_len) {
        ctx->st->tcp_fo_passive_fail++;
    } else {
        ctx->st->tcp_fo_cookie_req++;
    }
    /* a request or a bad cookie: the SYN-ACK brings a good one, and only
     * the SYN is acknowledged */
    child->flags |= TCB_FO_COOKIE;
    return false;
}
