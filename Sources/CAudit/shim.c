#include "CAudit.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libaudit.h>

// The Swift side mirrors these layouts byte for byte (AuditProtocol); a kernel header that changed
// them must fail the build rather than the wire.
_Static_assert(sizeof(struct nlmsghdr) == 16, "struct nlmsghdr is 16 bytes");
_Static_assert(NLMSG_HDRLEN == 16, "NLMSG_HDRLEN is 16");
_Static_assert(offsetof(struct audit_status, mask) == 0, "audit_status.mask first");
_Static_assert(offsetof(struct audit_status, backlog) == 28, "audit_status.backlog at 28");
_Static_assert(sizeof(struct nlmsgerr) == 20, "nlmsgerr: error + echoed header");
_Static_assert(offsetof(struct audit_sig_info, pid) == 4, "audit_sig_info: uid, pid, ctx");

enum { CAudit_max_batch = 256 };

int CAudit_receive_batch(int fd, CAudit_Datagram *slots, unsigned int count, int flags) {
    if (count > CAudit_max_batch) count = CAudit_max_batch;
    struct mmsghdr messages[CAudit_max_batch];
    struct iovec vectors[CAudit_max_batch];
    struct sockaddr_nl senders[CAudit_max_batch];
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        vectors[i].iov_base = slots[i].base;
        vectors[i].iov_len = slots[i].capacity;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &senders[i];
        messages[i].msg_hdr.msg_namelen = sizeof(senders[i]);
    }
    int received = recvmmsg(fd, messages, count, flags, NULL);
    for (int i = 0; i < received; i++) {
        const struct msghdr *header = &messages[i].msg_hdr;
        slots[i].length = messages[i].msg_len < slots[i].capacity ? messages[i].msg_len : slots[i].capacity;
        slots[i].truncated = (header->msg_flags & MSG_TRUNC) ? 1 : 0;
        if (header->msg_namelen >= sizeof(struct sockaddr_nl) && senders[i].nl_family == AF_NETLINK) {
            slots[i].has_netlink_sender = 1;
            slots[i].sender = senders[i].nl_pid;
        } else {
            slots[i].has_netlink_sender = 0;
            slots[i].sender = 0;
        }
    }
    return received;
}

int CAudit_bind_netlink(int fd, uint32_t groups) {
    struct sockaddr_nl address;
    memset(&address, 0, sizeof(address));
    address.nl_family = AF_NETLINK;
    address.nl_pid = 0;  // let the kernel choose the port id
    address.nl_groups = groups;
    return bind(fd, (const struct sockaddr *)&address, sizeof(address));
}

uint32_t CAudit_netlink_port_id(int fd) {
    struct sockaddr_nl address;
    socklen_t length = sizeof(address);
    memset(&address, 0, sizeof(address));
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    return address.nl_pid;
}

ssize_t CAudit_send_to_port(int fd, const void *bytes, size_t length, uint32_t port_id) {
    struct sockaddr_nl address;
    memset(&address, 0, sizeof(address));
    address.nl_family = AF_NETLINK;
    address.nl_pid = port_id;
    return sendto(fd, bytes, length, 0, (const struct sockaddr *)&address, sizeof(address));
}

const char *CAudit_message_type_name(int type) {
    return audit_msg_type_to_name(type);
}

int CAudit_poll_nanoseconds(struct pollfd *fds, unsigned long count, int64_t timeout_ns) {
    if (timeout_ns < 0) return ppoll(fds, (nfds_t)count, NULL, NULL);
    struct timespec limit = {.tv_sec = (time_t)(timeout_ns / 1000000000), .tv_nsec = (long)(timeout_ns % 1000000000)};
    return ppoll(fds, (nfds_t)count, &limit, NULL);
}

int CAudit_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int CAudit_pidfd_send_signal(int pidfd, int signal) {
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int CAudit_message_type_number(const char *name) {
    return audit_name_to_msg_type(name);
}

int CAudit_machine_of_arch(unsigned int arch) {
    return audit_elf_to_machine(arch);
}

const char *CAudit_machine_name(int machine) {
    return audit_machine_to_name(machine);
}

int CAudit_detect_machine(void) {
    return audit_detect_machine();
}

int CAudit_last_direct_machine(void) {
    return MACH_AARCH64;
}

const char *CAudit_system_call_name(int number, int machine) {
    return audit_syscall_to_name(number, machine);
}

int CAudit_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
