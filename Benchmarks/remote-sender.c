// The remote sender: audisp-remote's wire protocol at full rate, for make bench-remote (issue 12).
//
// usage: remote-sender HOST PORT CONNECTIONS RECORDS WINDOW
//
// audisp-remote sends one record and waits for its ACK, so a server's rate under it is the round
// trip's. This sender keeps up to WINDOW frames unanswered on each of CONNECTIONS connections, so
// the rate is what the server can take. Its frames are the ones audisp-remote 3.0.9 sends
// (relay_sock_managed, audisp/plugins/remote/audisp-remote.c): the 16-byte managed header
// (lib/private.h's AUDIT_RMW_PACK_HEADER: magic 0xff0000fe, header version 0, message version 0,
// type MESSAGE, the record's length, a sequence id, little-endian) and the record without its
// newline. Sequence ids count from 1 on each connection.
//
// Every frame is built before the clock starts, so the sender spends its CPU on send(2) and
// recv(2) only (it shares the machine with the server). One thread polls every connection.
// Each reply must be an ACK (type 0x40000000) for a sequence id sent and not yet answered:
// anything else (DISKLOW, DISKFULL, ENDING, a second answer, an unknown id, the server closing
// early) counts as an error. The clock stops at the last ACK.
//
// Prints one line: `sent S acked A elapsed_s E errors X` (S and A over all connections).
// Exits 0 only when every frame got exactly one ACK and nothing else came.
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { header_size = 16, reply_buffer_size = 65536 };
static const uint32_t magic = 0xff0000feU, type_message = 0, type_ack = 0x40000000U, type_ending = 0x40000001U;

struct connection {
    int fd;
    unsigned records;
    char *frames;            // every frame of this connection, back to back
    size_t *ends;            // ends[i]: where frame i+1 (sequence id i+1) ends in `frames`
    size_t bytes_sent;       // of `frames`
    unsigned frames_sent;    // whole frames sent
    unsigned replies;        // replies that answered a frame (ACK or not)
    unsigned acked;
    unsigned char *answered; // answered[id] for ids 1...records
    unsigned char reply[reply_buffer_size];
    size_t reply_length;     // unread bytes in `reply`
    int done;
};

static long errors;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void put32(unsigned char *at, uint32_t value) {
    at[0] = value & 0xff; at[1] = (value >> 8) & 0xff; at[2] = (value >> 16) & 0xff; at[3] = (value >> 24) & 0xff;
}

static uint32_t get32(const unsigned char *at) {
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

// The frames remote-bench.py's audisp-remote rows send, as audisp-remote would frame them.
static void build_frames(struct connection *c, unsigned index, unsigned records) {
    size_t capacity = (size_t)records * 160 + 1;
    c->frames = malloc(capacity);
    c->ends = malloc(sizeof(size_t) * records);
    c->answered = calloc(records + 1, 1);
    if (!c->frames || !c->ends || !c->answered) { perror("malloc"); exit(2); }
    size_t at = 0;
    for (unsigned n = 0; n < records; n++) {
        unsigned char *header = (unsigned char *)c->frames + at;
        int length = snprintf(c->frames + at + header_size, capacity - at - header_size,
                              "type=USER msg=audit(1733300000.000:%u): pid=%u uid=0 auid=0 ses=1 "
                              "msg='op=remote-bench client=%u n=%u res=success'",
                              index * records + n, n, index, n);
        put32(header, magic);
        header[4] = 0;  // AUDIT_RMW_HEADER_VERSION
        header[5] = 0;  // message version, as audisp-remote packs it
        put32(header + 6, type_message);
        header[10] = length & 0xff;
        header[11] = (length >> 8) & 0xff;
        put32(header + 12, n + 1);
        at += header_size + (size_t)length;
        c->ends[n] = at;
    }
    c->records = records;
}

static int connect_to(const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found;
    int status = getaddrinfo(host, port, &hints, &found);
    if (status != 0) { fprintf(stderr, "remote-sender: %s: %s\n", host, gai_strerror(status)); exit(2); }
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) != 0) { perror("remote-sender: connect"); exit(2); }
    freeaddrinfo(found);
    // Frames leave as soon as the window allows; Nagle would hold a partial window for the
    // server's delayed ACK.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Sends what the window allows, without blocking.
static void send_window(struct connection *c, unsigned window) {
    unsigned limit = c->replies + window;
    if (limit > c->records) limit = c->records;
    if (limit == 0) return;
    size_t end = c->ends[limit - 1];
    while (c->bytes_sent < end) {
        ssize_t sent = send(c->fd, c->frames + c->bytes_sent, end - c->bytes_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            perror("remote-sender: send");
            errors++;
            c->done = 1;
            return;
        }
        c->bytes_sent += (size_t)sent;
    }
    while (c->frames_sent < c->records && c->ends[c->frames_sent] <= c->bytes_sent) c->frames_sent++;
}

// Reads the replies that arrived and checks each.
static void read_replies(struct connection *c) {
    for (;;) {
        ssize_t got = recv(c->fd, c->reply + c->reply_length, sizeof c->reply - c->reply_length, MSG_DONTWAIT);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return;
            perror("remote-sender: recv");
            errors++;
            c->done = 1;
            return;
        }
        if (got == 0) {
            fprintf(stderr, "remote-sender: the server closed a connection with %u of %u frames answered\n",
                    c->replies, c->records);
            errors++;
            c->done = 1;
            return;
        }
        c->reply_length += (size_t)got;
        size_t at = 0;
        while (c->reply_length - at >= header_size) {
            const unsigned char *header = c->reply + at;
            uint32_t type = get32(header + 6), id = get32(header + 12);
            size_t length = (size_t)header[10] | (size_t)header[11] << 8;
            if (get32(header) != magic) {
                fprintf(stderr, "remote-sender: a reply without the magic\n");
                errors++;
                c->done = 1;
                return;
            }
            if (c->reply_length - at < header_size + length) break;
            if (type == type_ending) {
                fprintf(stderr, "remote-sender: the server sent ENDING\n");
                errors++;
                c->done = 1;
                return;
            }
            if (id == 0 || id > c->frames_sent || c->answered[id]) {
                fprintf(stderr, "remote-sender: a reply for sequence id %u, %s\n", id,
                        id == 0 || id > c->frames_sent ? "never sent" : "already answered");
                errors++;
            } else {
                c->answered[id] = 1;
                c->replies++;
                if (type == type_ack) {
                    c->acked++;
                } else {
                    fprintf(stderr, "remote-sender: reply type 0x%08x for sequence id %u: %.*s\n", type, id,
                            (int)length, (const char *)header + header_size);
                    errors++;
                }
            }
            at += header_size + length;
        }
        memmove(c->reply, c->reply + at, c->reply_length - at);
        c->reply_length -= at;
        if (c->replies == c->records) {
            c->done = 1;
            return;
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: remote-sender HOST PORT CONNECTIONS RECORDS WINDOW\n");
        return 2;
    }
    unsigned count = (unsigned)strtoul(argv[3], NULL, 10);
    unsigned total = (unsigned)strtoul(argv[4], NULL, 10);
    unsigned window = (unsigned)strtoul(argv[5], NULL, 10);
    if (count == 0 || count > 1024 || window == 0 || total < count) {
        fprintf(stderr, "remote-sender: need 1...1024 connections, a window, and a record for each connection\n");
        return 2;
    }
    struct connection *connections = calloc(count, sizeof *connections);
    struct pollfd *polled = calloc(count, sizeof *polled);
    if (!connections || !polled) { perror("calloc"); return 2; }
    unsigned per_connection = total / count;
    for (unsigned i = 0; i < count; i++) build_frames(&connections[i], i, per_connection);
    for (unsigned i = 0; i < count; i++) connections[i].fd = connect_to(argv[1], argv[2]);

    long long started = now_ns(), last_progress = started;
    unsigned open = count;
    for (unsigned i = 0; i < count; i++) send_window(&connections[i], window);
    while (open > 0) {
        for (unsigned i = 0; i < count; i++) {
            struct connection *c = &connections[i];
            polled[i].fd = c->done ? -1 : c->fd;
            polled[i].events = POLLIN;
            if (c->bytes_sent < c->ends[c->records - 1] && c->frames_sent < c->replies + window) polled[i].events |= POLLOUT;
        }
        int ready = poll(polled, count, 1000);
        if (ready < 0 && errno != EINTR) { perror("remote-sender: poll"); return 2; }
        if (ready <= 0) {
            if (now_ns() - last_progress > 30LL * 1000000000LL) {
                fprintf(stderr, "remote-sender: no reply for 30 s\n");
                errors++;
                break;
            }
            continue;
        }
        last_progress = now_ns();
        open = 0;
        for (unsigned i = 0; i < count; i++) {
            struct connection *c = &connections[i];
            if (!c->done && polled[i].revents) {
                if (polled[i].revents & (POLLIN | POLLERR | POLLHUP)) read_replies(c);
                if (!c->done) send_window(c, window);
            }
            if (!c->done) open++;
        }
    }
    double elapsed = (double)(now_ns() - started) / 1e9;

    unsigned long long sent = 0, acked = 0;
    for (unsigned i = 0; i < count; i++) {
        sent += connections[i].frames_sent;
        acked += connections[i].acked;
        close(connections[i].fd);
    }
    if (acked != (unsigned long long)per_connection * count && errors == 0) errors++;
    printf("sent %llu acked %llu elapsed_s %.6f errors %ld\n", sent, acked, elapsed, errors);
    return errors == 0 ? 0 : 1;
}
