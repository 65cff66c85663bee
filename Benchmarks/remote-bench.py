#!/usr/bin/env python3
"""Remote logging, side by side (issue 12): K Debian audisp-remote clients into one central server.

For each server in turn, Debian's auditd 3.0.9 (`auditd -n -c DIR`, local_events = no, never
touching the kernel), swift-auditd's listener alone (`swift-auditd-remote-sink`, the listener with a
file writer) and the whole daemon (`swift-auditd run`, the same auditd.conf, local_events = no): start it on a free port, point
/etc/audit/audisp-remote.conf at it (saved and put back byte for byte, under the tests' lock),
start K audisp-remote processes, feed each N/K records on its standard input, close it, and wait
for every client to exit (audisp-remote exits 0 only when each record it read was ACKed). Then:

    records/s   records over the time from the first write to the last client's exit
    CPU s       the server's utime+stime from /proc/PID/stat, read before it is stopped
    us/record   server CPU per record
    on disk     the benchmark's records in the server's log
    allocs/rec  the listener's heap allocations per record, whole process (Benchmarks/malloc-count.c
                preloaded; the sink harness reports them at each DAEMON_CLOSE)

and stop the server by its pid. audisp-remote sends one record and waits for its ACK, so the rate
is the round trip's, per client. Skips (exit 0, reason printed) without root or audisp-remote.
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


def run(name, start, records, clients):
    directory = tempfile.mkdtemp(prefix="swift-auditd-remote-bench.")
    port = free_port()
    server = start(directory, port, clients)
    try:
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
                cpu_before = cpu_seconds(server.pid)
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
                cpu = cpu_seconds(server.pid) - cpu_before
            finally:
                with open(CONF, "r+b") as f:
                    f.truncate(0)
                    f.write(saved)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        on_disk = sum(1 for line in open(f"{directory}/audit.log", errors="replace") if "op=remote-bench" in line)
        sent = per_client * clients
        allocations = "-"
        if os.path.exists(f"{directory}/sink.err"):
            reports = [line.split() for line in open(f"{directory}/sink.err") if line.startswith("records ")]
            if reports:
                records_seen, allocated = int(reports[-1][1]), int(reports[-1][3])
                allocations = f"{allocated / max(records_seen, 1):.1f}"
        print(f"{name:<34} {clients:>3} {sent:>8} {elapsed:>7.2f} {sent / elapsed:>10.0f} {cpu:>6.2f} "
              f"{cpu * 1e6 / sent:>9.1f} {on_disk:>8} {allocations:>10}  exit {','.join(map(str, sorted(set(statuses))))}")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--sink", default=".build/release/swift-auditd-remote-sink")
    parser.add_argument("--malloc-count", default="Benchmarks/.build/libmalloc-count.so")
    parser.add_argument("--daemon", default=".build/release/swift-auditd")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("remote-bench: SKIP: needs root (audisp-remote reads /etc/audit/audisp-remote.conf)")
        return
    for tool in ("/sbin/audisp-remote", "/sbin/auditd"):
        if not os.access(tool, os.X_OK):
            print(f"remote-bench: SKIP: needs {tool} (apt-get install auditd audispd-plugins)")
            return
    print(f"{'server':<34} {'K':>3} {'records':>8} {'s':>7} {'records/s':>10} {'CPU s':>6} {'us/record':>9} {'on disk':>8} {'allocs/rec':>10}")
    for clients in args.clients:
        run("auditd 3.0.9 (ENRICHED, incr_async)", start_auditd, args.records, clients)
        run("swift-auditd listener (write, ACK)", lambda d, p, k: start_sink(args.sink, args.malloc_count, d, p, k), args.records, clients)
        run("swift-auditd run (ENRICHED, incr_async)", lambda d, p, k: start_daemon(args.daemon, d, p, k), args.records, clients)


if __name__ == "__main__":
    sys.exit(main())
