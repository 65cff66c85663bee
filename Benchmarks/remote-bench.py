#!/usr/bin/env python3
"""Remote logging, side by side (issue 12): K clients into one central server.

For each server in turn, Debian's auditd 3.0.9 (`auditd -n -c DIR`, local_events = no, never
touching the kernel), swift-auditd's listener alone (`swift-auditd-remote-sink`, the listener with a
file writer) and the whole daemon (`swift-auditd run`, the same auditd.conf, local_events = no),
each started on a free port, two kinds of clients:

  audisp-remote     K Debian audisp-remote processes (the real peer): /etc/audit/audisp-remote.conf
                    pointed at the server (saved and put back byte for byte, under the tests'
                    lock), N/K records each on standard input; done when every client exited
                    (audisp-remote exits 0 only when each record it read was ACKed). It sends one
                    record and waits for its ACK, so the rate is the round trip's.
  remote-sender wW  Benchmarks/remote-sender.c: K connections speaking audisp-remote's protocol
                    (the same 16-byte header) with up to W frames unanswered on each, so the rate
                    is what the server takes; it checks each sequence id is answered exactly once,
                    with ACK, and its clock runs from the first frame to the last ACK.

Then:

    records/s   records over the clients' time
    CPU s       the server's utime+stime (every thread) from /proc/PID/stat, before it is stopped
    us/record   server CPU per record
    on disk     the benchmark's records in the server's log after it stopped
    lost        records sent and not on disk
    errors      replies that were not one ACK per record, clients that failed
    allocs/rec  the listener's heap allocations per record, whole process (Benchmarks/malloc-count.c
                preloaded; the sink harness reports them at each DAEMON_CLOSE)

and last, for each kind of client and each K, swift-auditd run against auditd 3.0.9 in the same
run: the rate ratio, the CPU-per-record ratio, and whether the issue's target (>= 3x the rate at
<= 0.3x the CPU per record, 0 lost) is MET. Skips (exit 0, reason printed) without root,
audisp-remote or the sender (make bench-tools).
"""

import argparse
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CONF = "/etc/audit/audisp-remote.conf"
LOCK = "/tmp/swift-auditd-audisp-remote-conf.lock"
AUDITD_CONF = """\
local_events = no
write_logs = yes
log_file = {dir}/audit.log
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
num_logs = 5
name_format = NONE
max_log_file = 0
max_log_file_action = IGNORE
space_left = 75
space_left_action = SYSLOG
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
use_libwrap = no
tcp_listen_port = {port}
tcp_listen_queue = 64
tcp_max_per_addr = {clients}
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
plugin_dir = {dir}/plugins
"""


def free_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_listening(port, process, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not listen")


def start_auditd(directory, port, clients):
    os.makedirs(f"{directory}/plugins")
    with open(f"{directory}/auditd.conf", "w") as f:
        f.write(AUDITD_CONF.format(dir=directory, port=port, clients=clients))
    os.chmod(f"{directory}/auditd.conf", 0o640)
    process = subprocess.Popen(["/sbin/auditd", "-n", "-c", directory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # auditd makes one DAEMON_ACCEPT/CLOSE for the probe connection; it is not counted.
    wait_listening(port, process)
    return process


def start_sink(binary, preload, directory, port, clients):
    environment = dict(os.environ)
    if preload and os.path.exists(preload):
        environment["LD_PRELOAD"] = os.path.abspath(preload)
    process = subprocess.Popen([binary, "--log", f"{directory}/audit.log", "--port", str(port), "--max-per-addr", str(clients)],
                               stdout=subprocess.DEVNULL, stderr=open(f"{directory}/sink.err", "w"), env=environment)
    wait_listening(port, process)
    return process


def start_daemon(binary, directory, port, clients):
    # The whole daemon as a central server: AUDITD_CONF's local_events = no keeps it off the kernel.
    os.makedirs(f"{directory}/plugins")
    with open(f"{directory}/auditd.conf", "w") as f:
        f.write(AUDITD_CONF.format(dir=directory, port=port, clients=clients))
    os.chmod(f"{directory}/auditd.conf", 0o640)
    process = subprocess.Popen([binary, "run", "-c", directory, "--run-directory", f"{directory}/run"],
                               stdout=subprocess.DEVNULL, stderr=open(f"{directory}/daemon.err", "w"))
    wait_listening(port, process)
    return process


def audisp_remote_clients(port, records, clients):
    """K audisp-remote processes, N/K records each on standard input; returns (sent, acked, seconds,
    errors). audisp-remote exits 0 only when each record it read was ACKed."""
    with open(LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = open(CONF, "rb").read()
        try:
            lines = []
            for line in saved.decode().split("\n"):
                key = line.split("=", 1)[0].strip()
                if key == "remote_server":
                    line = "remote_server = 127.0.0.1"
                elif key == "port":
                    line = f"port = {port}"
                lines.append(line)
            with open(CONF, "r+b") as f:
                f.truncate(0)
                f.write("\n".join(lines).encode())
            procs = [subprocess.Popen(["/sbin/audisp-remote"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL) for _ in range(clients)]
            per_client = records // clients
            started = time.monotonic()
            for index, proc in enumerate(procs):
                text = "".join(f"type=USER msg=audit(1733300000.000:{index * per_client + n}): pid={n} uid=0 auid=0 ses=1 "
                               f"msg='op=remote-bench client={index} n={n} res=success'\n" for n in range(per_client))
                proc.stdin.write(text.encode())
                proc.stdin.close()
            statuses = [proc.wait(timeout=600) for proc in procs]
            elapsed = time.monotonic() - started
        finally:
            with open(CONF, "r+b") as f:
                f.truncate(0)
                f.write(saved)
    sent = per_client * clients
    failed = sum(1 for status in statuses if status != 0)
    # audisp-remote exits 0 only when every record it read got its ACK.
    return sent, sent if failed == 0 else 0, elapsed, failed


def sender_clients(sender, window):
    """K connections of Benchmarks/remote-sender.c, each pipelining WINDOW frames; returns (sent, acked,
    seconds, errors) as it prints them (its clock runs from the first frame to the last ACK)."""
    def clients(port, records, k):
        result = subprocess.run([sender, "127.0.0.1", str(port), str(k), str(records), str(window)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        for line in result.stderr.splitlines()[:5]:
            print(f"  remote-sender: {line}")
        fields = result.stdout.split()
        if len(fields) != 8:
            raise RuntimeError(f"remote-sender printed {result.stdout!r} (exit {result.returncode})")
        values = dict(zip(fields[0::2], fields[1::2]))
        return int(values["sent"]), int(values["acked"]), float(values["elapsed_s"]), int(values["errors"])
    return clients


def run(name, start, send, records, clients):
    """One server, one kind of client: prints a row and returns (records/s, CPU s per record, lost)."""
    directory = tempfile.mkdtemp(prefix="swift-auditd-remote-bench.")
    port = free_port()
    server = start(directory, port, clients)
    try:
        cpu_before = cpu_seconds(server.pid)
        sent, acked, elapsed, errors = send(port, records, clients)
        cpu = cpu_seconds(server.pid) - cpu_before
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        on_disk = sum(1 for line in open(f"{directory}/audit.log", errors="replace") if "op=remote-bench" in line)
        allocations = "-"
        if os.path.exists(f"{directory}/sink.err"):
            reports = [line.split() for line in open(f"{directory}/sink.err") if line.startswith("records ")]
            if reports:
                records_seen, allocated = int(reports[-1][1]), int(reports[-1][3])
                allocations = f"{allocated / max(records_seen, 1):.2f}"
        lost = sent - on_disk
        # A reply that was not an ACK for a frame sent, a frame never answered, a client that failed.
        errors += 0 if acked == sent else 1
        print(f"{name:<42} {clients:>3} {sent:>8} {elapsed:>7.2f} {sent / elapsed:>10.0f} {cpu:>6.2f} "
              f"{cpu * 1e6 / sent:>9.2f} {on_disk:>8} {lost:>5} {errors:>6} {allocations:>10}", flush=True)
        return sent / elapsed, cpu / sent, lost, errors
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(directory, ignore_errors=True)


def compare(label, swift, auditd):
    """The issue's target: >= 3x auditd's rate at <= 0.3x its CPU per record, 0 lost."""
    rate_ratio = swift[0] / auditd[0]
    cpu_ratio = swift[1] / auditd[1] if auditd[1] > 0 else float("inf")
    met = rate_ratio >= 3 and cpu_ratio <= 0.3 and swift[2] == 0 and swift[3] == 0
    print(f"  {label:<24} rate {rate_ratio:5.2f}x  CPU/record {cpu_ratio:5.2f}x  lost {swift[2]}  errors {swift[3]}  "
          f"{'MET' if met else 'NOT MET'} (target >= 3x, <= 0.3x, 0 lost)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20000, help="records per row with audisp-remote clients")
    parser.add_argument("--sender-records", type=int, default=500000, help="records per row with remote-sender")
    parser.add_argument("--window", type=int, default=64, help="remote-sender's unanswered frames per connection")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--sink", default=".build/release/swift-auditd-remote-sink")
    parser.add_argument("--malloc-count", default="Benchmarks/.build/libmalloc-count.so")
    parser.add_argument("--sender", default="Benchmarks/.build/remote-sender")
    parser.add_argument("--daemon", default=".build/release/swift-auditd")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("remote-bench: SKIP: needs root (audisp-remote reads /etc/audit/audisp-remote.conf)")
        return
    for tool in ("/sbin/audisp-remote", "/sbin/auditd", args.sender):
        if not os.access(tool, os.X_OK):
            print(f"remote-bench: SKIP: needs {tool} (apt-get install auditd audispd-plugins; make bench-tools)")
            return
    servers = [
        ("auditd 3.0.9", start_auditd),
        ("swift-auditd listener", lambda d, p, k: start_sink(args.sink, args.malloc_count, d, p, k)),
        ("swift-auditd run", lambda d, p, k: start_daemon(args.daemon, d, p, k)),
    ]
    kinds = [
        ("audisp-remote", audisp_remote_clients, args.records),
        (f"remote-sender w{args.window}", sender_clients(args.sender, args.window), args.sender_records),
    ]
    print("servers: ENRICHED, incremental_async (listener: write, then ACK); lost = sent - on disk; "
          "errors = replies other than one ACK per record, failed clients")
    print(f"{'server <- clients':<42} {'K':>3} {'records':>8} {'s':>7} {'records/s':>10} {'CPU s':>6} "
          f"{'us/record':>9} {'on disk':>8} {'lost':>5} {'errors':>6} {'allocs/rec':>10}")
    results = {}
    for kind, send, records in kinds:
        for clients in args.clients:
            for server, start in servers:
                results[(kind, clients, server)] = run(f"{server} <- {kind}", start, send, records, clients)
    print("swift-auditd run against auditd 3.0.9, same clients, same run:")
    for kind, _, _ in kinds:
        for clients in args.clients:
            compare(f"{kind}, K={clients}", results[(kind, clients, "swift-auditd run")],
                    results[(kind, clients, "auditd 3.0.9")])


if __name__ == "__main__":
    sys.exit(main())
