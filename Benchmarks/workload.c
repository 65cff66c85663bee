// The audited workload: N calls of getppid(2), timed.
//
// It prints its pid and waits for a line on stdin before it starts, so the driver can load a rule
// naming that pid first (`-F pid=PID`): only this loop is audited. The syscall is made directly
// (syscall(SYS_getppid)) so libc cannot cache or add calls, and each call is one audit event
// (SYSCALL + PROCTITLE + EOE). The kernel makes this loop wait when the audit daemon falls behind
// (backlog_wait_time), so its rate is the daemon's rate. Prints `events=N seconds=S`.
//
// With a second argument, SECONDS, it also stops after that long (SIGALRM) and N is the calls it
// made: a daemon that holds back the audited machine (auditd 3.0.9 with a stopped plugin) still
// ends the run. Without it the loop is the plain one, with no check per call.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t out_of_time;

static void on_alarm(int signal_number) {
    (void)signal_number;
    out_of_time = 1;
}

int main(int argc, char **argv) {
    long count = argc > 1 ? strtol(argv[1], NULL, 10) : 300000;
    long limit = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (count <= 0 || limit < 0) {
        fprintf(stderr, "usage: workload [COUNT [SECONDS]]\n");
        return 2;
    }
    if (limit > 0) {
        struct sigaction action = {0};
        action.sa_handler = on_alarm;
        sigemptyset(&action.sa_mask);
        sigaction(SIGALRM, &action, NULL);
    }
    printf("pid=%d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;  // the driver closed stdin: no rule, no run

    struct timespec start, end;
    long done = 0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (limit > 0) {
        alarm((unsigned)limit);
        for (; done < count && !out_of_time; done++) syscall(SYS_getppid);
    } else {
        for (long i = 0; i < count; i++) syscall(SYS_getppid);
        done = count;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);

    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("events=%ld seconds=%.6f\n", done, seconds);
    return 0;
}
