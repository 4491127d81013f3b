/* RFC 7413 client: the cookie cache (§4.1.3: a client keeps each server's
 * cookie, with the server's MSS, Linux's tcp_metrics) and the Fast Open
 * connect. One direct-mapped table per stack, made on first use: a cookie
 * is an optimisation, so a collision just costs the next connection to that
 * server a cookie request. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "tcp/ring.h"

#define FO_SLOTS 64
/* Linux MAX_TCP_OPTION_SPACE: the SYN's data leaves room for options a
 * middlebox may add (tcp_send_syn_data) */
#define FO_OPTION_SPACE 40

struct fo_entry {
    uint8_t family;
    uint8_t addr[16];
    uint16_t mss; /* the server's MSS, 0: unknown */
    uint8_t len;  /* cookie bytes; 0: none yet */
    bool exp;     /* ask and send in the experimental option (254, 0xF989) */
    bool exp_failed; /* a request in that option drew no cookie either */
    uint8_t cookie[WIRE_TCP_FO_COOKIE_MAX];
};

static struct fo_entry *fo_slot(synack_stack *s, const synack_addr *a, bool make)
{
    if (!s->fo_cache) {
        if (!make)
            return NULL;
        s->fo_cache = calloc(FO_SLOTS, sizeof *s->fo_cache);
        if (!s->fo_cache)
            return NULL;
    }
    uint8_t h[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(h, a->bytes, sizeof a->bytes, s->hash_key);
    struct fo_entry *e = &s->fo_cache[h[0] % FO_SLOTS];
    if (e->family == a->family && !memcmp(e->addr, a->bytes, 16))
        return e;
    if (!make)
        return NULL;
    memset(e, 0, sizeof *e);
    e->family = a->family;
    memcpy(e->addr, a->bytes, 16);
    return e;
}

const uint8_t *stack_fo_listener_key(void *cb, const struct tcb *child)
{
    (void)cb;
    const struct sock *k = (const struct sock *)child; /* the tcb is a sock's first member */
    const struct sock *l = k->parent;
    return l && l->lq && l->lq->fo_key_set ? l->lq->fo_key : NULL;
}

void stack_fo_free(synack_stack *s)
{
    free(s->fo_cache);
    s->fo_cache = NULL;
}

void synack_fastopen_cache_flush(synack_stack *s)
{
    stack_fo_free(s); /* made again on first use */
}

void synack_set_fastopen(synack_stack *s, uint32_t bits)
{
    s->cfg.fastopen = bits;
    s->tcp.p.fastopen = bits;
}

/* What a SYN-ACK to our Fast Open SYN teaches (Linux tcp_rcv_fastopen_synack
 * and tcp_fastopen_cache_set): the server's MSS, its new cookie; a request
 * that drew none is made in the other option kind next time. */
void stack_fo_learn(synack_stack *s, struct sock *k, const struct wire_tcp *seg, bool syn_resent, bool asked)
{
    synack_addr a = {.family = k->tcb.family};
    memcpy(a.bytes, TCP_TUPLE(&k->tcb)->raddr, 16);
    struct fo_entry *e = fo_slot(s, &a, true);
    if (!e)
        return;
    if (seg->opt.has_mss && seg->opt.mss)
        e->mss = seg->opt.mss;
    /* A cookie our SYN did not ask for (it carried no Fast Open option:
     * TFO_CLIENT_NO_COOKIE) is not kept (Linux tcp_rcv_fastopen_synack:
     * "Ignore an unsolicited cookie", syn_fastopen 0) */
    if (!asked)
        return;
    if (seg->opt.fo_len) {
        e->len = seg->opt.fo_len;
        memcpy(e->cookie, seg->opt.fo_cookie, e->len);
        e->exp = seg->opt.fo_kind == WIRE_TCPOPT_EXP;
    } else if (!syn_resent && k->tcb.snd_max == k->tcb.iss + 1 && !seg->opt.fo_kind) {
        /* a request (no data) answered without a cookie by the SYN it was
         * in: perhaps the server knows only the experimental kind. Linux
         * (tcp_rcv_fastopen_synack's try_exp) tries that once, then goes
         * back to RFC 7413's option for good. */
        if (e->exp)
            e->exp = false, e->exp_failed = true;
        else if (!e->exp_failed)
            e->exp = true;
    }
}

bool stack_fo_ready(synack_stack *s, struct sock *k)
{
    if (s->tcp.p.fastopen & TCP_FO_CLIENT_NO_COOKIE)
        return true;
    synack_addr a = {.family = k->tcb.family};
    memcpy(a.bytes, TCP_TUPLE(&k->tcb)->raddr, 16);
    const struct fo_entry *e = fo_slot(s, &a, false);
    return e && e->len;
}

/* The SYN's option and data for a Fast Open connect to k's peer: the
 * cached cookie and as much of buf as fits (written to the send ring), or a
 * cookie request without data (RFC 7413 §4.1.3). */
void stack_fo_syn(synack_stack *s, struct sock *k, const void *buf, size_t len, struct tcp_fo_syn *fo)
{
    synack_addr a = {.family = k->tcb.family};
    memcpy(a.bytes, TCP_TUPLE(&k->tcb)->raddr, 16);
    const struct fo_entry *e = fo_slot(s, &a, false);
    memset(fo, 0, sizeof *fo);
    fo->kind = e && e->exp ? WIRE_TCPOPT_EXP : WIRE_TCPOPT_FASTOPEN;
    if (s->tcp.p.fastopen & TCP_FO_CLIENT_NO_COOKIE) {
        fo->kind = 0; /* Linux: data without any option */
    } else if (e && e->len) {
        fo->len = e->len;
        memcpy(fo->cookie, e->cookie, e->len);
    }
    if ((fo->len || !fo->kind) && len) {
        uint32_t mss = k->tcb.mss_local;
        if (e && e->mss && e->mss < mss)
            mss = e->mss;
        uint32_t space = mss > FO_OPTION_SPACE ? mss - FO_OPTION_SPACE : 0;
        uint32_t n = len < space ? (uint32_t)len : space;
        if (n && stack_attach(s, k, n, 0) == 0 && k->tcb.x->sbuf)
            fo->data = ring_write(&k->tcb.snd, k->tcb.x->sbuf, buf, n);
    }
}
