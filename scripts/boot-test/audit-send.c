// audit-send: a tiny static helper for the boot test's guest (no libaudit: plain netlink).
//
//   audit-send send COUNT TAG   sends COUNT AUDIT_USER (1005) records "proof TAG I" (I = 1..COUNT)
//                               over NETLINK_AUDIT, each with NLM_F_ACK, and waits for every ACK.
//   audit-send status           prints the kernel's audit_status (AUDIT_GET) as key=value words.
//   audit-send rule KEY         adds the rule `-a always,exit -F arch=b64 -S getppid -k KEY`
//                               (AUDIT_ADD_RULE with NLM_F_ACK), as auditctl builds it.
//   audit-send getppid FILE N   waits until FILE exists, then calls getppid N times and says so:
//                               started before auditing is first on, its calls are never audited.
//
// Sending AUDIT_USER needs CAP_AUDIT_WRITE, AUDIT_GET and AUDIT_ADD_RULE need CAP_AUDIT_CONTROL:
// root in the guest.
// Built with `cc -static -O2`: it must run in an initramfs that has nothing but busybox.
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/// auditd's own limit for one record (MAX_AUDIT_MESSAGE_LENGTH in libaudit.h).
enum { MESSAGE_MAX = 8970 };

static int open_audit(void) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0) { perror("audit-send: socket(NETLINK_AUDIT)"); exit(1); }
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) { perror("audit-send: bind"); exit(1); }
    return fd;
}

static void send_request(int fd, uint16_t type, uint16_t flags, uint32_t seq, const void *payload, size_t length) {
    char buffer[NLMSG_SPACE(MESSAGE_MAX)];
    memset(buffer, 0, sizeof buffer);
    struct nlmsghdr *header = (struct nlmsghdr *)buffer;
    header->nlmsg_len = NLMSG_LENGTH(length);
    header->nlmsg_type = type;
    header->nlmsg_flags = NLM_F_REQUEST | flags;
    header->nlmsg_seq = seq;
    memcpy(NLMSG_DATA(header), payload, length);
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, buffer, header->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        perror("audit-send: sendto");
        exit(1);
    }
}

/// Receives until the answer to `seq` of `want` type arrives (or its NLMSG_ERROR); copies a
/// non-error payload to `out`. Returns 0 or the positive errno the kernel answered.
static int receive_answer(int fd, uint32_t seq, uint16_t want, void *out, size_t out_length) {
    char buffer[NLMSG_SPACE(MESSAGE_MAX)];
    for (;;) {
        ssize_t got = recv(fd, buffer, sizeof buffer, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            perror("audit-send: recv");
            exit(1);
        }
        struct nlmsghdr *header = (struct nlmsghdr *)buffer;
        if ((size_t)got < sizeof *header || header->nlmsg_seq != seq) continue;
        if (header->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *error = NLMSG_DATA(header);
            if (error->error == 0 && want != NLMSG_ERROR) continue;  // ACK before the reply
            return -error->error;
        }
        if (header->nlmsg_type == want) {
            size_t length = (size_t)got - NLMSG_HDRLEN;
            memset(out, 0, out_length);
            memcpy(out, NLMSG_DATA(header), length < out_length ? length : out_length);
            return 0;
        }
    }
}

static int send_users(long count, const char *tag) {
    int fd = open_audit();
    for (long i = 1; i <= count; i++) {
        char text[256];
        int length = snprintf(text, sizeof text, "proof %s %ld", tag, i);
        send_request(fd, AUDIT_USER, NLM_F_ACK, (uint32_t)i, text, (size_t)length + 1);
        int error = receive_answer(fd, (uint32_t)i, NLMSG_ERROR, NULL, 0);
        if (error != 0) {
            fprintf(stderr, "audit-send: the kernel refused record %ld: %s\n", i, strerror(error));
            return 1;
        }
    }
    close(fd);
    return 0;
}

static int print_status(void) {
    int fd = open_audit();
    send_request(fd, AUDIT_GET, 0, 1, NULL, 0);
    struct audit_status status;
    int error = receive_answer(fd, 1, AUDIT_GET, &status, sizeof status);
    if (error != 0) { fprintf(stderr, "audit-send: AUDIT_GET refused: %s\n", strerror(error)); return 1; }
    printf("enabled=%u failure=%u pid=%u backlog_limit=%u lost=%u backlog=%u\n", status.enabled,
           status.failure, status.pid, status.backlog_limit, status.lost, status.backlog);
    close(fd);
    return 0;
}

/// One exit rule on getppid for x86_64 with a key: the struct audit_rule_data auditctl sends for
/// `-a always,exit -F arch=b64 -S getppid -k KEY` (audit_rule_data in linux/audit.h; the kernel
/// reads it in audit_data_to_entry, kernel/auditfilter.c).
static int add_rule(const char *key) {
    size_t key_length = strlen(key);
    size_t length = sizeof(struct audit_rule_data) + key_length;
    struct audit_rule_data *rule = calloc(1, length);
    if (rule == NULL) { perror("audit-send: calloc"); return 1; }
    rule->flags = AUDIT_FILTER_EXIT;
    rule->action = AUDIT_ALWAYS;
    rule->mask[SYS_getppid / 32] |= 1U << (SYS_getppid % 32);
    rule->fields[0] = AUDIT_ARCH;
    rule->values[0] = AUDIT_ARCH_X86_64;
    rule->fieldflags[0] = AUDIT_EQUAL;
    rule->fields[1] = AUDIT_FILTERKEY;
    rule->values[1] = (uint32_t)key_length;
    rule->fieldflags[1] = AUDIT_EQUAL;
    rule->field_count = 2;
    rule->buflen = (uint32_t)key_length;
    memcpy(rule->buf, key, key_length);
    int fd = open_audit();
    send_request(fd, AUDIT_ADD_RULE, NLM_F_ACK, 1, rule, length);
    int error = receive_answer(fd, 1, NLMSG_ERROR, NULL, 0);
    free(rule);
    close(fd);
    if (error != 0) { fprintf(stderr, "audit-send: AUDIT_ADD_RULE (getppid, key %s) refused: %s\n", key, strerror(error)); return 1; }
    return 0;
}

/// Waits for the trigger file, so a process started early makes its calls only once the daemon
/// runs, then calls getppid through syscall(2) (no libc cache in the way).
static int call_getppid(const char *trigger, long count) {
    for (int waited = 0; access(trigger, F_OK) != 0; waited++) {
        if (waited > 6000) { fprintf(stderr, "audit-send: no %s after 120 s\n", trigger); return 1; }
        usleep(20000);
    }
    long made = 0;
    for (long i = 0; i < count; i++) {
        if (syscall(SYS_getppid) > 0) made++;
    }
    printf("pid=%d getppid_calls=%ld\n", (int)getpid(), made);
    return made == count ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "send") == 0) return send_users(strtol(argv[2], NULL, 10), argv[3]);
    if (argc == 2 && strcmp(argv[1], "status") == 0) return print_status();
    if (argc == 3 && strcmp(argv[1], "rule") == 0) return add_rule(argv[2]);
    if (argc == 4 && strcmp(argv[1], "getppid") == 0) return call_getppid(argv[2], strtol(argv[3], NULL, 10));
    fprintf(stderr, "usage: audit-send send COUNT TAG | status | rule KEY | getppid TRIGGER-FILE COUNT\n");
    return 2;
}
