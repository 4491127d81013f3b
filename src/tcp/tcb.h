/* The TCP connection machine of RFC 9293: one transmission control block
 * (TCB) per connection, and the functions that move it.
 *
 * Sans-I/O: the core never reads a clock (ctx->now is set by the caller),
 * never does I/O (segments leave through ctx->output), and never allocates
 * (buffers belong to the caller). */
#ifndef SYNACK_TCP_TCB_H
#define SYNACK_TCP_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ranges.h"
#include "ring.h"
#include "stats.h"
#include "wire/tcp.h"

#define TCP_TIME_NEVER UINT64_MAX

enum tcp_state {
    TCP_CLOSED,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RECEIVED,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
};
const char *tcp_state_name(enum tcp_state s);

/* Address family-neutral 4-tuple; IPv4 uses the first four bytes. The
 * addresses start 8-aligned and the struct is 40 bytes, so clearing one
 * (every segment in and out) is five word stores, not the byte-wise
 * `rep stosb` gcc chose for the packed 38 bytes (bench/connrate). */
struct tcp_tuple {
    uint8_t family; /* 4 or 6 */
    uint16_t lport, rport;
    _Alignas(8) uint8_t laddr[16];
    uint8_t raddr[16];
};

/* Defaults chosen as Linux does (see ARCHITECTURE.md). */
struct tcp_params {
    uint64_t msl2;             /* TIME_WAIT length (2*MSL) */
    uint64_t fin_wait2;        /* orphaned FIN_WAIT_2 timeout */
    uint64_t rto_initial;      /* RFC 6298 §2.1, Linux: 1 s */
    uint64_t rto_min;          /* Linux: 200 ms */
    uint64_t rto_max;          /* Linux: 120 s */
    uint64_t delack;           /* RFC 1122 §4.2.3.2 allows 500 ms; Linux uses 40 ms */
    uint32_t challenge_limit;  /* RFC 5961 §7: challenge ACKs per second */
    uint8_t syn_retries;       /* Linux tcp_syn_retries: 6 */
    uint8_t synack_retries;    /* Linux tcp_synack_retries: 5 */
    uint8_t data_retries;      /* Linux tcp_retries2: 15 */
    bool use_ts, use_sack, use_wscale;
    bool use_tlp; /* RFC 8985 tail loss probe (Linux tcp_early_retrans 3) */
    bool use_rack; /* RFC 8985 §6 RACK loss detection (Linux tcp_recovery bit 0) */
    uint32_t fastopen; /* RFC 7413, Linux's tcp_fastopen bits (TCP_FO_*); 0: off */
    uint8_t ecn; /* RFC 3168, Linux's tcp_ecn: TCP_ECN_MODE_* */
    uint8_t min_tso_segs; /* Linux tcp_min_tso_segs: 2 (output.c gso_segs) */
};
/* Linux net.ipv4.tcp_ecn */
#define TCP_ECN_MODE_OFF 0     /* never ask, never agree */
#define TCP_ECN_MODE_ON 1      /* ask on connect(), agree when asked */
#define TCP_ECN_MODE_PASSIVE 2 /* agree when asked only (Linux's default) */

/* Per-connection options the user sets (socket options), in Linux's
 * units (seconds, milliseconds) so they stay small in every TCB. */
struct tcp_opts {
    uint32_t user_timeout_ms; /* RFC 5482; 0 = the retry count decides */
    uint16_t keepidle_s, keepintvl_s; /* Linux: 1..32767 s */
    uint16_t maxseg; /* TCP_MAXSEG cap, 0 = none */
    uint8_t keepcnt;
    uint8_t syncnt; /* TCP_SYNCNT, 0 = the stack's syn_retries */
    uint8_t cc;     /* congestion control: TCP_CC_* */
    bool nodelay : 1;   /* TCP_NODELAY: Nagle (RFC 896) off */
    bool cork : 1;      /* TCP_CORK */
    bool keepalive : 1; /* SO_KEEPALIVE */
    bool quickack : 1;  /* TCP_QUICKACK as last set (the switch itself is tcp_set_quickack) */
    bool rcvbuf_locked : 1; /* SO_RCVBUF was set: the window scale fits that buffer (Linux) */
    bool fastopen_connect : 1; /* TCP_FASTOPEN_CONNECT: connect() with a cookie defers the SYN */
    bool oobinline : 1; /* SO_OOBINLINE: the urgent byte stays in the stream (urg.c) */
    uint16_t fastopen_qlen; /* TCP_FASTOPEN on a listener (RFC 7413 §5.1: bound the children) */
};
static inline uint64_t tcp_keepidle(const struct tcp_opts *o) { return o->keepidle_s * 1000000ull; }
static inline uint64_t tcp_keepintvl(const struct tcp_opts *o) { return o->keepintvl_s * 1000000ull; }
static inline uint64_t tcp_user_timeout(const struct tcp_opts *o) { return o->user_timeout_ms * 1000ull; }
#define TCP_CC_CUBIC 0
#define TCP_CC_NEWRENO 1
void tcp_opts_default(struct tcp_opts *o);
struct tcb;
/* TCP_QUICKACK, as Linux: on = leave pingpong mode (ACK now what is owed),
 * off = enter it (ACKs wait the delayed-ACK time). */
void tcp_set_quickack(struct tcb *tcb, bool on);

struct tcb;

/* Per-stack state the core works in. The stack fills it and sets now before
 * every call into the core. */
struct tcp_ctx {
    uint64_t now; /* microseconds */
    struct tcp_params p;
    struct core_stats *st;
    uint8_t isn_key[16]; /* RFC 6528 secret, from the stack's seed */
    uint8_t fo_key[16];  /* RFC 7413 §4.1.2 cookie secret (Linux tcp_fastopen_key) */
    /* The key of the listener a child came from, when it has its own
     * (TCP_FASTOPEN_KEY); NULL: fo_key. Optional. */
    const uint8_t *(*fo_listener_key)(void *cb, const struct tcb *child);
    /* RFC 5961 §7 rate limit of challenge ACKs, stack-wide as in Linux */
    uint64_t challenge_window;
    uint32_t challenge_count;
    void *cb; /* first argument of the callbacks */
    /* Sends one segment. hdr->opts_raw holds the options; the payload is in
     * up to two pieces (a ring wraps). tcb is the connection it belongs to
     * (its IP-level options: the stack's), NULL for a RST to no one.
     * Returns 0 when the segment left (or was lost past the host, as on
     * the wire), TCP_XMIT_REFUSED when the link refused it locally (Linux's
     * NET_XMIT_DROP from a full or zero-length qdisc): the core then counts
     * it as never sent (timer.c, "local congestion"). */
    int (*output)(void *cb, const struct tcb *tcb, const struct tcp_tuple *t, const struct wire_tcp *hdr,
                   const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2);
    /* Every state change, with a short reason. */
    void (*state_change)(void *cb, struct tcb *tcb, enum tcp_state from, enum tcp_state to,
                         const char *why);
    /* Receive storage of another size than the buffer's (input.c: a segment
     * that ends beyond the window is taken whole into an empty queue, as
     * Linux since 6.17): size bytes, or NULL when the stack has none to give,
     * and the core then trims the segment to the window (RFC 9293
     * §3.10.7.4). rbuf_free takes storage back, with the size it was given
     * at. Optional (NULL: never more than the buffer). */
    uint8_t *(*rbuf_alloc)(void *cb, uint32_t size);
    void (*rbuf_free)(void *cb, uint8_t *buf, uint32_t size);
};

/* ctx->output's answer for a segment the link refused (local congestion). */
#define TCP_XMIT_REFUSED 1

/* Flags of a TCB. */
#define TCB_PASSIVE 0x0001u   /* opened from a listener */
#define TCB_FIN_QUEUED 0x0002u /* the user shut the write side: send FIN after the data */
#define TCB_FIN_SENT 0x0004u
#define TCB_FIN_ACKED 0x0008u
#define TCB_FIN_RCVD 0x0010u   /* the peer's FIN is in (RCV.NXT counts it) */
#define TCB_RD_SHUT 0x0020u    /* the user shut the read side: received data is discarded */
#define TCB_ORPHAN 0x0040u     /* closed by the user; the stack still owns it */
#define TCB_ACK_PENDING 0x0080u /* an ACK is owed; it goes out at the next flush */
#define TCB_TS_OK 0x0100u      /* RFC 7323 timestamps negotiated */
#define TCB_SACK_OK 0x0200u
#define TCB_WSCALE_OK 0x0400u
#define TCB_RTT_TIMING 0x0800u /* a segment is being timed (Karn: never a retransmission) */
#define TCB_PERSIST 0x1000u    /* the retransmission timer runs as the persist timer */
#define TCB_NEW 0x2000u        /* never reached ESTABLISHED */
#define TCB_ACK_NOW 0x4000u    /* the owed ACK must not be delayed */
#define TCB_FIN_OOO 0x8000u    /* the peer's FIN arrived out of order, at fin_seq */
#define TCB_DSACK 0x10000u     /* the next ACK reports dsack_start..end (RFC 2883) */
#define TCB_PUSH_ONCE 0x40000u /* the next output pass ignores Nagle and cork (Linux TCP_NAGLE_PUSH) */
#define TCB_DATA_RCVD 0x20000u /* some data has arrived (Linux quick-ACK mode starts then) */
#define TCB_TLP_TIMER 0x100000u  /* t_rtx holds the tail loss probe timer (RFC 8985 §7.2) */
#define TCB_TLP_OUT 0x200000u    /* a probe is out, up to tlp_high_seq (§7.4) */
#define TCB_TLP_RETRANS 0x400000u /* that probe was a retransmission */
#define TCB_RACK_TIMER 0x800000u  /* t_rtx holds RACK's reordering timer (RFC 8985 §6.2 step 5) */
/* RFC 7413 Fast Open */
#define TCB_FO_LISTEN 0x1000000u /* born of a listener that takes Fast Open */
#define TCB_FO_COOKIE 0x2000000u /* our SYN-ACK carries a cookie */
#define TCB_FO_EXP 0x4000000u    /* ... in the experimental option (254, 0xF989) */
#define TCB_FASTOPEN 0x8000000u  /* a Fast Open child: accepted, may send, before the third ACK */
#define TCB_SYN_DATA 0x10000000u /* data in our SYN (or the peer's) was acknowledged (TCPI_OPT_SYN_DATA) */
#define TCB_FO_SYN 0x20000000u   /* our SYN carried a Fast Open option (a cookie or a request) */
#define TCB_FO_DEFER 0x40000000u /* TCP_FASTOPEN_CONNECT: the SYN waits for the first send */
#define TCB_FO_WAIT 0x80000000u  /* a Fast Open writer waits for the handshake with more to send */
#define TCB_MORE 0x80000u      /* the send ring ends in data written with MSG_MORE: no PSH there (Linux tcp_push) */

/* Congestion states, named as in Linux (tcp_ca_state). */
enum tcp_ca_state {
    TCP_CA_OPEN,     /* no loss suspected */
    TCP_CA_DISORDER, /* duplicate ACKs or SACKs, below the threshold (RFC 3042) */
    TCP_CA_CWR,      /* RFC 3168 §6.1.2: cwnd reduced for an ECN-Echo, once per window */
    TCP_CA_RECOVERY, /* fast recovery: RFC 6675 with SACK, RFC 6582 without */
    TCP_CA_LOSS,     /* after a retransmission timeout (RFC 5681 §3.1) */
};

/* State of the congestion controller (cc.h) */
struct tcp_cc_state {
    uint32_t cnt; /* NewReno: bytes acknowledged toward the next increase */
    /* CUBIC (RFC 9438), windows in segments */
    double w_max, w_last_max, k, w_est, cwnd_seg;
    uint64_t epoch; /* start of the current congestion-avoidance epoch; 0 = none */
};

/* RFC 8985 §6 RACK: when each byte in flight was last sent. Kept as a
 * fixed ring of transmit "runs" in sequence order, not one record per
 * segment: one tcp_output pass sends at one `now`, so a burst is one run
 * and the ring is exact while the flight holds at most TCP_RACK_RUNS of
 * them (every ACK-clocked flight up to ~30 ACKs). Beyond that the two
 * neighbours whose union spans the least time are merged; a merged run
 * remembers its earliest and latest send (t_last - span .. t_last), and
 * rack.c reads it conservatively: a byte is judged by its run's latest
 * send (it looks younger, so is marked lost later, never early), and a
 * run delivered only in part counts as sent at its earliest (RACK.xmit_ts
 * advances less, RACK.rtt is larger). So the approximation can only delay
 * a RACK loss mark by the merged span, never make a spurious one, and RFC
 * 6675 IsLost still works beside it. Fixed storage keeps the core free of
 * allocation and needs no pool of its own (docs/architecture.md). */
#define TCP_RACK_RUNS 32
/* Record ends (MSG_EOR) a connection keeps in flight; past that the oldest
 * mark is forgotten (its data may then share a segment with the next). */
#define TCP_EOR_MAX 32
struct tcp_rack_run {
    uint32_t start, end; /* [start, end) in sequence space, a FIN included */
    uint64_t t_last;     /* the latest send of any byte of the run */
    uint32_t span;       /* t_last minus the earliest send, µs: 0 = sent at once (exact) */
    bool rtx;            /* some byte of it is a retransmission */
};
struct tcp_rack {
    uint64_t xmit_ts;    /* RACK.xmit_ts (valid: set) */
    uint64_t reo_at;     /* the reordering timer detect-loss asked for; 0 = none */
    uint32_t end_seq;    /* RACK.end_seq */
    uint32_t rtt;        /* RACK.rtt, µs */
    uint32_t fack;       /* RACK.fack: highest end of delivered data */
    uint32_t dsack_round; /* §6.2 step 4: SND.NXT when reo_wnd_mult last grew */
    bool dsack_round_on;
    bool valid;          /* RACK.xmit_ts and .rtt hold a delivery (time 0 is a time) */
    uint8_t n;           /* runs in use */
    struct tcp_rack_run run[TCP_RACK_RUNS];
};

/* What a connection needs only while it is busy: data queued, in flight,
 * held out of order, or a loss being repaired. The stack attaches it
 * before every call into the core (tcp_ext_init) and takes it back when
 * tcp_ext_idle() says it holds nothing an idle TCB needs; so an idle
 * connection is its TCB alone (docs/architecture.md, "Memory"). */
struct tcp_ext {
    /* Storage of the send and receive rings (tcb->snd, tcb->rcv), each
     * ring.cap bytes; NULL until the stack attaches it (tcp_ext_wants). */
    uint8_t *sbuf, *rbuf;
    /* Non-zero while rbuf is not of the receive buffer's size (grown by
     * input.c's rcv_grow to hold a segment beyond the window): the buffer's
     * size (SO_RCVBUF, what windows are computed from), rcv.cap being the
     * storage's (tcp_rcv_bufsize). Cleared when the storage goes
     * (tcp_rbuf_detach). */
    uint32_t rcv_bufsize;
    /* Receiving: the out-of-order queue (its ranges are below, ooo) */
    uint32_t ooo_stamp;
    uint32_t fin_seq; /* TCB_FIN_OOO */
    uint32_t dsack_start, dsack_end;
    /* Sending: loss recovery (RFC 6675; the scoreboard is below, sacked) */
    uint32_t high_rxt; /* RFC 6675 HighRxt: retransmitted up to here */
    /* RFC 8985 §6.2 step 5: retransmissions below HighRxt that RACK found
     * lost again; [relost_next, relost_end) waits to be resent (first). */
    uint32_t relost_next, relost_end;
    uint32_t lost_end; /* un-SACKed data below this is deemed lost (RFC 6675 IsLost) */
    uint32_t reno_sacked; /* without SACK: bytes the duplicate ACKs stand for */
    uint8_t dupacks;
    uint32_t tlp_high_seq; /* SND.NXT when the tail loss probe went (TCB_TLP_OUT) */
    /* RFC 6937 proportional rate reduction, bytes: delivered and sent since
     * recovery began, and cwnd when it began (Linux prior_cwnd); set when a
     * recovery begins */
    uint32_t prr_delivered, prr_out, prior_cwnd;
    /* RFC 6298 timing (TCB_RTT_TIMING) and the retransmission episode */
    uint32_t rtt_seq;
    uint64_t rtt_start;
    uint64_t rtx_stamp; /* when the oldest unacknowledged data was first sent; 0 = none */
    struct tcp_cc_state cc; /* the congestion-avoidance epoch */
    /* MSG_EOR (Linux TCPCB_EOR): how many record ends wait for their ACK
     * (eor, below: read only under this count, so left uncleared) */
    uint8_t eor_n;
    /* Urgent data (RFC 9293 §3.8.5, urg.c), rare, so kept here: an
     * extension holding any is not idle. Sending: SND.UP, one past the
     * urgent byte (the Linux/BSD reading of RFC 6093), in force while
     * snd_urg and SND.UNA is below it. Receiving: the urgent byte's
     * sequence number and Linux's urg_data (TCP_URG_* | the byte). */
    uint32_t snd_up;
    uint32_t urg_seq;
    uint16_t urg_data;
    bool snd_urg;
    /* Local congestion (timer.c): probes the persist timer sent since the
     * last ACK (Linux icsk_probes_out, TCP_INFO tcpi_probes), and whether
     * the link refused the last data segment the core tried (reset by who
     * asks). */
    uint8_t probes;
    bool tx_refused;
    /* The out-of-order queue (data sits in the receive ring at its offset;
     * ooo says which parts are present, and what SACK reports) and the SACK
     * scoreboard (what the peer SACKed). Read only below their counts, so
     * tcp_ext_init clears the counts alone (they sit here, with RACK's runs
     * after them, out of the cleared part). */
    struct tcp_ranges ooo, sacked;
    /* the record ends, in order; no segment, first sent or resent, spans
     * one (output.c) */
    uint32_t eor[TCP_EOR_MAX];
    struct tcp_rack rack; /* RFC 8985 §6 (rack.c) */
};

/* The addresses of an IPv6 connection, kept beside its TCB. */
struct tcp_addr6 {
    uint8_t laddr[16], raddr[16];
};

/* The TCB proper: what an idle connection keeps, at most 256 bytes
 * (static assertion in state.c). Times stay 64-bit microseconds where a
 * timer or an idle interval hangs on them (exact deadlines); the tuple
 * holds IPv4 addresses (family 6 is for a later address table). */
struct tcb {
    /* Timers: absolute times, TCP_TIME_NEVER when off */
    uint64_t t_rtx;  /* retransmission or persist */
    uint64_t t_wait; /* TIME_WAIT, or the orphaned FIN_WAIT_2 timeout */
    uint64_t t_delack; /* delayed ACK */
    uint64_t t_keep;   /* keepalive (RFC 1122 §4.2.3.6) */
    uint64_t last_send, last_rcv; /* idle restart (RFC 5681 §4.1) and keepalive */
    uint64_t lrcvtime; /* when data last arrived */
    struct tcp_ext *x; /* attached by the stack around every call into the core */
    struct tcp_addr6 *a6; /* IPv6 addresses in storage the stack gives (family 6), else NULL */

    uint32_t flags;
    /* Send sequence space (RFC 9293 §3.3.1) */
    uint32_t iss;
    uint32_t snd_una, snd_nxt, snd_max; /* snd_max: highest sequence sent */
    uint32_t snd_wnd, max_snd_wnd;
    uint32_t snd_wl1, snd_wl2;
    uint32_t snd_data; /* sequence number of the first byte in the send ring */
    /* Receive sequence space */
    uint32_t irs;
    uint32_t rcv_nxt;
    uint32_t rcv_adv; /* right edge of the last window advertised: never shrink it */
    uint32_t rcv_acked; /* RCV.NXT carried by the last ACK sent */

    /* RFC 7323 timestamps */
    uint32_t ts_recent;
    uint32_t ts_offset;
    uint32_t ts_recent_age; /* RFC 7323 §5.5: ms clock when TS.Recent was set */

    /* RFC 6298 */
    uint32_t srtt, rttvar; /* microseconds; srtt 0 = no sample yet */
    uint32_t rto;          /* microseconds (at most rto_max, 120 s) */

    /* Sending: congestion control (RFC 5681) and loss recovery */
    uint32_t cwnd, ssthresh;
    uint32_t recover;  /* RFC 6582 "recover", RFC 6675 RecoveryPoint */
    uint32_t snd_sml;  /* end of the last small segment sent (Nagle, Minshall's variant) */
    float w_max, w_last_max; /* CUBIC's memory while the extension is away (tcp_ext_release) */

    int32_t err; /* pending error for the user: negative errno, 0 if none */

    struct ring snd, rcv; /* storage in x->sbuf, x->rbuf */

    struct tcp_opts o;
    uint8_t laddr[4], raddr[4]; /* the tuple (tcp_tuple_of): IPv4 here, IPv6 in a6 */
    uint16_t lport, rport;

    uint16_t mss_peer;   /* the peer's MSS option (536 without one: RFC 9293 §3.7.1) */
    uint16_t mss_local;  /* what we advertise: interface MTU - 40 */
    uint16_t rcv_mss; /* largest segment the peer sent: ACK every second one */
    uint8_t family;   /* 4 or 6 */
    uint8_t state;    /* enum tcp_state */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t backoff; /* consecutive timeouts */
    uint8_t ca_state;
    uint8_t keep_probes; /* unanswered keepalive probes */
    /* Linux's ACK modes: quick = ACKs still to send at once (quick-ACK
     * mode), pingpong = interactive, where ACKs wait to ride on replies */
    uint8_t quick;
    bool pingpong;
    /* RFC 8985 §6 state that outlives a busy period: RACK.min_RTT (µs, 0 =
     * no sample; the minimum over the connection, where Linux keeps a
     * 5-minute windowed minimum), the reordering window's multiplier and
     * persistence (§6.2 step 4), and whether reordering was ever seen. */
    uint32_t min_rtt;
    uint8_t rack_reo_mult, rack_reo_persist;
    bool rack_reord;
    uint8_t ecn; /* RFC 3168 state: TCP_ECN_* (ecn.c) */
};

/* The receive buffer's size (SO_RCVBUF), which windows are computed from:
 * the ring's capacity, unless its storage grew to hold a segment taken
 * beyond the window (input.c); and the room left in that buffer (0 when the
 * ring holds as much or more). */
static inline uint32_t tcp_rcv_bufsize(const struct tcb *tcb)
{
    return tcb->x && tcb->x->rcv_bufsize ? tcb->x->rcv_bufsize : tcb->rcv.cap;
}

static inline uint32_t tcp_rcv_room(const struct tcb *tcb)
{
    uint32_t size = tcp_rcv_bufsize(tcb);
    return size > tcb->rcv.len ? size - tcb->rcv.len : 0;
}

/* tcb->ecn, as Linux's ecn_flags */
#define TCP_ECN_OK 0x1u         /* §6.1.1: agreed (before the SYN-ACK: asked for) */
#define TCP_ECN_QUEUE_CWR 0x2u  /* §6.1.2: the next new data segment carries CWR */
#define TCP_ECN_DEMAND_CWR 0x4u /* §6.1.3: CE arrived: ECE on every segment until a CWR */
#define TCP_ECN_SEEN 0x8u       /* an ECT or CE data segment arrived (Linux TCP_ECN_SEEN) */

/* The 4-tuple of a TCB, written to t (returned), and setting it (for
 * family 6 into tcb->a6, which the caller has pointed at storage). */
const struct tcp_tuple *tcp_tuple_of(const struct tcb *tcb, struct tcp_tuple *t);
#define TCP_TUPLE(tcb) tcp_tuple_of((tcb), &(struct tcp_tuple){0})
void tcp_tuple_set(struct tcb *tcb, const struct tcp_tuple *t);

/* The extension: a fresh one for tcb (zeroed, then what an idle TCB
 * implies: recovery marks at SND.UNA, CUBIC's memory). */
void tcp_ext_init(struct tcb *tcb, struct tcp_ext *x);
/* Whether tcb needs ring storage it lacks: *snd / *rcv set when so. The
 * receive ring needs it for payload (rcv_payload) or out-of-order data. */
void tcp_ext_wants(const struct tcb *tcb, size_t snd_payload, size_t rcv_payload, bool *snd, bool *rcv);
/* Whether a ring's storage can go: empty, and (receive) nothing held out of order. */
bool tcp_sbuf_idle(const struct tcb *tcb);
bool tcp_rbuf_idle(const struct tcb *tcb);
/* The receive storage leaves the TCB (the stack takes it back): returns it
 * and its size in *size; the ring is then of the buffer's size again. */
uint8_t *tcp_rbuf_detach(struct tcb *tcb, uint32_t *size);
/* Whether the extension holds nothing but what tcp_ext_init would put
 * back (its rings' storage already gone); tcp_ext_release then keeps
 * CUBIC's memory in the TCB before the stack takes it back. */
bool tcp_ext_idle(const struct tcb *tcb);
void tcp_ext_release(struct tcb *tcb);

/* TIME_WAIT as a compact record (Linux's tcp_timewait_sock): the fields
 * of a TCB that can matter once in TIME_WAIT. The stack keeps this instead
 * of the TCB of an orphaned connection, and loads it into a TCB on the C
 * stack when a segment or the 2MSL timer comes, so the answers are the
 * core's own (RFC 9293 §3.10.7.4, RFC 7323 PAWS, RFC 6191 reopening). */
struct tcp_tw {
    uint32_t flags;
    uint32_t snd_una, snd_nxt, snd_max, snd_data;
    uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_adv, rcv_acked, rcv_cap;
    uint32_t ts_recent, ts_offset, ts_recent_age;
    uint8_t laddr[4], raddr[4];
    struct tcp_addr6 *a6; /* family 6: the record owns it */
    uint16_t lport, rport;
    /* Finding a record and connect()'s reuse test read the fields up to
     * family (the tuple, flags, ts_offset, ts_recent_age): in the stack's
     * record (struct tw_rec), its first 128 bytes (timewait.c asserts it) */
    uint8_t family;
    uint8_t snd_wscale, rcv_wscale;
    uint16_t mss_peer, mss_local, rcv_mss;
};
void tcp_tw_save(const struct tcb *tcb, struct tcp_tw *w);
/* A TCB in TIME_WAIT from w, its 2MSL timer at t_wait, with the fresh
 * extension x (it holds nothing, but the core reads it). */
void tcp_tw_load(const struct tcp_tw *w, uint64_t t_wait, struct tcb *tcb, struct tcp_ext *x);
/* May an outgoing connection take w's 4-tuple now (Linux tcp_tw_reuse)? */
bool tcp_tw_reusable(const struct tcp_ctx *ctx, const struct tcp_tw *w);

/* Verdicts of tcp_input */
enum tcp_verdict {
    TCP_KEEP,      /* the TCB lives on */
    TCP_FREE,      /* the TCB reached CLOSED: the stack releases it */
    TCP_TW_REOPEN, /* a new SYN hit TIME_WAIT: release it and hand the SYN to a listener */
};

/* Verdicts of tcp_listen_input */
enum tcp_listen_verdict {
    TCP_LISTEN_DROP,  /* counted, nothing to do */
    TCP_LISTEN_SYN,   /* a valid SYN: make a child and call tcp_accept_syn */
};

/* Sets up a TCB in CLOSED with the given tuple, MSS and buffer sizes (the
 * storage comes with the extension). Keeps tcb->x and tcb->a6. */
void tcp_tcb_init(struct tcb *tcb, const struct tcp_tuple *t, uint16_t mss_local, uint32_t sndcap,
                  uint32_t rcvcap);

/* The one function that changes state, so every change is recorded. */
void tcp_set_state(struct tcp_ctx *ctx, struct tcb *tcb, enum tcp_state to, const char *why);

/* RFC 6528 initial sequence number for a 4-tuple at ctx->now. */
/* RFC 6528 ISN for t; *ts_offset gets its RFC 7323 timestamp offset. */
uint32_t tcp_isn_ts(const struct tcp_ctx *ctx, const struct tcp_tuple *t, uint32_t *ts_offset);

/* RFC 7413: Linux's tcp_fastopen bits */
#define TCP_FO_CLIENT 0x1u
#define TCP_FO_SERVER 0x2u
#define TCP_FO_CLIENT_NO_COOKIE 0x4u
#define TCP_FO_SERVER_NO_COOKIE 0x200u
#define TCP_FO_SERVER_ALL 0x400u /* every listener, without TCP_FASTOPEN */
#define TCP_FO_COOKIE_LEN 8
/* RFC 7413 §4.1.2: the cookie for the peer of a listener's child. */
void tcp_fo_cookie(const struct tcp_ctx *ctx, const struct tcb *child, uint8_t out[TCP_FO_COOKIE_LEN]);
/* §4.2.2: does the listener take this SYN's data at once (true), and
 * must the SYN-ACK carry a cookie (TCB_FO_COOKIE)? */
bool tcp_fo_server_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *seg);

/* RFC 7413 §3 client: the SYN's Fast Open option (a cookie, or a request
 * when len is 0) and how many bytes of the send ring ride in it. */
struct tcp_fo_syn {
    uint8_t kind; /* WIRE_TCPOPT_FASTOPEN or WIRE_TCPOPT_EXP */
    uint8_t len;
    uint8_t cookie[16];
    uint32_t data;
    bool wait; /* the writer waits for the handshake to send more (Linux's sk_write_pending) */
};
/* Active open with Fast Open: CLOSED -> SYN_SENT, SYN with the option and
 * fo->data bytes from the send ring (already written there). */
void tcp_connect_fo(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_fo_syn *fo);

/* TCP_FASTOPEN_CONNECT with a cookie in hand (Linux tcp_fastopen_defer_connect):
 * CLOSED -> SYN_SENT with nothing sent; tcp_connect_fo sends the SYN with
 * the first data. */
void tcp_connect_defer(struct tcp_ctx *ctx, struct tcb *tcb);

/* Active open: CLOSED -> SYN_SENT, SYN out. */
void tcp_connect(struct tcp_ctx *ctx, struct tcb *tcb);
/* The same on the 4-tuple of the TIME_WAIT connection old, which the
 * caller ends (tcp_tw_reusable said yes). */
struct tcp_tw;
void tcp_connect_over(struct tcp_ctx *ctx, struct tcb *tcb, const struct tcp_tw *old);

/* LISTEN (RFC 9293 §3.10.7.2) for a segment that matched no connection. */
enum tcp_listen_verdict tcp_listen_input(struct tcp_ctx *ctx, const struct tcp_tuple *t,
                                         const struct wire_tcp *seg);

/* Passive open of a fresh child for a SYN: LISTEN -> SYN_RECEIVED, SYN-ACK
 * out. The child was set up with tcp_tcb_init. iss_hint, when non-zero,
 * replaces the ISN (a SYN that reopens TIME_WAIT must start above it). */
void tcp_accept_syn(struct tcp_ctx *ctx, struct tcb *child, const struct wire_tcp *seg, uint32_t iss_hint);

/* A segment for this connection (RFC 9293 §3.10.7.3 and §3.10.7.4). */
enum tcp_verdict tcp_input(struct tcp_ctx *ctx, struct tcb *tcb, const struct wire_tcp *seg);

/* A segment that matched nothing: RFC 9293 §3.10.7.1 reset generation. */
void tcp_reset_closed(struct tcp_ctx *ctx, const struct tcp_tuple *t, const struct wire_tcp *seg);

/* One segment, with extra options beside the usual ones (NULL: none). */
int tcp_emit_opts(struct tcp_ctx *ctx, struct tcb *tcb, uint16_t flags, uint32_t seq, uint32_t off, uint32_t len,
                  const struct wire_tcp_opts *extra);

/* Sends what the windows allow, and any ACK owed. */
void tcp_output(struct tcp_ctx *ctx, struct tcb *tcb);
/* The same, with every partial segment held as under TCP_CORK: the push
 * that ends a MSG_MORE write (Linux tcp_push with TCP_NAGLE_CORK, for that
 * push only; the next output, on an ACK say, follows the socket's rules). */
void tcp_output_corked(struct tcp_ctx *ctx, struct tcb *tcb);

/* Fires due timers. Returns TCP_FREE when the TCB reached CLOSED. */
enum tcp_verdict tcp_timers(struct tcp_ctx *ctx, struct tcb *tcb);
uint64_t tcp_next_deadline(const struct tcb *tcb);

/* User calls (RFC 9293 §3.10.1-§3.10.6). Negative errno on failure. */
/* more: the caller has more to write at once (MSG_MORE): the end of this
 * write carries no PSH. */
/* eor: the write ends a record (MSG_EOR): later data never shares a
 * segment with it (only when the whole write was taken). */
/* oob: MSG_OOB, the last byte written is urgent (urg.c) */
long tcp_user_send(struct tcp_ctx *ctx, struct tcb *tcb, const uint8_t *buf, size_t len, bool more, bool eor,
                   bool oob);
/* Copies out up to len received bytes. *wnd_update says the read freed
 * enough to announce (Linux tcp_cleanup_rbuf): the caller reads the clock
 * and calls tcp_user_window_update. */
long tcp_user_recv(struct tcp_ctx *ctx, struct tcb *tcb, uint8_t *buf, size_t len, bool *wnd_update);
void tcp_user_window_update(struct tcp_ctx *ctx, struct tcb *tcb);
int tcp_user_shutdown(struct tcp_ctx *ctx, struct tcb *tcb, bool rd, bool wr);
/* close(): abort when unread data or linger 0, else a graceful FIN. Returns
 * TCP_FREE when the TCB can be released at once. */
enum tcp_verdict tcp_user_close(struct tcp_ctx *ctx, struct tcb *tcb, bool linger_zero);
/* ABORT: RST to the peer when synchronized, then CLOSED. */
void tcp_abort(struct tcp_ctx *ctx, struct tcb *tcb, int err, const char *why);

/* Effective send MSS: RFC 9293 §3.7.1 and RFC 6691, less the timestamp option. */
uint16_t tcp_eff_mss(const struct tcb *tcb);
/* Window we would advertise now, unscaled. */
uint32_t tcp_rcv_window(const struct tcb *tcb);
/* Bytes of the send ring not yet sent. */
uint32_t tcp_unsent(const struct tcb *tcb);
/* Our FIN is queued (close or SHUT_WR) and has not gone yet. */
static inline bool tcp_fin_unsent(const struct tcb *tcb)
{
    return (tcb->flags & TCB_FIN_QUEUED) && !(tcb->flags & TCB_FIN_SENT);
}
/* MSG_EOR: len cut at the first record end after seq; whether seq is a
 * record end; a record ending with the send ring's last byte (Linux
 * tcp_sendmsg_locked: a write taken whole). The extension must be attached. */
uint32_t tcp_eor_clip(const struct tcb *tcb, uint32_t seq, uint32_t len);
bool tcp_eor_at(const struct tcb *tcb, uint32_t seq);
void tcp_eor_mark(struct tcb *tcb);

/* ---- urgent data (urg.c): RFC 9293 §3.8.5 with Linux's semantics ---- */
/* urg_data as Linux's tp->urg_data: the low byte holds the urgent byte */
#define TCP_URG_VALID 0x0100u /* the byte is in hand (recv MSG_OOB takes it) */
#define TCP_URG_NOTYET 0x0200u /* the pointer is known, its byte not yet arrived */
#define TCP_URG_READ 0x0400u  /* the byte was taken with MSG_OOB */
/* The sixth step of §3.10.7.4, "check the URG bit" (Linux tcp_urg). */
void tcp_urg_input(struct tcb *tcb, const struct wire_tcp *seg);
/* SIOCATMARK: the read position is at the urgent mark. Also where a read
 * that has copied something stops. */
bool tcp_urg_atmark(const struct tcb *tcb);
/* recv(MSG_OOB) (Linux tcp_recv_urg): 1 with the byte in *c, 0 at the end
 * of stream, -EINVAL (none, already read, or SO_OOBINLINE), -EAGAIN. */
long tcp_urg_recv(struct tcb *tcb, uint8_t *c, bool peek);
/* What a read of n bytes from off bytes past the read position may take
 * before the mark; *skip: the byte at the read position is the urgent one
 * and is not data (SO_OOBINLINE off). */
uint32_t tcp_urg_clip(const struct tcb *tcb, uint32_t off, uint32_t n, bool *skip);
/* Bytes a read can return now: the receive ring less an urgent byte at the
 * read position that is not data (Linux tcp_poll's target). */
uint32_t tcp_urg_readable(const struct tcb *tcb);
/* Urgent mode on the send side (Linux tcp_urg_mode): SND.UP is ahead of SND.UNA. */
bool tcp_urg_mode(const struct tcb *tcb);

#endif
