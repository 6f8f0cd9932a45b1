/*
 * benchtool: the small measuring helper of `make bench` (bench/run.sh compiles it into
 * .build/bench/benchtool). It runs inside the benchmark's private network namespaces only.
 *
 *   benchtool time OUTFILE CMD [ARG...]
 *       Runs CMD once (fork + execvp + waitpid) and appends one line to OUTFILE:
 *       "<wall µs> <user+sys µs> <max RSS KiB>". Exits with CMD's exit status.
 *   benchtool repeat N CMD [ARG...]
 *       Runs CMD N times (output to /dev/null); prints "median_us p95_us min_us".
 *   benchtool http-rtt HOST PORT PATH N
 *       One TCP connection; PUT an IMDSv2 token, then N keep-alive GETs of PATH with it.
 *       Prints "median_us p95_us connect_us" of the GET round trips (and the connect).
 *   benchtool nl-apply N ADDR4 ADDR6 RULE4 RULE6 ROUTE4 ROUTE6 LINK DUMPS [DEVICES]
 *       N times: in a fresh network namespace (unshare(CLONE_NEWNET) of this process only;
 *       never the namespace it started in) with DEVICES veth pairs (made by `ip -batch`, not
 *       timed), one timed netlink exchange: DUMPS dump requests (links, addresses, rules, routes
 *       in turn) then ADDR4+ADDR6+RULE4+RULE6+ROUTE4+ROUTE6+LINK change messages (addresses
 *       spread over the DEVICES veths like eniroute spreads them over ENIs, else on `lo`; routes
 *       on `lo`, table 20000), batched 128 per datagram, every ACK read and checked.
 *       Prints "median_us p95_us messages datagrams".
 *   benchtool nl-dump N DUMPS
 *       N times in the current namespace (read-only): DUMPS dump requests in turn (links,
 *       addresses, IPv4 rules, IPv6 rules, IPv4 routes, IPv6 routes). Prints "median_us p95_us".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(111);
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p) {
    qsort(v, n, sizeof *v, cmp_double);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* ---------------------------------------------------------------- process timing */

static int run_once(char **argv, int quiet, double *wall, struct rusage *ru) {
    double t0 = now_us();
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        }
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    if (wait4(pid, &status, 0, ru) < 0) die("wait4");
    *wall = now_us() - t0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmd_time(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: benchtool time OUTFILE CMD...\n"); return 2; }
    double wall;
    struct rusage ru;
    int rc = run_once(argv + 1, 0, &wall, &ru);
    FILE *f = fopen(argv[0], "a");
    if (!f) die(argv[0]);
    double cpu = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
    fprintf(f, "%.1f %.1f %ld\n", wall, cpu, ru.ru_maxrss);
    fclose(f);
    return rc;
}

static int cmd_repeat(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: benchtool repeat N CMD...\n"); return 2; }
    int n = atoi(argv[0]);
    if (n < 1) n = 1;
    double *v = calloc(n, sizeof *v);
    for (int i = 0; i < n; i++) {
        struct rusage ru;
        int rc = run_once(argv + 1, 1, &v[i], &ru);
        if (rc != 0) { fprintf(stderr, "benchtool: %s exited %d\n", argv[1], rc); return 1; }
    }
    double mn = pct(v, n, 0), med = pct(v, n, 0.5), p95 = pct(v, n, 0.95);
    printf("%.1f %.1f %.1f\n", med, p95, mn);
    return 0;
}

/* ---------------------------------------------------------------- HTTP round trip */

static char rbuf[65536];
static size_t rlen;

/* Reads one HTTP response (Content-Length bodies only) from fd; returns the status. */
static int http_read(int fd, char *body, size_t bodycap) {
    for (;;) {
        char *end = memmem(rbuf, rlen, "\r\n\r\n", 4);
        if (end) {
            size_t head = (size_t)(end - rbuf) + 4;
            int status = atoi(rbuf + 9);
            size_t clen = 0;
            char *p = strcasestr(rbuf, "\r\ncontent-length:");
            if (p && p < end) clen = strtoul(p + 17, NULL, 10);
            while (rlen < head + clen) {
                ssize_t k = read(fd, rbuf + rlen, sizeof rbuf - rlen);
                if (k <= 0) die("read body");
                rlen += (size_t)k;
            }
            if (body) {
                size_t c = clen < bodycap - 1 ? clen : bodycap - 1;
                memcpy(body, rbuf + head, c);
                body[c] = 0;
            }
            memmove(rbuf, rbuf + head + clen, rlen - head - clen);
            rlen -= head + clen;
            return status;
        }
        ssize_t k = read(fd, rbuf + rlen, sizeof rbuf - rlen);
        if (k <= 0) die("read head");
        rlen += (size_t)k;
    }
}

static void write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t k = write(fd, s, n);
        if (k <= 0) die("write");
        s += k;
        n -= (size_t)k;
    }
}

static int cmd_http_rtt(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: benchtool http-rtt HOST PORT PATH N\n"); return 2; }
    const char *host = argv[0], *path = argv[2];
    int n = atoi(argv[3]);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "bad host\n"); return 2; }
    double t0 = now_us();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect");
    double tconn = now_us() - t0;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[1024], token[512];
    int k = snprintf(req, sizeof req,
                     "PUT /latest/api/token HTTP/1.1\r\nHost: %s\r\nUser-Agent: benchtool\r\n"
                     "X-aws-ec2-metadata-token-ttl-seconds: 300\r\nContent-Length: 0\r\n\r\n", host);
    write_all(fd, req, (size_t)k);
    if (http_read(fd, token, sizeof token) != 200) { fprintf(stderr, "token PUT failed\n"); return 1; }
    k = snprintf(req, sizeof req,
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: benchtool\r\nX-aws-ec2-metadata-token: %s\r\n\r\n",
                 path, host, token);
    double *v = calloc(n, sizeof *v);
    for (int i = 0; i < n; i++) {
        double t = now_us();
        write_all(fd, req, (size_t)k);
        int st = http_read(fd, NULL, 0);
        v[i] = now_us() - t;
        if (st != 200) { fprintf(stderr, "GET %s: status %d\n", path, st); return 1; }
    }
    double med = pct(v, n, 0.5), p95 = pct(v, n, 0.95);
    printf("%.1f %.1f %.1f\n", med, p95, tconn);
    close(fd);
    return 0;
}

/* ---------------------------------------------------------------- netlink */

#define NLBUF (256 * 1024)
static char nlbuf[NLBUF];
static uint32_t nlseq;
static long nl_datagrams;

static int nl_open(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) die("socket(NETLINK_ROUTE)");
    int one = 1, big = 1 << 20;
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind netlink");
    return fd;
}

static void nl_send(int fd, const void *buf, size_t len) {
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof sa) != (ssize_t)len) die("sendto netlink");
    nl_datagrams++;
}

/* Reads until DONE (dump) or until `acks` ACKs arrived; any error ACK is fatal. */
static void nl_wait(int fd, int dump, int acks) {
    for (;;) {
        ssize_t n = recv(fd, nlbuf, sizeof nlbuf, 0);
        if (n < 0) die("recv netlink");
        for (struct nlmsghdr *h = (struct nlmsghdr *)nlbuf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE && dump) return;
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                if (e->error) {
                    errno = -e->error;
                    fprintf(stderr, "netlink seq %u: ", h->nlmsg_seq);
                    die("netlink error");
                }
                if (!dump && --acks == 0) return;
            }
        }
    }
}

#define MSGBUF (8 * 1024 * 1024)
struct msgbuf {
    char data[MSGBUF];
    size_t len;
};

static struct nlmsghdr *msg_begin(struct msgbuf *b, uint16_t type, uint16_t flags, const void *fam, size_t famlen) {
    if (b->len + 256 > sizeof b->data) { fprintf(stderr, "benchtool: message buffer full\n"); exit(111); }
    struct nlmsghdr *h = (struct nlmsghdr *)(b->data + b->len);
    memset(h, 0, NLMSG_SPACE(famlen));
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = ++nlseq;
    h->nlmsg_len = NLMSG_LENGTH(famlen);
    memcpy(NLMSG_DATA(h), fam, famlen);
    return h;
}

static void attr(struct nlmsghdr *h, uint16_t type, const void *data, size_t len) {
    struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void msg_end(struct msgbuf *b, struct nlmsghdr *h) { b->len += NLMSG_ALIGN(h->nlmsg_len); }

static struct msgbuf dumpbuf;

static void dump_one(int fd, int kind) {
    struct msgbuf *bp = &dumpbuf;
#define b (*bp)
    b.len = 0;
    struct nlmsghdr *h;
    uint16_t fl = NLM_F_REQUEST | NLM_F_DUMP;
    switch (kind % 6) {
    case 0: { struct ifinfomsg m = {.ifi_family = AF_UNSPEC}; h = msg_begin(&b, RTM_GETLINK, fl, &m, sizeof m); break; }
    case 1: { struct ifaddrmsg m = {.ifa_family = AF_UNSPEC}; h = msg_begin(&b, RTM_GETADDR, fl, &m, sizeof m); break; }
    case 2: { struct fib_rule_hdr m = {.family = AF_INET}; h = msg_begin(&b, RTM_GETRULE, fl, &m, sizeof m); break; }
    case 3: { struct fib_rule_hdr m = {.family = AF_INET6}; h = msg_begin(&b, RTM_GETRULE, fl, &m, sizeof m); break; }
    case 4: { struct rtmsg m = {.rtm_family = AF_INET}; h = msg_begin(&b, RTM_GETROUTE, fl, &m, sizeof m); break; }
    default: { struct rtmsg m = {.rtm_family = AF_INET6}; h = msg_begin(&b, RTM_GETROUTE, fl, &m, sizeof m); break; }
    }
    msg_end(&b, h);
    nl_send(fd, b.data, b.len);
    nl_wait(fd, 1, 0);
#undef b
}

static void link_up_lo(void) {
    int fd = nl_open();
    struct msgbuf *bp = &dumpbuf;
#define b (*bp)
    b.len = 0;
    struct ifinfomsg m = {.ifi_family = AF_UNSPEC, .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    struct nlmsghdr *h = msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &m, sizeof m);
    msg_end(&b, h);
    nl_send(fd, b.data, b.len);
    nl_wait(fd, 0, 1);
    close(fd);
#undef b
}

static int ndev;
static int devidx[4096];

/* Creates n veth pairs v0/w0 … in the current (fresh) namespace, all up, with `ip -batch`. */
static void make_devices(int n) {
    ndev = 0;
    if (n <= 0) return;
    if (n > 4096) n = 4096;
    int p[2];
    if (pipe(p) < 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        dup2(p[0], 0);
        close(p[1]);
        execlp("ip", "ip", "-batch", "-", (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    FILE *f = fdopen(p[1], "w");
    for (int i = 0; i < n; i++) fprintf(f, "link add v%d type veth peer name w%d\nlink set v%d up\nlink set w%d up\n", i, i, i, i);
    fclose(f);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "benchtool: ip -batch (veths) failed\n"); exit(111); }
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "v%d", i);
        devidx[i] = (int)if_nametoindex(name);
        if (devidx[i] == 0) die("if_nametoindex");
    }
    ndev = n;
}

/* Appends change message number i of a kind. */
static void add_change(struct msgbuf *b, int kind, int i) {
    uint16_t fl = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    uint32_t table = 20000, prio = 20000;
    unsigned char proto = 0xee;
    struct nlmsghdr *h;
    uint32_t v4 = htonl(0x0a640000u + (uint32_t)i + 1); /* 10.100.x.y */
    unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x64};
    v6[14] = (unsigned char)((i + 1) >> 8);
    v6[15] = (unsigned char)(i + 1);
    switch (kind) {
    case 0: { /* ip addr add 10.100.x.y/16 dev lo noprefixroute */
        struct ifaddrmsg m = {.ifa_family = AF_INET, .ifa_prefixlen = 16, .ifa_index = ndev ? (unsigned)devidx[i % ndev] : 1};
        h = msg_begin(b, RTM_NEWADDR, fl, &m, sizeof m);
        attr(h, IFA_LOCAL, &v4, 4);
        attr(h, IFA_ADDRESS, &v4, 4);
        uint32_t f = IFA_F_NOPREFIXROUTE;
        attr(h, IFA_FLAGS, &f, 4);
        break;
    }
    case 1: { /* ip -6 addr add 2001:db8:64::x/128 dev lo nodad noprefixroute */
        struct ifaddrmsg m = {.ifa_family = AF_INET6, .ifa_prefixlen = 128, .ifa_index = ndev ? (unsigned)devidx[i % ndev] : 1};
        h = msg_begin(b, RTM_NEWADDR, fl, &m, sizeof m);
        attr(h, IFA_LOCAL, v6, 16);
        attr(h, IFA_ADDRESS, v6, 16);
        uint32_t f = IFA_F_NOPREFIXROUTE | IFA_F_NODAD;
        attr(h, IFA_FLAGS, &f, 4);
        break;
    }
    case 2: { /* ip rule add from 10.100.x.y lookup 20000 priority 20000 protocol 0xee */
        struct fib_rule_hdr m = {.family = AF_INET, .src_len = 32, .action = FR_ACT_TO_TBL};
        h = msg_begin(b, RTM_NEWRULE, fl, &m, sizeof m);
        attr(h, FRA_SRC, &v4, 4);
        attr(h, FRA_TABLE, &table, 4);
        attr(h, FRA_PRIORITY, &prio, 4);
        attr(h, FRA_PROTOCOL, &proto, 1);
        break;
    }
    case 3: { /* ip -6 rule add from 2001:db8:64::x lookup 20000 priority 20000 protocol 0xee */
        struct fib_rule_hdr m = {.family = AF_INET6, .src_len = 128, .action = FR_ACT_TO_TBL};
        h = msg_begin(b, RTM_NEWRULE, fl, &m, sizeof m);
        attr(h, FRA_SRC, v6, 16);
        attr(h, FRA_TABLE, &table, 4);
        attr(h, FRA_PRIORITY, &prio, 4);
        attr(h, FRA_PROTOCOL, &proto, 1);
        break;
    }
    case 4: { /* ip route add 10.100.x.y/32 dev lo table 20000 proto 0xee scope link */
        struct rtmsg m = {.rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_table = RT_TABLE_UNSPEC,
                          .rtm_protocol = 0xee, .rtm_scope = RT_SCOPE_LINK, .rtm_type = RTN_UNICAST};
        h = msg_begin(b, RTM_NEWROUTE, fl, &m, sizeof m);
        attr(h, RTA_DST, &v4, 4);
        attr(h, RTA_TABLE, &table, 4);
        uint32_t oif = 1;
        attr(h, RTA_OIF, &oif, 4);
        break;
    }
    case 5: { /* ip -6 route add 2001:db8:64::x/128 dev lo table 20000 proto 0xee */
        struct rtmsg m = {.rtm_family = AF_INET6, .rtm_dst_len = 128, .rtm_table = RT_TABLE_UNSPEC,
                          .rtm_protocol = 0xee, .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
        h = msg_begin(b, RTM_NEWROUTE, fl, &m, sizeof m);
        attr(h, RTA_DST, v6, 16);
        attr(h, RTA_TABLE, &table, 4);
        uint32_t oif = 1;
        attr(h, RTA_OIF, &oif, 4);
        break;
    }
    default: { /* ip link set lo group N */
        struct ifinfomsg m = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
        h = msg_begin(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &m, sizeof m);
        uint32_t g = 10000 + (uint32_t)i;
        attr(h, IFLA_GROUP, &g, 4);
        break;
    }
    }
    msg_end(b, h);
}

static struct msgbuf changes;

static int cmd_nl(int argc, char **argv, int apply) {
    int need = apply ? 9 : 2;
    if (argc < need) { fprintf(stderr, "usage: see benchtool.c\n"); return 2; }
    int n = atoi(argv[0]);
    int counts[7] = {0};
    int dumps, ndevices = 0;
    if (apply) {
        for (int k = 0; k < 7; k++) counts[k] = atoi(argv[1 + k]);
        dumps = atoi(argv[8]);
        if (argc > 9) ndevices = atoi(argv[9]);
    } else {
        dumps = atoi(argv[1]);
    }
    int total = dumps;
    for (int k = 0; k < 7; k++) total += counts[k];
    double *v = calloc(n, sizeof *v);
    long dg = 0;
    for (int it = 0; it < n; it++) {
        if (apply) {
            struct stat before, after;
            if (stat("/proc/thread-self/ns/net", &before) < 0) die("stat ns");
            if (unshare(CLONE_NEWNET) < 0) die("unshare(CLONE_NEWNET)");
            if (stat("/proc/thread-self/ns/net", &after) < 0) die("stat ns");
            if (before.st_ino == after.st_ino) { fprintf(stderr, "benchtool: not in a new namespace\n"); return 1; }
            link_up_lo();
            make_devices(ndevices);
        }
        /* Build the batch before timing (a tool builds its messages from its plan: counted in its time,
           but negligible next to the kernel's work; leaving it out makes the limit lower, not higher). */
        changes.len = 0;
        for (int k = 0; k < 7; k++)
            for (int i = 0; i < counts[k]; i++) add_change(&changes, k, i);
        nl_datagrams = 0;
        double t0 = now_us();
        int fd = nl_open();
        for (int d = 0; d < dumps; d++) dump_one(fd, d);
        /* Changes: up to 128 messages per datagram, then read their ACKs. */
        size_t off = 0;
        int left = total - dumps;
        while (left > 0) {
            size_t start = off;
            int cnt = 0;
            while (cnt < 128 && off < changes.len) {
                struct nlmsghdr *h = (struct nlmsghdr *)(changes.data + off);
                off += NLMSG_ALIGN(h->nlmsg_len);
                cnt++;
            }
            nl_send(fd, changes.data + start, off - start);
            nl_wait(fd, 0, cnt);
            left -= cnt;
        }
        close(fd);
        v[it] = now_us() - t0;
        dg = nl_datagrams;
    }
    double med = pct(v, n, 0.5), p95 = pct(v, n, 0.95);
    if (apply) printf("%.1f %.1f %d %ld\n", med, p95, total, dg);
    else printf("%.1f %.1f\n", med, p95);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: benchtool time|repeat|http-rtt|nl-apply|nl-dump ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "time")) return cmd_time(argc - 2, argv + 2);
    if (!strcmp(argv[1], "repeat")) return cmd_repeat(argc - 2, argv + 2);
    if (!strcmp(argv[1], "http-rtt")) return cmd_http_rtt(argc - 2, argv + 2);
    if (!strcmp(argv[1], "nl-apply")) return cmd_nl(argc - 2, argv + 2, 1);
    if (!strcmp(argv[1], "nl-dump")) return cmd_nl(argc - 2, argv + 2, 0);
    fprintf(stderr, "benchtool: unknown command %s\n", argv[1]);
    return 2;
}
