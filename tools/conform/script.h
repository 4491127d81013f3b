/* A packetdrill script, parsed: options, then events in time order.
 *
 * The language is packetdrill's (google/packetdrill, parser.y): whitespace
 * and newlines are insignificant, C and C++ comments are skipped, every
 * event starts with a time. Sequence numbers are kept exactly as written
 * (script space); the runner maps them to live values. */
#ifndef CONFORM_SCRIPT_H
#define CONFORM_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- expressions (socket call arguments and results) ---- */
enum expr_kind {
    EX_ELLIPSIS, /* ...: "fill in the obvious" */
    EX_NULL,     /* NULL */
    EX_INT,      /* 42, -1, 0x2 */
    EX_SYMBOL,   /* SOCK_STREAM, resolved when the call runs */
    EX_STRING,   /* "cubic" */
    EX_LIST,     /* [a, b]: an int pointer or an array */
    EX_STRUCT,   /* {a=1, b=2} or {1, 2} */
    EX_FIELD,    /* name=value inside a struct; name(arg)=value keeps arg */
    EX_OR,       /* a|b */
    EX_CALL,     /* htons(8080), inet_addr("1.2.3.4") */
};

struct expr {
    enum expr_kind kind;
    long long num;      /* EX_INT */
    char *name;         /* EX_SYMBOL, EX_STRING, EX_FIELD, EX_CALL */
    struct expr **item; /* EX_LIST, EX_STRUCT, EX_OR (2), EX_CALL args, EX_FIELD value (+arg) */
    int n;
};

/* ---- packets ---- */
enum tcp_flag {
    TF_FIN = 0x01, TF_SYN = 0x02, TF_RST = 0x04, TF_PSH = 0x08,
    TF_ACK = 0x10, TF_URG = 0x20, TF_ECE = 0x40, TF_CWR = 0x80,
};

enum opt_kind {
    OP_EOL = 0, OP_NOP = 1, OP_MSS = 2, OP_WSCALE = 3, OP_SACKOK = 4, OP_SACK = 5,
    OP_TS = 8, OP_MD5 = 19, OP_FO = 34, OP_FOEXP = 254,
};

#define SCRIPT_MAX_OPTS 16
#define SCRIPT_MAX_SACK 4

struct tcp_opt {
    enum opt_kind kind;
    uint32_t val, ecr;                     /* mss/wscale in val; TS val/ecr */
    uint32_t sack[SCRIPT_MAX_SACK][2];     /* left, right in script space */
    int nsack;
    uint8_t data[36];                      /* FO / FOEXP cookie, MD5 digest */
    int ndata;
};

enum ecn_mark { ECN_UNSET = -1, ECN_NOT = 0, ECN_ECT1 = 1, ECN_ECT0 = 2, ECN_CE = 3, ECN_ECT01 = 4 };

struct pkt_spec {
    char dir;                 /* '<' inbound (injected), '>' outbound (expected) */
    bool icmp, icmpv6;
    char undefined[32];       /* a --define'd symbol the packet uses (not supported) */
    /* TCP */
    uint8_t flags;            /* TF_* */
    uint32_t seq, end, len;   /* start:end(len), script space */
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    bool has_urg;
    uint32_t urg;
    bool opts_nocheck;        /* <...> */
    struct tcp_opt opt[SCRIPT_MAX_OPTS];
    int nopt;
    int ecn;                  /* enum ecn_mark */
    /* ICMP */
    int icmp_type, icmp_code; /* ICMPv4 values (-1: a name ICMPv4 does not have) */
    char icmp_type_name[48], icmp_code_name[48]; /* as written: an IPv6 run resolves them anew */
    bool has_mtu;
    uint32_t mtu;
    bool has_echo;            /* [start:end(len)] of the echoed TCP segment */
    uint32_t echo_seq, echo_len;
};

/* ---- events ---- */
enum time_kind {
    TM_NONE,      /* init/cleanup command: no time */
    TM_ABS,       /* 0.100 */
    TM_REL,       /* +0.1 */
    TM_ANY,       /* * */
    TM_ABS_RANGE, /* 0.1~0.2 */
    TM_REL_RANGE, /* +.3~+.4 */
};

enum event_kind { EV_SYSCALL, EV_PACKET, EV_SHELL, EV_CODE };

struct syscall_spec {
    char *name;
    struct expr **arg;
    int narg;
    struct expr *result;
    char *errno_name;  /* EINPROGRESS, or NULL */
    char *note;        /* the "(text)" after the result, not interpreted */
};

struct event {
    int line;
    enum time_kind tkind;
    int64_t t, t_end;       /* microseconds as written (relative ones not yet offset) */
    bool blocking;          /* t...end: a blocking call that must return at end */
    int64_t block_end;
    enum event_kind kind;
    struct pkt_spec pkt;
    struct syscall_spec sc;
    char *text;             /* shell command or code block, verbatim */
};

struct script_opts {
    long tolerance_usecs;   /* --tolerance_usecs, default 4000 */
    double tolerance_pct;   /* --tolerance_percent, default 12.5 */
    int tcp_ts_tick_usecs;  /* --tcp_ts_tick_usecs, 0 = TS val unchecked */
    bool ts_ecr_scaled;     /* --tcp_ts_ecr_scaled */
    bool strict_segments;   /* --strict_segments */
    int mss, mtu;           /* --mss, --mtu (0 = unset) */
    int ip_version;         /* 4, 6, or 46 for ipv4-mapped-ipv6 (--ip_version) */
    bool ip_version_set;    /* the script pins it */
    int bind_port, connect_port;
    char local_ip[64], remote_ip[64]; /* --local_ip / --remote_ip, "" = default */
    char unknown[256];      /* options we parse but do not honour, for the report */
};

struct script {
    char *path;
    struct script_opts opts;
    struct event *ev;
    int nev, cap;
};

/* Parse `text` (the script file's content, named `path` for messages).
 * Returns 0, or -1 with a one-line "path:line: message" in err. */
int script_parse(const char *path, const char *text, struct script *out, char *err, size_t errlen);
/* Read and parse a file; same contract. */
int script_load(const char *path, struct script *out, char *err, size_t errlen);
/* The same after packetdrill's --define substitution (define.h); defs may be NULL. */
struct script_defs;
int script_load_defs(const char *path, const struct script_defs *defs, struct script *out,
                     char *err, size_t errlen);
/* The two steps of script_load_defs: a file's text (malloc'd; NULL with a
 * message in err), and that text parsed after --define substitution. */
char *script_read(const char *path, char *err, size_t errlen);
int script_load_text(const char *path, const char *text, const struct script_defs *defs,
                     struct script *out, char *err, size_t errlen);
void script_free(struct script *s);
void script_default_opts(struct script_opts *o);
/* Apply one "--name=value" option (from the script or the command line).
 * Returns 0, or -1 with a message in err. */
int script_set_option(struct script_opts *o, const char *name, const char *value, char *err,
                      size_t errlen);

/* Seconds as written ("0.100", ".1", "2") to microseconds, exactly; -1 if malformed. */
int64_t script_usecs(const char *text);

/* An ICMP line in an IPv6 run: packetdrill looks the type and code names up
 * in its ICMPv6 tables (unreachable = 1 with no_route, admin_prohibited,
 * ...; packet_too_big; time_exceeded; parameter_problem; echo). Returns 0,
 * or -1 with packetdrill's "bad ICMP type/code" message. */
int script_icmp6_resolve(const struct pkt_spec *pk, int *type, int *code, char *err, size_t errlen);

#endif
