// C helpers for the replay benchmark only: `struct mmsghdr` and sendmmsg(2) need _GNU_SOURCE,
// which Swift's Glibc module is not built with.
#ifndef REPLAY_SUPPORT_H
#define REPLAY_SUPPORT_H

#include <stddef.h>

/// Sends `count` (at most 64) datagrams with one sendmmsg(2): datagram i is `lengths[i]` bytes at
/// `base + offsets[i]`. Returns how many were sent, or -1 with errno set.
int ReplaySupport_send_batch(int fd, const void *base, const long *offsets, const long *lengths, unsigned count);

#endif
