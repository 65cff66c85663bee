#define _GNU_SOURCE
#include "ReplaySupport.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

int ReplaySupport_send_batch(int fd, const void *base, const long *offsets, const long *lengths, unsigned count) {
    struct mmsghdr messages[64];
    struct iovec vectors[64];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(messages[0]) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)base + offsets[i];
        vectors[i].iov_len = (size_t)lengths[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, MSG_NOSIGNAL);
}
