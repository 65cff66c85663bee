#!/usr/bin/env python3
"""make bench, the exporter's case: swift-auditd-otlp's throughput into a local OTLP receiver.

A recorded stream (the golden ENRICHED log Debian's auditd 3.0.9 wrote, repeated with serials
moved on, with the EOE record auditd sends plugins after each syscall event) goes to the release
plugin's standard input from a file, at full rate. The plugin runs with `queue_full_action = block`
so that nothing is dropped and the rate is what it sustains end to end: stdin, reassembly, queue
(write and fsync), protobuf, HTTP to the Python receiver (Tests/OTLPExporterTests/Receiver,
--count-only: it decodes every request with opentelemetry-proto and keeps the stamps). Printed:
events/s from start to exit, the plugin's CPU per event (user + system, from wait4), and whether
every event arrived exactly once, and the receiver's CPU per event (from /proc); then the rate
beside swift-auditd's ENRICHED rate (the kernel benchmark's, measured in the same `make bench` run
or given with --daemon-rate): met, or NOT MET, by how much it falls behind, and where: the CPU the
plugin and the receiver would need at the daemon's rate beside the CPU they got.

Needs no root and no kernel: the plugin never touches it.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(ROOT, "Tests", "AuditdGoldenLogs", "auditd-3.0.9", "audit-enriched.log")
RECEIVER = os.path.join(ROOT, "Tests", "OTLPExporterTests", "Receiver", "otlp-receiver.py")
STAMP = re.compile(rb"msg=audit\((\d+\.\d+):(\d+)\)")
# The README's kernel benchmark run (make bench BENCH_ROUNDS=3): swift-auditd ENRICHED, events/s.
RECORDED_DAEMON_RATE = 189_412


def say(text):
    print(text, flush=True)


def process_cpu(pid):
    """User + system CPU seconds of a running process (and its finished threads), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_stream(path, events_wanted):
    """Writes the golden log repeated (serials + 1,000,000 per copy) with EOE after each syscall
    event's last record; returns (events, records, bytes)."""
    lines = open(GOLDEN, "rb").read().splitlines()
    stamps = [STAMP.search(line) for line in lines]
    last = {}
    syscall = set()
    for index, (line, match) in enumerate(zip(lines, stamps)):
        last[match.group(0)] = index
        if line.startswith(b"type=SYSCALL "):
            syscall.add(match.group(0))
    per_copy = len(last)
    copies = max(1, -(-events_wanted // per_copy))
    records = 0
    with open(path, "wb") as out:
        for copy in range(copies):
            chunk = []
            for index, (line, match) in enumerate(zip(lines, stamps)):
                time_part, serial = match.group(1), int(match.group(2)) + copy * 1_000_000
                stamp = b"msg=audit(%s:%d)" % (time_part, serial)
                chunk.append(line.replace(match.group(0), stamp, 1))
                if last[match.group(0)] == index and match.group(0) in syscall:
                    chunk.append(b"type=EOE " + stamp + b": ")
            records += len(chunk)
            out.write(b"\n".join(chunk) + b"\n")
    return copies * per_copy, records, os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="events in the stream (rounded up to whole copies)")
    parser.add_argument("--plugin", default=os.path.join(ROOT, ".build", "release", "swift-auditd-otlp"))
    parser.add_argument("--daemon-rate", type=float, help="swift-auditd ENRICHED events/s to compare with "
                        f"(default: the README's recorded kernel benchmark, {RECORDED_DAEMON_RATE:,})")
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="one more line of the plugin's configuration (batch_max_bytes=1048576, ...); repeatable")
    parser.add_argument("--profile", metavar="FILE", help="record the plugin with `perf record -g -o FILE` (its CPU figure then includes perf's overhead)")
    parser.add_argument("--receiver-no-decode", action="store_true", help="measurement only: the receiver answers 200 without "
                        "decoding, so the plugin's own limit shows; no event is checked and no verdict is printed")
    args = parser.parse_args()

    if not os.access(args.plugin, os.X_OK):
        say(f"exporter benchmark skipped: {args.plugin} is not built (make bench builds it)")
        return 0
    if subprocess.run([sys.executable, "-c", "import opentelemetry.proto.collector.logs.v1.logs_service_pb2"],
                      capture_output=True).returncode != 0:
        say("exporter benchmark skipped: python3 lacks opentelemetry-proto (make deps installs it)")
        return 0

    work = tempfile.mkdtemp(prefix="otlp-bench.")
    receiver = None
    try:
        stream = os.path.join(work, "stream.log")
        events, records, size = make_stream(stream, args.events)
        port_file, received = os.path.join(work, "port"), os.path.join(work, "received.jsonl")
        receiver = subprocess.Popen([sys.executable, RECEIVER, "--no-decode" if args.receiver_no_decode else "--count-only", "--port-file", port_file,
                                     "--output", received, "--requests", os.path.join(work, "requests.jsonl"),
                                     "--mode-file", os.path.join(work, "mode")])
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if time.monotonic() > deadline or receiver.poll() is not None:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.05)
        port = int(open(port_file).read())
        config = os.path.join(work, "swift-auditd-otlp.conf")
        with open(config, "w") as f:
            f.write(f"endpoint = http://127.0.0.1:{port}/v1/logs\nqueue_dir = {work}/queue\n"
                    "queue_max_bytes = 268435456\nqueue_full_action = block\nshutdown_timeout_seconds = 600\n")
            for setting in args.set:
                key, _, value = setting.partition("=")
                f.write(f"{key.strip()} = {value.strip()}\n")
        load = open("/proc/loadavg").read().split()[:3]
        settings = f" with {', '.join(args.set)}" if args.set else ""
        say(f"exporter benchmark{settings}: {events:,} events ({records:,} records, {size / 1e6:.0f} MB, ENRICHED, from the golden log) "
            f"through {os.path.relpath(args.plugin, ROOT)} into the local receiver; {os.cpu_count()} CPUs, load average {' '.join(load)}")
        with open(stream, "rb") as stdin, open(os.path.join(work, "plugin.log"), "wb") as log:
            start = time.monotonic()
            receiver_before = process_cpu(receiver.pid)
            command = [args.plugin, config]
            if args.profile:
                command = ["perf", "record", "-q", "-g", "-o", args.profile, "--"] + command
            plugin = subprocess.Popen(command, stdin=stdin, stderr=log)
            _, status, usage = os.wait4(plugin.pid, 0)
            seconds = time.monotonic() - start
            receiver_cpu = process_cpu(receiver.pid) - receiver_before
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"the plugin exited {os.waitstatus_to_exitcode(status)}: {open(os.path.join(work, 'plugin.log')).read()[-2000:]}")
        say(f"  receiver (python3, opentelemetry-proto{', NOT decoding: measurement only' if args.receiver_no_decode else ''}): "
            f"CPU {receiver_cpu:.2f} s = {receiver_cpu / events * 1e6:.1f} µs per event")
        if args.receiver_no_decode:
            say(f"  swift-auditd-otlp: {events / seconds:,.0f} events/s, {seconds:.2f} s, CPU {usage.ru_utime + usage.ru_stime:.2f} s "
                f"(user {usage.ru_utime:.2f}, sys {usage.ru_stime:.2f}) = {(usage.ru_utime + usage.ru_stime) / events * 1e6:.1f} µs per event; "
                "events not checked, no verdict")
            return 0
        stamps = []
        for line in open(received):
            stamps += json.loads(line)["stamps"]
        distinct = len(set(stamps))
        cpu = usage.ru_utime + usage.ru_stime
        rate = events / seconds
        say(f"  swift-auditd-otlp: {rate:,.0f} events/s ({records / seconds:,.0f} records/s), {seconds:.2f} s, "
            f"CPU {cpu:.2f} s (user {usage.ru_utime:.2f}, sys {usage.ru_stime:.2f}) = {cpu / events * 1e6:.1f} µs per event, "
            f"max RSS {usage.ru_maxrss / 1024:.1f} MiB; received {distinct:,} of {events:,} events"
            f" ({len(stamps) - distinct} duplicates), lost {events - distinct}")
        daemon = args.daemon_rate or RECORDED_DAEMON_RATE
        source = "this run's kernel benchmark" if args.daemon_rate else "the README's recorded kernel benchmark"
        if rate >= daemon and distinct == events:
            say(f"  met      keeps up with swift-auditd ENRICHED ({daemon:,.0f} events/s, {source}): {rate / daemon:.2f}x, 0 lost")
        else:
            behind = f"{rate / daemon:.2f}x of it, {daemon - rate:,.0f} events/s behind" if rate < daemon else "fast enough"
            lost = f", {events - distinct} lost" if distinct != events else ", 0 lost"
            say(f"  NOT MET  keeps up with swift-auditd ENRICHED ({daemon:,.0f} events/s, {source}): {behind}{lost}")
            # Where it falls behind: the CPU the plugin and the receiver would need at the daemon's rate
            # (each one's measured CPU per event times that rate), beside what they had in this run.
            say(f"  where    at {daemon:,.0f} events/s the plugin needs {cpu / events * daemon:.2f} CPUs and the receiver "
                f"{receiver_cpu / events * daemon:.2f} (their CPU per event times the rate) of the machine's {os.cpu_count()}; "
                f"in this run they got {cpu / seconds:.2f} and {receiver_cpu / seconds:.2f} (load average before it {' '.join(load)})")
    finally:
        if receiver and receiver.poll() is None:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
