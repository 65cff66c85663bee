// The C side of swift-auditd: only what Swift cannot do by itself.
//
// - the kernel's netlink and audit headers (constants are re-declared in Swift by AuditProtocol and
//   pinned to these headers by tests);
// - wrappers for function-like macros, which Swift cannot import;
// - a batched receive that reports each datagram's sender port id, so the `sockaddr_nl` casts stay
//   out of Swift;
// - libaudit's message-type, machine and system-call name tables, the ones auditd and ausearch
//   use themselves.
//
// No buffering, policy or allocation happens here: the caller owns every byte.
#ifndef CAUDIT_H
#define CAUDIT_H

#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <poll.h>
#include <linux/netlink.h>
#include <linux/audit.h>

/// NLMSG_HDRLEN, the aligned size of `struct nlmsghdr`. A function-like macro in C.
static inline uint32_t CAudit_NLMSG_HDRLEN(void) { return (uint32_t)NLMSG_HDRLEN; }

/// NLMSG_ALIGN(len). A function-like macro in C.
static inline uint32_t CAudit_NLMSG_ALIGN(uint32_t len) { return (uint32_t)NLMSG_ALIGN(len); }

/// The group id of the read-only audit multicast group (`AUDIT_NLGRP_READLOG`, an enum in C).
static inline uint32_t CAudit_AUDIT_NLGRP_READLOG(void) { return (uint32_t)AUDIT_NLGRP_READLOG; }

/// One slot of a batched receive. The caller owns `base`; the other fields after `capacity` are
/// written by `CAudit_receive_batch`.
typedef struct {
    void *base;
    uint32_t capacity;
    /// Bytes stored at `base` (at most `capacity`).
    uint32_t length;
    /// The sender's netlink port id (0 is the kernel). Meaningful only when `has_netlink_sender`.
    uint32_t sender;
    /// 1 when the datagram came with a netlink source address (a netlink socket), 0 otherwise
    /// (one end of a socket pair, whose peer is fixed when the pair is made).
    int32_t has_netlink_sender;
    /// 1 when the datagram was longer than `capacity` and its tail was cut off by the receive.
    int32_t truncated;
} CAudit_Datagram;

/// Receives up to `count` datagrams with one `recvmmsg(2)` call.
///
/// `flags` is passed through (callers use `MSG_DONTWAIT`). Returns the number of slots filled, or
/// -1 with `errno` set. Exists because `struct mmsghdr` and `struct sockaddr_nl` are awkward to
/// build from Swift and the sender check must see every datagram's source address.
int CAudit_receive_batch(int fd, CAudit_Datagram *slots, unsigned int count, int flags);

/// Binds a netlink socket to an automatically chosen port id and the multicast `groups` bit mask
/// (0 for none). Returns 0 or -1 with `errno` set.
int CAudit_bind_netlink(int fd, uint32_t groups);

/// The port id the kernel gave a bound netlink socket, or 0 with `errno` set on failure.
uint32_t CAudit_netlink_port_id(int fd);

/// Sends `length` bytes from a netlink socket to the netlink port `port_id` (0 is the kernel).
/// Tests use a non-zero port id to forge a record from another process. Returns bytes sent or -1.
ssize_t CAudit_send_to_port(int fd, const void *bytes, size_t length, uint32_t port_id);

/// Waits for `count` descriptors as `poll`, for at most `timeout_ns` nanoseconds (negative: no limit),
/// with `ppoll`, which the Glibc module does not export without _GNU_SOURCE. The record loop waits
/// for fractions of a millisecond, which `poll`'s milliseconds cannot say.
int CAudit_poll_nanoseconds(struct pollfd *fds, unsigned long count, int64_t timeout_ns);

/// `pidfd_open(pid, 0)`: a descriptor that names one process, whatever later reuses its pid.
/// Returns the descriptor or -1 with `errno` set (ENOSYS before Linux 5.3). Exists because
/// `syscall(2)` is variadic, which Swift cannot call, and glibc wraps it only from 2.36 on.
int CAudit_pidfd_open(pid_t pid);

/// `pidfd_send_signal(pidfd, signal, NULL, 0)`, as `auditctl --signal` sends. Returns 0 or -1 with
/// `errno` set. Exists for the same reason as `CAudit_pidfd_open`.
int CAudit_pidfd_send_signal(int pidfd, int signal);

/// libaudit's name for an audit message type (`SYSCALL`, `PATH`, ...), or NULL when libaudit does
/// not know the type. auditd 3.0.9 names types with this same table.
const char *CAudit_message_type_name(int type);

/// libaudit's number for a message type name (`SYSCALL`, `UNKNOWN[1335]`, ...), or -1. auparse reads
/// a record's type back from its line with this, so tests use it to turn a line into a record.
int CAudit_message_type_number(const char *name);

/// The machine (libaudit's `machine_t`) an audit arch value (`AUDIT_ARCH_*`, the `arch=` field)
/// stands for, or -1 when libaudit does not know it.
int CAudit_machine_of_arch(unsigned int arch);

/// libaudit's name for a machine (`x86_64`, `i386`, `aarch64`, ...), or NULL.
const char *CAudit_machine_name(int machine);

/// The machine this process runs on, as libaudit detects it (`uname`), or -1.
int CAudit_detect_machine(void);

/// The last machine auparse 3.0.9 takes from a record's `arch=` field as is (`MACH_AARCH64`); a
/// larger one is read again from the field's text (`auparse/interpret.c: print_arch`).
int CAudit_last_direct_machine(void);

/// libaudit's name for system call `number` on `machine`, or NULL. The string is static.
const char *CAudit_system_call_name(int number, int machine);

/// `posix_spawn_file_actions_addclosefrom_np(actions, from)`: glibc declares it only under
/// `_GNU_SOURCE`, which Swift's Glibc module is not built with. A plugin must inherit no descriptor
/// of the daemon's but its standard input, whatever lacks `O_CLOEXEC`.
int CAudit_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

#endif
