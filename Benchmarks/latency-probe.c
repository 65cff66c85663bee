// The latency probe: how long an audited system call takes to reach the log file.
//
// usage: latency-probe LOGFILE COUNT INTERVAL_US
//
// It prints its pid and waits for a line on stdin, so the driver can load a rule naming that pid
// first (`-F pid=PID`): only its own calls are audited. It is started by the driver after auditing
// is switched on, so the kernel gave it an audit context (a task made before auditing was first
// enabled since boot never gets one). Then, COUNT times, INTERVAL_US apart: note the log's size,
// call getppid(2) directly, and wait (inotify, no spinning: the daemon has the CPU to itself)
// until the bytes after the noted size hold the event's SYSCALL line for getppid and the
// PROCTITLE line after it, the event's last logged record (auditd, like swift-auditd, does not
// write EOE).
// Prints `latencies_ns=N,N,...` (-1 for a call whose event did not appear within a second).
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Whether `bytes` hold a getppid SYSCALL line followed by a PROCTITLE line (x86_64: getppid is 110).
static int holds_event(const char *bytes, size_t length) {
    const char *syscall_line = memmem(bytes, length, "syscall=110 ", 12);
    if (!syscall_line) return 0;
    size_t offset = (size_t)(syscall_line - bytes);
    return memmem(syscall_line, length - offset, "type=PROCTITLE ", 15) != NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: latency-probe LOGFILE COUNT INTERVAL_US\n");
        return 2;
    }
    const char *path = argv[1];
    long count = strtol(argv[2], NULL, 10);
    long interval_us = strtol(argv[3], NULL, 10);
    int file = open(path, O_RDONLY | O_CLOEXEC);
    int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (file < 0 || watch < 0 || inotify_add_watch(watch, path, IN_MODIFY) < 0 || count <= 0) {
        perror("latency-probe: open or inotify");
        return 1;
    }
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;  // the driver closed stdin: no rule, no run

    static char window[1 << 20];
    long long *latencies = calloc((size_t)count, sizeof *latencies);
    char events[4096];
    for (long i = 0; i < count; i++) {
        struct stat info;
        if (fstat(file, &info) != 0) return 1;
        off_t from = info.st_size;
        while (read(watch, events, sizeof events) > 0) {}  // forget older changes
        long long start = now_ns();
        syscall(SYS_getppid);
        long long found = -1;
        size_t have = 0;
        while (now_ns() - start < 1000000000LL) {
            ssize_t got = pread(file, window + have, sizeof window - have, from + (off_t)have);
            if (got > 0) {
                have += (size_t)got;
                if (holds_event(window, have)) {
                    found = now_ns() - start;
                    break;
                }
                if (have == sizeof window) break;
                continue;
            }
            struct pollfd ready = {.fd = watch, .events = POLLIN};
            poll(&ready, 1, 100);
            while (read(watch, events, sizeof events) > 0) {}
        }
        latencies[i] = found;
        struct timespec pause = {.tv_sec = interval_us / 1000000, .tv_nsec = (interval_us % 1000000) * 1000};
        nanosleep(&pause, NULL);
    }
    printf("latencies_ns=");
    for (long i = 0; i < count; i++) printf(i ? ",%lld" : "%lld", latencies[i]);
    printf("\n");
    return 0;
}
