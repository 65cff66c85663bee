// The audited workload: N calls of getppid(2), timed.
//
// It prints its pid and waits for a line on stdin before it starts, so the driver can load a rule
// naming that pid first (`-F pid=PID`): only this loop is audited. The syscall is made directly
// (syscall(SYS_getppid)) so libc cannot cache or add calls, and each call is one audit event
// (SYSCALL + PROCTITLE + EOE). The kernel makes this loop wait when the audit daemon falls behind
// (backlog_wait_time), so its rate is the daemon's rate. Prints `events=N seconds=S`.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 300000;
    if (count <= 0) {
        fprintf(stderr, "usage: workload [COUNT]\n");
        return 2;
    }
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;  // the driver closed stdin: no rule, no run

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < count; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &end);

    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("events=%ld seconds=%.6f\n", count, seconds);
    return 0;
}
