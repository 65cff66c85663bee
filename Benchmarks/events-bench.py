#!/usr/bin/env python3
"""follow's speed against ausearch's (issue 13), on a large log made from the golden one.

Builds a log of --size-mib MiB (default 1024) from Tests/AuditdGoldenLogs/auditd-3.0.9/audit-enriched.log,
the lines Debian's auditd 3.0.9 wrote on this machine: its events again and again, every stamp
moved on so that seconds and serials keep rising (round r adds r * (the log's span + 1) seconds
and r * (its serial span + 1) to the serial), the interleaving of events within a round kept. With
--varied, each round also moves every pid= and ppid= on by r and every SYSCALL record's a1= by
16 * r, so that records repeat only as often as a real log's do (the commands, paths and users
repeat; the processes and pointers do not): a harder case for follow's memory of whole records,
measured the same way, for which the issue sets no target. Then:

    ausearch -i --input LOG                        wall time
    swift-auditd follow --no-follow --format interpreted LOG   wall time; its output compared with ausearch's
    swift-auditd follow --no-follow --format json LOG          wall time, MB/s of log read
    swift-auditd follow --no-follow --format lines LOG         wall time (the floor: reading and grouping)

and the peak RSS of each follow run (ru_maxrss of the child), which must not grow with the log.
Targets (issue 13): interpreted at least 10x faster than ausearch with the same output; json at
least 200 MB/s. A missed target prints NOT MET and the script exits 1. Reads no kernel state: no
lock needed. The log and outputs go to --work (default: a directory under /tmp, removed at the end).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "Tests/AuditdGoldenLogs/auditd-3.0.9/audit-enriched.log")


def stamp_of(line):
    start = line.index(b"audit(") + 6
    end = line.index(b")", start)
    seconds, rest = line[start:end].split(b".")
    milli, serial = rest.split(b":")
    return start, end, int(seconds), milli, int(serial)


PROCESS = re.compile(rb"\b(pid|ppid)=(\d+)")
SECOND_ARGUMENT = re.compile(rb"\ba1=([0-9a-f]+)")


def varied(body, is_syscall, round_number):
    """The record's fields after its stamp, with its process ids (and a SYSCALL's a1) moved on."""
    body = PROCESS.sub(lambda m: b"%s=%d" % (m.group(1), int(m.group(2)) + round_number), body)
    if is_syscall:
        body = SECOND_ARGUMENT.sub(lambda m: b"a1=%x" % (int(m.group(1), 16) + 16 * round_number), body)
    return body


def build_log(path, size, vary=False):
    lines = open(GOLDEN, "rb").read().splitlines(keepends=True)
    parsed = [(line, *stamp_of(line)) for line in lines]
    first_second = min(p[3] for p in parsed)
    last_second = max(p[3] for p in parsed)
    first_serial = min(p[5] for p in parsed)
    last_serial = max(p[5] for p in parsed)
    second_span = last_second - first_second + 1
    serial_span = last_serial - first_serial + 1
    written = 0
    round_number = 0
    with open(path, "wb", buffering=1 << 22) as out:
        while written < size:
            chunk = []
            for line, start, end, second, milli, serial in parsed:
                new_second = second + round_number * second_span
                new_serial = serial + round_number * serial_span
                rest = varied(line[end:], b"type=SYSCALL " in line[:start], round_number) if vary else line[end:]
                chunk.append(b"%s%d.%s:%d%s" % (line[:start], new_second, milli, new_serial, rest))
            data = b"".join(chunk)
            out.write(data)
            written += len(data)
            round_number += 1
    return written


def timed(command, output_path):
    """Runs command with stdout to output_path; returns (seconds, peak RSS in KiB)."""
    with open(output_path, "wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        stderr = process.stderr.read().decode(errors="replace")
        process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{command[0]} exited {code}: {stderr.strip()}")
    return elapsed, usage.ru_maxrss


def same_files(a, b):
    return subprocess.run(["cmp", "-s", a, b]).returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/swift-auditd"))
    parser.add_argument("--work", default=None)
    parser.add_argument("--varied", action="store_true", help="records that do not repeat whole (no target)")
    arguments = parser.parse_args()
    ausearch = shutil.which("ausearch") or "/usr/sbin/ausearch"
    if not os.access(ausearch, os.X_OK):
        print("events bench: SKIP, ausearch is not installed (apt-get install auditd)")
        return 0
    if not os.access(arguments.binary, os.X_OK):
        sys.exit(f"events bench: {arguments.binary} is not built (make build)")
    work = arguments.work or tempfile.mkdtemp(prefix="swift-auditd-events-bench.")
    os.makedirs(work, exist_ok=True)
    try:
        log = os.path.join(work, "audit.log")
        started = time.monotonic()
        size = build_log(log, arguments.size_mib << 20, vary=arguments.varied)
        mib = size / (1 << 20)
        kind = ", pids and a1 varied" if arguments.varied else ""
        print(f"events bench: {mib:.0f} MiB log ({size} bytes) from {os.path.relpath(GOLDEN, ROOT)}{kind} in {time.monotonic() - started:.1f} s")
        follow = [arguments.binary, "follow", "--no-follow", "-c", work]
        # Timed runs write to /dev/null: writing a gigabyte to disk would time the disk. The outputs
        # are then made again, untimed, into files and compared.
        a_time, a_rss = timed([ausearch, "-i", "--input", log], os.devnull)
        i_time, i_rss = timed(follow + ["--format", "interpreted", log], os.devnull)
        j_time, j_rss = timed(follow + ["--format", "json", log], os.devnull)
        l_time, l_rss = timed(follow + ["--format", "lines", log], os.devnull)
        ausearch_output = os.path.join(work, "ausearch.out")
        interpreted_output = os.path.join(work, "interpreted.out")
        timed([ausearch, "-i", "--input", log], ausearch_output)
        timed(follow + ["--format", "interpreted", log], interpreted_output)
        same = same_files(ausearch_output, interpreted_output)
        os.unlink(interpreted_output)
        ratio = a_time / i_time
        json_rate = size / j_time / 1e6
        print(f"  {'run':<34} {'seconds':>8} {'MB/s':>8} {'max RSS MiB':>12}")
        for name, seconds, rss in [
            ("ausearch -i --input", a_time, a_rss),
            ("follow --format interpreted", i_time, i_rss),
            ("follow --format json", j_time, j_rss),
            ("follow --format lines", l_time, l_rss),
        ]:
            print(f"  {name:<34} {seconds:8.2f} {size / seconds / 1e6:8.1f} {rss / 1024:12.1f}")
        failed = False
        if arguments.varied:
            print(f"  interpreted vs ausearch -i: {ratio:.1f}x faster (no target for this log)")
            print(f"  json: {json_rate:.0f} MB/s (no target for this log)")
        else:
            verdict = "met" if ratio >= 10 else "NOT MET"
            failed |= ratio < 10
            print(f"  interpreted vs ausearch -i: {ratio:.1f}x faster (target 10x: {verdict})")
            verdict = "met" if json_rate >= 200 else "NOT MET"
            failed |= json_rate < 200
            print(f"  json: {json_rate:.0f} MB/s (target 200 MB/s: {verdict})")
        print(f"  interpreted output equals ausearch -i's: {'yes' if same else 'NO (NOT MET)'}")
        failed |= not same
        print(f"  ausearch -i output {os.path.getsize(ausearch_output)} bytes; follow's peak RSS stays at "
              f"{max(i_rss, j_rss, l_rss) / 1024:.0f} MiB for a {mib:.0f} MiB log")
        return 1 if failed else 0
    finally:
        if arguments.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
