// The floor: the least a registered audit daemon can do per record, in C.
//
// Registers with AUDIT_SET (pid, enabled=1), then receives with recvmmsg 64 datagrams at a time,
// formats each record as auditd's RAW line (`type=NAME msg=PAYLOAD`, newlines to spaces, EOE and
// replies not logged) into one 256 KiB buffer, and writes the buffer with one write(2) when it is
// full (and when the socket has been quiet for 20 ms, so a finished run is on disk). On SIGTERM it
// unregisters (AUDIT_SET pid 0), drains the socket, writes the rest and exits.
//
// usage: floor-reader LOGFILE
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 64, SLOT = 16 * 1024, OUT = 256 * 1024, NAMES = 3000 };

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

static char out[OUT];
static size_t used;
static int log_fd;
static char *prefix[NAMES];
static size_t prefix_len[NAMES];

static void flush_out(void) {
    size_t done = 0;
    while (done < used) {
        ssize_t n = write(log_fd, out + done, used - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("floor-reader: write");
            exit(1);
        }
        done += (size_t)n;
    }
    used = 0;
}

static void format(unsigned type, const char *payload, size_t len) {
    while (len > 0 && payload[len - 1] == 0) len--;
    if (used + len + 64 > OUT) flush_out();
    if (type < NAMES && prefix[type]) {
        memcpy(out + used, prefix[type], prefix_len[type]);
        used += prefix_len[type];
    } else {
        used += (size_t)snprintf(out + used, 64, "type=UNKNOWN[%u] msg=", type);
    }
    char *start = out + used;
    memcpy(start, payload, len);
    for (char *p = start; (p = memchr(p, '\n', (size_t)(start + len - p))) != NULL; p++) *p = ' ';
    used += len;
    if (len > 0 && out[used - 1] == ' ') used--;
    out[used++] = '\n';
}

static int send_status(int fd, unsigned mask, unsigned pid, unsigned enabled) {
    struct {
        struct nlmsghdr header;
        struct audit_status status;
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = AUDIT_SET;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    request.header.nlmsg_seq = 1;
    request.status.mask = mask;
    request.status.pid = pid;
    request.status.enabled = enabled;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    return sendto(fd, &request, sizeof request, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? -1 : 0;
}

static char slots[BATCH][SLOT];
static struct mmsghdr messages[BATCH];
static struct iovec vectors[BATCH];

/// One recvmmsg; formats the records. Returns the count, 0 when nothing waits, -1 on error.
static int receive_batch(int fd, int *ack_error) {
    for (int i = 0; i < BATCH; i++) {
        vectors[i].iov_base = slots[i];
        vectors[i].iov_len = SLOT;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, messages, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) return (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) ? 0 : -1;
    for (int i = 0; i < n; i++) {
        size_t len = messages[i].msg_len;
        if (len < NLMSG_HDRLEN) continue;
        const struct nlmsghdr *header = (const struct nlmsghdr *)slots[i];
        unsigned type = header->nlmsg_type;
        if (type == NLMSG_ERROR) {
            const struct nlmsgerr *err = NLMSG_DATA(header);
            if (ack_error) *ack_error = err->error;
            continue;
        }
        if (type < AUDIT_FIRST_USER_MSG || type == AUDIT_EOE) continue;
        if (type >= AUDIT_FIRST_DAEMON && type <= AUDIT_LAST_DAEMON) continue;
        format(type, slots[i] + NLMSG_HDRLEN, len - NLMSG_HDRLEN);
    }
    return n;
}

static void drain(int fd) {
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) return;
        if (receive_batch(fd, NULL) < 0) return;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: floor-reader LOGFILE\n");
        return 2;
    }
    log_fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        perror("floor-reader: open");
        return 1;
    }
    for (unsigned type = 0; type < NAMES; type++) {
        const char *name = audit_msg_type_to_name((int)type);
        if (!name) continue;
        prefix_len[type] = (size_t)asprintf(&prefix[type], "type=%s msg=", name);
    }
    struct sigaction action = {.sa_handler = on_term};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0) {
        perror("floor-reader: socket");
        return 1;
    }
    int rcvbuf = 32 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_nl self = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&self, sizeof self) < 0) {
        perror("floor-reader: bind");
        return 1;
    }
    if (send_status(fd, AUDIT_STATUS_PID | AUDIT_STATUS_ENABLED, (unsigned)getpid(), 1) < 0) {
        perror("floor-reader: AUDIT_SET");
        return 1;
    }
    // Wait for the ACK (records that come first are written).
    int ack = 1;
    for (int tries = 0; tries < 50 && ack == 1; tries++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 100);
        if (receive_batch(fd, &ack) < 0) break;
    }
    if (ack != 0) {
        fprintf(stderr, "floor-reader: registration refused or unanswered (%d)\n", ack);
        return 1;
    }

    while (!stopping) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, 20);
        if (ready == 0 && used > 0) flush_out();  // quiet: put what arrived on disk
        if (ready <= 0) continue;
        int n;
        do {
            n = receive_batch(fd, NULL);
        } while (n == BATCH && !stopping);
        if (n < 0) {
            perror("floor-reader: recvmmsg");
            break;
        }
    }
    send_status(fd, AUDIT_STATUS_PID, 0, 0);
    drain(fd);
    flush_out();
    fsync(log_fd);
    return 0;
}
