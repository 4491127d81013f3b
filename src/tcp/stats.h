/* Counters of the protocol core (IP and TCP), like `netstat -s`. Every
 * dropped segment increments exactly one of them. The list is the single
 * source of the names the API and tools print. */
#ifndef SYNACK_TCP_STATS_H
#define SYNACK_TCP_STATS_H

#include <stdint.h>

#define CORE_STATS(X)                                                          \
    X(ip_in, "IP datagrams received")                                          \
    X(ip_drop_hdr, "IP datagrams dropped: bad header")                         \
    X(ip_drop_csum, "IP datagrams dropped: bad header checksum")               \
    X(ip_drop_addr, "IP datagrams dropped: not for us")                        \
    X(ip_drop_frag, "IP datagrams dropped: fragments (not reassembled)")       \
    X(ip_drop_proto, "IP datagrams dropped: unknown protocol")                 \
    X(ip_out, "IP datagrams sent")                                             \
    X(ip_out_drop, "IP datagrams the link refused")                            \
    X(ip_out_noroute, "IP datagrams with no route")                            \
    X(tcp_in, "TCP segments received")                                         \
    X(tcp_out, "TCP segments sent")                                            \
    X(tcp_retrans, "TCP segments retransmitted")                               \
    X(tcp_drop_hdr, "TCP segments dropped: bad header or data offset")         \
    X(tcp_drop_opts, "TCP segments dropped: bad option length")                \
    X(tcp_drop_csum, "TCP segments dropped: bad checksum")                     \
    X(tcp_drop_noport, "TCP segments to a closed port")                        \
    X(tcp_drop_listen, "TCP segments dropped in LISTEN")                       \
    X(tcp_drop_backlog, "SYNs dropped: listen queue full")                     \
    X(tcp_drop_syn_sent, "TCP segments dropped in SYN-SENT")                   \
    X(tcp_drop_unacceptable, "TCP segments outside the window")                \
    X(tcp_drop_beyond_window, "TCP segments dropped: end beyond the window, data queued (Linux BeyondWindow)") \
    X(tcp_rcv_beyond_taken, "TCP segments beyond the window taken whole into an empty queue (Linux)") \
    X(tcp_rcv_beyond_nomem, "TCP segments beyond the window trimmed: no memory to take them whole") \
    X(tcp_drop_noack, "TCP segments dropped: no ACK flag")                     \
    X(tcp_drop_badack, "TCP segments dropped: ACK outside the valid range")    \
    X(tcp_drop_ooo, "TCP segments dropped: out of order")                      \
    X(tcp_drop_syn_sync, "SYNs in a synchronized state (challenged)")          \
    X(tcp_drop_rst_window, "RSTs in the window but not at RCV.NXT")            \
    X(tcp_drop_closed, "TCP segments for a connection already closed")         \
    X(tcp_abort_on_data, "connections reset by data after close")              \
    X(tcp_challenge_ack, "RFC 5961 challenge ACKs sent")                       \
    X(tcp_challenge_ack_limited, "RFC 5961 challenge ACKs suppressed by rate") \
    X(tcp_rst_in, "RSTs that reset a connection")                              \
    X(tcp_rst_out, "RSTs sent")                                                \
    X(tcp_active_opens, "active opens")                                        \
    X(tcp_passive_opens, "passive opens")                                      \
    X(tcp_attempt_fails, "failed connection attempts")                         \
    X(tcp_estab_resets, "resets of established connections")                   \
    X(tcp_timeouts, "connections dropped by retransmission timeout")           \
    X(tcp_abort_on_close, "connections aborted by close() with unread data")   \
    X(tcp_abort_on_linger, "connections aborted by SO_LINGER 0")               \
    X(tcp_tw_reopened, "TIME_WAIT connections reopened by a new SYN") \
    X(tcp_tw_reused, "TIME_WAIT 4-tuples taken by connect() (tw_reuse)") \
    X(tcp_fo_passive, "Fast Open SYNs with a valid cookie (RFC 7413)")       \
    X(tcp_fo_passive_fail, "Fast Open SYNs with a bad cookie")                \
    X(tcp_fo_cookie_req, "Fast Open cookie requests answered")              \
    X(tcp_fo_active, "Fast Open SYNs sent with data")                        \
    X(tcp_fo_active_fail, "Fast Open SYN data not acknowledged (sent again)") \
    X(tcp_ooo_queued, "TCP segments queued out of order")                      \
    X(tcp_ooo_full, "TCP segments dropped: out-of-order queue full")           \
    X(tcp_dsack_out, "D-SACKs sent for duplicate data (RFC 2883)")             \
    X(tcp_dsack_in, "D-SACK blocks received")                                  \
    X(tcp_sack_bad, "SACK blocks ignored: outside the sent data")              \
    X(tcp_sack_full, "SACK blocks not recorded: scoreboard full")              \
    X(tcp_dupack_in, "duplicate ACKs received")                                \
    X(tcp_fast_retrans, "fast retransmits (recoveries entered)")               \
    X(tcp_sack_recovery, "recoveries using SACK (RFC 6675)")                   \
    X(tcp_reno_recovery, "recoveries without SACK (RFC 6582)")                 \
    X(tcp_rto, "retransmission timeouts")                                      \
    X(tcp_tlp_probes, "tail loss probes sent (RFC 8985)")                      \
    X(tcp_tlp_recoveries, "losses repaired by a tail loss probe")              \
    X(tcp_rack_lost, "segments marked lost by RACK (RFC 8985 §6)")            \
    X(tcp_rack_recoveries, "fast recoveries started by a RACK loss mark")      \
    X(tcp_rack_reo_timeouts, "RACK reordering timer expiries")                 \
    X(tcp_rack_reordering, "connections that saw reordering (RACK)")           \
    X(tcp_rack_reo_wnd_grown, "RACK reordering windows widened by a D-SACK")   \
    X(tcp_rack_run_merges, "RACK transmit runs merged (ring full)")            \
    X(tcp_paws_drop, "TCP segments dropped by PAWS (RFC 7323)")                \
    X(tcp_paws_active_rejected, "SYN-ACKs reset: TSecr not of our SYN (Linux)") \
    X(tcp_persist_probes, "zero-window probes sent")                           \
    X(tcp_keepalive_probes, "keepalive probes sent")                           \
    X(tcp_keepalive_timeouts, "connections dropped by keepalive")              \
    X(tcp_user_timeouts, "connections dropped by the user timeout (RFC 5482)") \
    X(tcp_syncookies_sent, "SYN cookies sent (SYN queue full)")                \
    X(tcp_syncookies_recv, "SYN cookies received valid")                       \
    X(tcp_syncookies_failed, "ACKs to a listener whose SYN cookie failed (reset)") \
    X(tcp_ecn_estab, "connections established with ECN (RFC 3168)")          \
    X(tcp_ecn_ce_in, "data segments received marked CE")                       \
    X(tcp_ecn_ece_in, "ACKs received with ECN-Echo")                           \
    X(tcp_ecn_cwr, "window reductions for an ECN-Echo (CWR state)")            \
    X(tcp_ecn_cwr_out, "segments sent with CWR")                               \
    X(tcp_out_refused, "TCP segments the link refused (local congestion)")

struct core_stats {
#define CORE_STATS_FIELD(name, text) uint64_t name;
    CORE_STATS(CORE_STATS_FIELD)
#undef CORE_STATS_FIELD
};

#endif
