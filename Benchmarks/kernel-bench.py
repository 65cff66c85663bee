#!/usr/bin/env python3
"""Side-by-side benchmark of audit daemons on the real kernel (issue 5).

For each reader in turn: raise backlog_limit to 8192, start the reader (it registers itself as the
kernel's audit daemon), load one rule that audits only the workload's getppid calls, run the
workload (a C loop of N getppid calls), wait until the reader has caught up, then measure:

    events/s      the workload's own rate (the kernel makes it wait when the reader falls behind)
    CPU s         the reader's utime+stime from /proc/PID/stat, read before it is stopped
    on disk       events (SYSCALL lines with the rule's key) and records (lines of those events)
    lost          the kernel's `lost` counter, after minus before
    max RSS       VmHWM from /proc/PID/status, read before it is stopped

then stop the reader by its pid, delete the rule, and put backlog_limit and enabled back. While the
workload runs, the log's size is sampled every 2 ms: the longest pause in its growth bounds how long
a record waited in the reader's memory under full load.

The latency case (auditd 3.0.9 and swift-auditd, Debian's shipped settings: ENRICHED,
incremental_async, freq 50) runs a probe instead (latency-probe.c): LATENCY_CALLS audited getppid
calls, LATENCY_INTERVAL_US apart, each timed from the call until the log holds its event; p50, p99
and max for both, and the ratio.

The plugin cases (issue 11; ENRICHED, Debian's settings) attach one string plugin to each daemon
through a plugins.d of the bench's own (`plugin_dir` in each daemon's auditd.conf; the other cases
get an empty one): a root-owned 0750 script that runs `exec /bin/cat > /dev/null`, so the plugin is
the daemon's child `cat`. "reading": the plugin runs; its CPU is measured apart from the daemon's.
"stopped": it gets SIGSTOP as soon as the daemon has started it, and stays stopped until the log has
been counted; then SIGCONT and the daemon's stop end it (SIGKILL by pid if it outlives that by 5 s).
auditd 3.0.9 with a stopped plugin holds back its log and the audited machine, so its workload
there also ends after --stopped-seconds (plus at most one kernel backlog wait, backlog_wait_time,
60 s on Debian's kernel), and its rate is the calls made over the time taken. swift-auditd is
judged against: reading, >= 3.0x auditd's rate and <= 0.25x its daemon CPU, 0 lost, every event on
disk; stopped, >= 0.9x its own rate with no plugin (swift-enriched), every record on disk.

The whole
run holds /tmp/swift-auditd-kernel.lock (see notes/COORDINATION.md) and checks at the end that
`auditctl -s` and `auditctl -l` show what they showed at the start.

Skips, with the reason printed and exit status 0, when not root, when auditctl is missing, or when
another process is registered with the kernel. Readers that are not installed or not built are
skipped one by one (Debian's auditd: `apt-get install -y auditd`).
"""

import argparse
import fcntl
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

KEY = "swift-auditd-bench"
LOCK_PATH = "/tmp/swift-auditd-kernel.lock"
BACKLOG_LIMIT = 8192
LATENCY_CALLS = 200
LATENCY_INTERVAL_US = 5000
# swift-auditd's batch window: the longest a record may wait in memory while records keep coming.
WINDOW_MS = 20
# How often the log's size is sampled while the workload runs.
SAMPLE_MS = 2
DEBIAN_CONF = "/etc/audit/auditd.conf"
# Debian's shipped auditd.conf (3.0.9), used when the file is not on this machine. Only log_file,
# log_format, flush, freq and max_log_file_action are changed for the benchmark.
SHIPPED_CONF = """\
local_events = yes
write_logs = yes
log_file = /var/log/audit/audit.log
log_group = adm
log_format = ENRICHED
flush = INCREMENTAL_ASYNC
freq = 50
max_log_file = 8
num_logs = 5
priority_boost = 4
name_format = NONE
max_log_file_action = ROTATE
space_left = 75
space_left_action = SYSLOG
verify_email = yes
action_mail_acct = root
admin_space_left = 50
admin_space_left_action = SUSPEND
disk_full_action = SUSPEND
disk_error_action = SUSPEND
use_libwrap = yes
tcp_listen_queue = 5
tcp_max_per_addr = 1
tcp_client_max_idle = 0
transport = TCP
krb5_principal = auditd
distribute_network = no
q_depth = 2000
overflow_action = SYSLOG
max_restarts = 10
plugin_dir = /etc/audit/plugins.d
end_of_event_timeout = 2
"""


def say(*parts):
    print(*parts, flush=True)


def run(*argv, check=True, timeout=10):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def kernel_status():
    """`auditctl -s` as a dict of ints (the loginuid line is left as text)."""
    status = {}
    for line in run("auditctl", "-s").splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            value = parts[1].strip()
            status[parts[0]] = int(value) if value.lstrip("-").isdigit() else value
    return status


def kernel_rules():
    return run("auditctl", "-l").strip()


def rule_args(pid):
    return ["always,exit", "-F", "arch=b64", "-S", "getppid", "-F", f"pid={pid}", "-k", KEY]


def process_cpu_split(pid):
    """(utime, stime) of the whole process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def process_cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    return sum(process_cpu_split(pid))


def bytes_read(pid):
    """`rchar` from /proc/PID/io: every byte the process has read (for the plugin: what the daemon
    sent it, plus a few KiB the shell and the loader read before `cat` ran)."""
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return 0


def max_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def command_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


STAMP = re.compile(rb"msg=audit\(\d+\.\d+:(\d+)\)")


def count_on_disk(directory):
    """Events (SYSCALL lines with the key) and records (every line of those events) in every log
    file in `directory` (rotated ones too). Also whether the SYSCALL lines carry ENRICHED fields."""
    key = f'key="{KEY}"'.encode()
    lines_by_serial = {}
    event_serials = set()
    enriched_lines = 0
    for name in sorted(os.listdir(directory)):
        if not name.startswith("audit.log"):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            for line in f:
                match = STAMP.search(line)
                if not match:
                    continue
                serial = match.group(1)
                lines_by_serial[serial] = lines_by_serial.get(serial, 0) + 1
                if key in line and line.startswith(b"type=SYSCALL"):
                    event_serials.add(serial)
                    if b"\x1d" in line:
                        enriched_lines += 1
    records = sum(lines_by_serial[s] for s in event_serials)
    written = "ENRICHED" if event_serials and enriched_lines == len(event_serials) else (
        "RAW" if enriched_lines == 0 else "mixed")
    return len(event_serials), records, written


def file_size(directory):
    total = 0
    for name in os.listdir(directory):
        if name.startswith("audit.log"):
            total += os.path.getsize(os.path.join(directory, name))
    return total


def write_auditd_conf(directory, log_format, plugin_dir):
    try:
        with open(DEBIAN_CONF) as f:
            text = f.read()
    except OSError:
        text = SHIPPED_CONF
    wanted = {
        "log_file": os.path.join(directory, "audit.log"),
        "log_format": log_format,
        "flush": "INCREMENTAL_ASYNC",
        "freq": "50",
        # The run writes ~100 MB; rotating at 8 MB into 5 files would delete records before they
        # are counted.
        "max_log_file_action": "IGNORE",
        # The bench's own plugins.d: empty, or the one discarding plugin of the plugin cases. The
        # machine's /etc/audit/plugins.d is never read.
        "plugin_dir": plugin_dir,
    }
    lines = []
    for line in text.splitlines():
        keyword = line.split("=", 1)[0].strip().lower() if "=" in line and not line.lstrip().startswith("#") else None
        if keyword in wanted:
            lines.append(f"{keyword} = {wanted.pop(keyword)}")
        else:
            lines.append(line)
    lines += [f"{k} = {v}" for k, v in wanted.items()]
    path = os.path.join(directory, "auditd.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o640)


class Skip(Exception):
    pass


class Case:
    def __init__(self, name, format_asked, command, needs_conf, latency=False, plugin=None, bounded=False):
        self.name = name
        self.format_asked = format_asked
        self.command = command  # a function of the temporary directory
        self.needs_conf = needs_conf
        # Time single calls to the file (latency-probe) instead of a full-rate workload.
        self.latency = latency
        # None, "running" or "stopped": the discarding string plugin attached, and whether it is
        # stopped (SIGSTOP) for the whole run.
        self.plugin = plugin
        # The workload also ends after --stopped-seconds (a daemon that holds back the audited
        # machine); the rate is the calls it made over the time it ran.
        self.bounded = bounded


class GrowthWatcher:
    """Samples the log's size every SAMPLE_MS on a thread of its own while the workload runs; the
    longest time it stayed the same, from the first growth on, bounds how long any record waited
    in the reader's memory (a write takes everything buffered)."""

    def __init__(self, directory):
        self.directory = directory
        self.longest = 0.0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self):
        # `since`: when the log last grew; None until it first grows under the workload.
        size, since = None, None
        while not self.stopped.wait(SAMPLE_MS / 1000):
            try:
                now_size = file_size(self.directory)
            except OSError:
                continue
            now = time.monotonic()
            if size is None:
                size = now_size
            elif now_size != size:
                if since is not None:
                    self.longest = max(self.longest, now - since)
                size, since = now_size, now

    def stop(self):
        """The longest pause in growth, in ms (the pause after the workload ended is not counted)."""
        self.stopped.set()
        self.thread.join()
        return self.longest * 1000


def stop_process(process, timeout):
    """SIGTERM by pid, then SIGKILL after `timeout` seconds. Returns the exit status."""
    if process.poll() is not None:
        return process.returncode
    os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        return process.wait(timeout=10)


def wait_until_caught_up(reader, directory, deadline):
    """Until the kernel's backlog is empty and the reader has stopped using CPU and writing."""
    previous = None
    steady = 0
    while time.monotonic() < deadline:
        if reader.poll() is not None:
            raise RuntimeError(f"reader exited early with status {reader.returncode}")
        sample = (kernel_status().get("backlog", 0), process_cpu_seconds(reader.pid), file_size(directory))
        if sample[0] == 0 and sample == previous:
            steady += 1
            if steady >= 2:
                return True
        else:
            steady = 0
        previous = sample
        time.sleep(0.25)
    return False


# The plugin of the plugin cases: reads what the daemon sends and discards it. `exec` makes the
# daemon's child `cat` itself, so SIGSTOP stops the reader of the socket and its CPU is cat's.
PLUGIN_SCRIPT = "#!/bin/sh\nexec /bin/cat > /dev/null\n"
PLUGIN_NAME = "discard"


def make_plugin_dir(directory, with_plugin):
    """The bench's own plugins.d in `directory`: empty, or one active string plugin running
    PLUGIN_SCRIPT (root-owned, 0750, outside plugins.d: auditd reads every file there as a plugin's
    configuration). Returns the plugins.d path."""
    plugins = os.path.join(directory, "plugins.d")
    os.mkdir(plugins, 0o750)
    if with_plugin:
        program = os.path.join(directory, PLUGIN_NAME)
        with open(program, "w") as f:
            f.write(PLUGIN_SCRIPT)
        os.chmod(program, 0o750)
        conf = os.path.join(plugins, PLUGIN_NAME + ".conf")
        with open(conf, "w") as f:
            f.write(f"active = yes\ndirection = out\npath = {program}\ntype = always\nformat = string\n")
        os.chmod(conf, 0o640)
    return plugins


def process_identity(pid):
    """(parent pid, command name, start time, state) from /proc/PID/stat, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime).
    return int(fields[1]), name, int(fields[19]), fields[0]


class PluginProcess:
    """The daemon's plugin child, found by its parent pid once it runs `cat`; signalled only while
    /proc still shows the same process (pid and start time)."""

    def __init__(self, pid, start_time):
        self.pid, self.start_time = pid, start_time

    @staticmethod
    def find(daemon_pid, deadline):
        while time.monotonic() < deadline:
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    identity = process_identity(int(entry))
                    if identity and identity[0] == daemon_pid and identity[1] == "cat":
                        return PluginProcess(int(entry), identity[2])
            time.sleep(0.02)
        raise RuntimeError(f"no plugin (cat) started by pid {daemon_pid} within 10 s")

    def alive(self):
        identity = process_identity(self.pid)
        return identity is not None and identity[2] == self.start_time and identity[3] != "Z"

    def state(self):
        identity = process_identity(self.pid)
        return identity[3] if identity and identity[2] == self.start_time else None

    def signal(self, number):
        if self.alive():
            os.kill(self.pid, number)

    def stop(self):
        """SIGSTOP, and wait until the kernel shows it stopped."""
        self.signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while self.state() not in ("T", "t"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"plugin pid {self.pid} did not stop")
            time.sleep(0.01)

    def end(self, wait):
        """SIGCONT; then, if the daemon's stop left it running after `wait` seconds, SIGKILL.
        Returns whether it had to be killed."""
        self.signal(signal.SIGCONT)
        deadline = time.monotonic() + wait
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.alive():
            self.signal(signal.SIGKILL)
            return True
        return False


def run_case(case, args, workload_path):
    directory = tempfile.mkdtemp(prefix="swift-auditd-bench.")
    os.chmod(directory, 0o700)
    row = {"reader": case.name, "asked": case.format_asked}
    reader = workload = profiler = plugin = None
    rule_loaded = None
    before = kernel_status()
    try:
        if case.needs_conf:
            write_auditd_conf(directory, case.format_asked, make_plugin_dir(directory, case.plugin is not None))
        run("auditctl", "-b", str(BACKLOG_LIMIT))
        stderr = open(os.path.join(directory, "reader.err"), "w")
        reader = subprocess.Popen(case.command(directory), stdin=subprocess.DEVNULL, stdout=stderr,
                                  stderr=stderr, cwd=directory)
        deadline = time.monotonic() + 10
        while kernel_status().get("pid") != reader.pid:
            if reader.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{case.name} did not register (status {reader.poll()}); "
                                   f"see {directory}/reader.err")
            time.sleep(0.05)
        if kernel_status().get("enabled") != 1:
            run("auditctl", "-e", "1")
        if case.plugin:
            plugin = PluginProcess.find(reader.pid, time.monotonic() + 10)
            row["plugin_pid"] = plugin.pid
            if case.plugin == "stopped":
                plugin.stop()
        if args.profile:
            profiler = subprocess.Popen(args.profile.format(pid=reader.pid, reader=case.name.split()[0],
                                                            format=case.format_asked.lower()),
                                        shell=True, start_new_session=True)
            time.sleep(0.5)

        if case.latency:
            log_path = os.path.join(directory, "audit.log")
            while not os.path.exists(log_path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{case.name} made no {log_path}")
                time.sleep(0.01)
            # Made now, after auditing is on: only then does the kernel give a task an audit context.
            command = [args.probe, log_path, str(LATENCY_CALLS), str(LATENCY_INTERVAL_US)]
        else:
            command = [workload_path, str(args.events)]
            if case.bounded:
                command.append(str(args.stopped_seconds))
        workload = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        workload_pid = int(workload.stdout.readline().strip().split("=")[1])
        run("auditctl", "-a", *rule_args(workload_pid))
        rule_loaded = workload_pid
        status_before = kernel_status()
        lost_before = status_before["lost"]
        waited_before = status_before.get("backlog_wait_time_actual", 0)
        watcher = None if case.latency else GrowthWatcher(directory)
        workload.stdin.write("go\n")
        workload.stdin.close()
        # A bounded workload ends itself after --stopped-seconds, unless the kernel holds it in a
        # backlog wait (at most backlog_wait_time) when the time is up.
        timeout = args.stopped_seconds + 90 if case.bounded else args.timeout
        try:
            workload.wait(timeout=timeout)
            output = workload.stdout.read()
        except subprocess.TimeoutExpired:
            workload.kill()
            workload.wait()
            raise RuntimeError(f"the workload did not finish within {timeout} s")
        finally:
            if watcher is not None:
                row["longest_pause_ms"] = watcher.stop()
        if case.latency:
            match = re.search(r"latencies_ns=([-\d,]+)", output)
            if not match:
                raise RuntimeError(f"the latency probe printed {output!r}")
            latencies = [int(v) for v in match.group(1).split(",")]
            events, seconds = len(latencies), None
            row["missing"] = sum(1 for v in latencies if v < 0)
            row["latencies_ms"] = sorted(v / 1e6 for v in latencies if v >= 0)
        else:
            match = re.search(r"events=(\d+) seconds=([\d.]+)", output)
            if not match:
                raise RuntimeError(f"the workload printed {output!r}")
            events, seconds = int(match.group(1)), float(match.group(2))
            row["events_per_s"] = events / seconds
            row["workload_s"] = seconds

        # A daemon held back by its stopped plugin never catches up: 10 s is enough to see that.
        catch_up_s = 10 if case.bounded else 60
        caught_up = wait_until_caught_up(reader, directory, time.monotonic() + catch_up_s)
        row["user_s"], row["sys_s"] = process_cpu_split(reader.pid)
        if plugin is not None:
            row["plugin_cpu_s"] = process_cpu_seconds(plugin.pid) if plugin.alive() else None
            row["plugin_read_mib"] = bytes_read(plugin.pid) / 2**20 if plugin.alive() else None
            row["plugin_state"] = plugin.state()
        row["cpu_s"] = row["user_s"] + row["sys_s"]
        row["rss_mib"] = max_rss_kib(reader.pid) / 1024
        status_after = kernel_status()
        row["lost"] = status_after["lost"] - lost_before
        # How long the kernel made audited tasks wait for the reader (backlog full), as the kernel
        # counts it (audit_backlog_wait_time_actual).
        row["waited"] = status_after.get("backlog_wait_time_actual", 0) - waited_before
        if case.plugin == "stopped":
            # What the log holds while the plugin is still stopped, the daemon still running.
            row["events_on_disk"], row["records_on_disk"], row["written"] = count_on_disk(directory)
        run("auditctl", "-d", *rule_args(workload_pid))
        rule_loaded = None
        if profiler is not None:
            os.killpg(profiler.pid, signal.SIGINT)
            profiler.wait(timeout=30)
        if plugin is not None:
            plugin.signal(signal.SIGCONT)
        status = stop_process(reader, 20)
        row["exit"] = status
        if plugin is not None and plugin.end(5):
            row["plugin_note"] = f"the plugin (pid {plugin.pid}) outlived the daemon's stop by 5 s and was killed"
        if plugin is not None:
            # swift-auditd's stop summary counts what each plugin's queue dropped; auditd has no such count.
            with open(os.path.join(directory, "reader.err"), errors="replace") as f:
                dropped = re.search(rf"plugin {PLUGIN_NAME}\.conf: .* dropped (\d+)", f.read())
            if dropped:
                row["plugin_dropped"] = int(dropped.group(1))
        if not caught_up:
            row["note"] = f"did not catch up within {catch_up_s} s"
        if case.plugin == "stopped":
            row["after_cont"] = count_on_disk(directory)[:2]
        else:
            row["events_on_disk"], row["records_on_disk"], row["written"] = count_on_disk(directory)
        row["events"] = events
        return row
    except Exception as error:  # one failed reader must not stop the others or leave the kernel dirty
        row["error"] = str(error)
        return row
    finally:
        if profiler is not None and profiler.poll() is None:
            os.killpg(profiler.pid, signal.SIGKILL)
            profiler.wait()
        if workload is not None and workload.poll() is None:
            workload.kill()
            workload.wait()
        if rule_loaded is not None:
            run("auditctl", "-d", *rule_args(rule_loaded), check=False)
        if plugin is not None:
            plugin.signal(signal.SIGCONT)
        if reader is not None and reader.poll() is None:
            stop_process(reader, 20)
        if plugin is not None:
            plugin.end(5)
        run("auditctl", "-b", str(before["backlog_limit"]), check=False)
        if kernel_status().get("enabled") != before["enabled"]:
            run("auditctl", "-e", str(before["enabled"]), check=False)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            row["directory"] = directory


def format_table(rows, floor, auditd_enriched):
    header = ["reader", "format asked", "format on disk", "events/s", "daemon CPU s", "events on disk",
              "records on disk", "lost", "max RSS MiB", "rate vs auditd ENR", "rate vs floor", "CPU vs auditd ENR"]
    table = [header]
    for row in rows:
        if "error" in row:
            table.append([row["reader"], row["asked"], "error: " + row["error"]] + [""] * 9)
            continue
        def ratio(value, base):
            return f"{value / base:.2f}x" if base else "-"
        table.append([
            row["reader"], row["asked"], row["written"],
            f"{row['events_per_s']:,.0f}", f"{row['cpu_s']:.2f}",
            f"{row['events_on_disk']:,}/{row['events']:,}",
            f"{row['records_on_disk']:,}/{2 * row['events']:,}",
            str(row["lost"]), f"{row['rss_mib']:.1f}",
            ratio(row["events_per_s"], auditd_enriched and auditd_enriched["events_per_s"]),
            ratio(row["events_per_s"], floor and floor["events_per_s"]),
            ratio(row["cpu_s"], auditd_enriched and auditd_enriched["cpu_s"]),
        ])
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table[1:]]
    return "\n".join(lines)


def plugin_table(rows):
    """The plugin cases, each swift-auditd row beside auditd's in the same case."""
    header = ["daemon", "plugin", "events", "events/s", "daemon CPU s", "plugin CPU s", "plugin read MiB", "events on disk",
              "records on disk", "lost", "rate vs auditd", "CPU vs auditd", "rate vs own, no plugin"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    plain = {"auditd": rows.get("auditd-enriched"), "swift": rows.get("swift-enriched")}
    for key in ("auditd-plugin", "swift-plugin", "auditd-plugin-stopped", "swift-plugin-stopped"):
        row = rows.get(key)
        if row is None:
            continue
        state = "stopped" if key.endswith("stopped") else "reading"
        if "error" in row:
            lines.append(f"| {row['reader']} | {state} | error: {row['error']} |" + " |" * (len(header) - 3))
            continue
        auditd = rows.get(key.replace("swift", "auditd")) if key.startswith("swift") else None
        auditd = auditd if auditd and "error" not in auditd else None
        own = plain[key.split("-")[0]]
        own = own if own and "error" not in own else None

        def ratio(value, base):
            return f"{value / base:.2f}x" if base else "-"
        plugin_cpu = row.get("plugin_cpu_s")
        lines.append("| " + " | ".join([
            row["reader"], state, f"{row['events']:,}" + (f" in {row['workload_s']:.1f} s" if key == "auditd-plugin-stopped" else ""),
            f"{row['events_per_s']:,.0f}", f"{row['cpu_s']:.2f}", "-" if plugin_cpu is None else f"{plugin_cpu:.2f}",
            "-" if row.get("plugin_read_mib") is None else f"{row['plugin_read_mib']:.1f}",
            f"{row['events_on_disk']:,}/{row['events']:,}", f"{row['records_on_disk']:,}/{2 * row['events']:,}",
            str(row["lost"]),
            ratio(row["events_per_s"], auditd and auditd["events_per_s"]), ratio(row["cpu_s"], auditd and auditd["cpu_s"]),
            ratio(row["events_per_s"], own and own["events_per_s"]),
        ]) + " |")
    return "\n".join(lines)


def plugin_verdict(rows):
    """The issue's plugin targets for swift-auditd, each met or not."""
    def good(key):
        row = rows.get(key)
        return row if row and "error" not in row else None

    def on_disk(row):
        return row["events_on_disk"] == row["events"] and row["records_on_disk"] == 2 * row["events"]

    def counted(row):
        return f"{row['events_on_disk']:,}/{row['events']:,} events, {row['records_on_disk']:,}/{2 * row['events']:,} records"
    lines = []
    swift, auditd = good("swift-plugin"), good("auditd-plugin")
    if "swift-plugin" in rows or "auditd-plugin" in rows:
        if swift and auditd:
            lines += judged([
                ("plugin reading: rate >= 3.0x auditd's with the same plugin", swift["events_per_s"] >= 3.0 * auditd["events_per_s"],
                 f"{swift['events_per_s']:,.0f} events/s, {swift['events_per_s'] / auditd['events_per_s']:.2f}x auditd's "
                 f"{auditd['events_per_s']:,.0f}"),
                ("plugin reading: daemon CPU <= 0.25x auditd's", swift["cpu_s"] <= 0.25 * auditd["cpu_s"],
                 f"{swift['cpu_s']:.2f} s, {swift['cpu_s'] / auditd['cpu_s']:.2f}x auditd's {auditd['cpu_s']:.2f} s "
                 f"(plugin's own CPU excluded: {swift.get('plugin_cpu_s') or 0:.2f} s here, "
                 f"{auditd.get('plugin_cpu_s') or 0:.2f} s under auditd)"),
                ("plugin reading: 0 lost", swift["lost"] == 0, f"the kernel lost {swift['lost']}"),
                ("plugin reading: every event on disk", on_disk(swift), counted(swift)),
                # Not one of the figures, but what a plugin's user asks first.
                ("plugin reading: the plugin got every record (its queue dropped none)",
                 swift.get("plugin_dropped") == 0,
                 f"swift-auditd's stop summary: dropped {swift['plugin_dropped']:,}" if "plugin_dropped" in swift
                 else "no count in swift-auditd's stop summary"),
            ])
        else:
            lines.append("  NOT MET  plugin reading: not judged, a row is missing or failed")
    stopped, plain = good("swift-plugin-stopped"), good("swift-enriched")
    if "swift-plugin-stopped" in rows:
        if stopped and plain:
            lines += judged([
                ("plugin stopped: rate >= 0.9x swift-auditd's with no plugin", stopped["events_per_s"] >= 0.9 * plain["events_per_s"],
                 f"{stopped['events_per_s']:,.0f} events/s, {stopped['events_per_s'] / plain['events_per_s']:.2f}x "
                 f"its {plain['events_per_s']:,.0f} with no plugin"),
                ("plugin stopped: every record on disk", on_disk(stopped) and stopped["lost"] == 0,
                 counted(stopped) + f", the kernel lost {stopped['lost']}"
                 + (f"; the plugin's queue dropped {stopped['plugin_dropped']:,} records (counted, q_depth full)"
                    if "plugin_dropped" in stopped else "")),
            ])
        else:
            lines.append("  NOT MET  plugin stopped: not judged, a row is missing or failed"
                         + ("" if plain else " (swift-enriched, its rate with no plugin, is needed too)"))
    held = good("auditd-plugin-stopped")
    if held:
        lines.append(f"  (beside it) auditd 3.0.9 with the plugin stopped: {held['events']:,} calls in "
                     f"{held['workload_s']:.1f} s, {held['events_per_s']:,.0f} events/s; {counted(held)} "
                     f"in its log while the plugin was stopped, {held['after_cont'][0]:,} events after SIGCONT and "
                     f"its stop; the kernel lost {held['lost']}")
    return lines


def judged(checks):
    """Each target as `met` or `NOT MET`, with what was measured."""
    return [f"  {'met    ' if ok else 'NOT MET'}  {name}: {detail}" for name, ok, detail in checks]


def verdict(row, floor, auditd_enriched):
    """The issue's throughput targets for swift-auditd ENRICHED, each met or not."""
    if "error" in row or not floor or not auditd_enriched or "error" in floor or "error" in auditd_enriched:
        return ["  NOT MET  every target: not judged, a row is missing or failed"]
    rate, base_rate, floor_rate = row["events_per_s"], auditd_enriched["events_per_s"], floor["events_per_s"]
    on_disk = f"{row['events_on_disk']:,}/{row['events']:,} events, {row['records_on_disk']:,}/{2 * row['events']:,} records"
    pause = row.get("longest_pause_ms")
    checks = [
        ("rate >= 3.0x auditd ENRICHED", rate >= 3.0 * base_rate,
         f"{rate:,.0f} events/s, {rate / base_rate:.2f}x auditd's {base_rate:,.0f}"),
        ("rate >= 0.85x floor", rate >= 0.85 * floor_rate, f"{rate / floor_rate:.2f}x the floor's {floor_rate:,.0f}"),
        ("CPU <= 0.2x auditd ENRICHED", row["cpu_s"] <= 0.2 * auditd_enriched["cpu_s"],
         f"{row['cpu_s']:.2f} s, {row['cpu_s'] / auditd_enriched['cpu_s']:.2f}x auditd's {auditd_enriched['cpu_s']:.2f} s"),
        ("0 lost", row["lost"] == 0, f"the kernel lost {row['lost']}"),
        ("every record on disk", row["events_on_disk"] == row["events"] and row["records_on_disk"] == 2 * row["events"],
         on_disk),
        ("max RSS <= 16 MiB", row["rss_mib"] <= 16, f"{row['rss_mib']:.1f} MiB"),
        ("ENRICHED lines on disk", row["written"] == "ENRICHED", f"wrote {row['written']}"),
        (f"under full load no record waits past the {WINDOW_MS} ms window",
         pause is not None and pause <= WINDOW_MS + SAMPLE_MS,
         f"the log's longest pause in growth while the workload ran was {pause:.1f} ms "
         f"(sampled every {SAMPLE_MS} ms; the floor reader's: {floor.get('longest_pause_ms', 0):.1f} ms, "
         f"which is how long this machine stalls any reader)" if pause is not None else "not measured"),
    ]
    return judged(checks)


def percentile(ordered, fraction):
    """The nearest-rank percentile of sorted values (None for none)."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def latency_table(rows):
    header = ["reader", "format", "calls", "on disk within 1 s", "p50 ms", "p90 ms", "p99 ms", "max ms"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['reader']} | {row['asked']} | error: {row['error']} |" + " |" * 5)
            continue
        values = row["latencies_ms"]
        cells = [row["reader"], row["asked"], str(row["events"]), f"{len(values)}/{row['events']}"]
        cells += [f"{percentile(values, q):.3f}" if values else "-" for q in (0.5, 0.9, 0.99)]
        cells.append(f"{values[-1]:.3f}" if values else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency_verdict(swift, auditd):
    """The issue's latency targets for swift-auditd, each met or not."""
    if not swift or not auditd or "error" in swift or "error" in auditd or not swift["latencies_ms"] \
            or not auditd["latencies_ms"]:
        return ["  NOT MET  every latency target: not judged, a row is missing or failed"]
    p99, base = percentile(swift["latencies_ms"], 0.99), percentile(auditd["latencies_ms"], 0.99)
    return judged([
        ("p99 <= 1 ms", p99 <= 1.0, f"p99 {p99:.3f} ms"),
        ("p99 <= 1.5x auditd's p99", p99 <= 1.5 * base, f"{p99:.3f} ms is {p99 / base:.2f}x auditd's {base:.3f} ms"),
        ("every call's event on disk within 1 s", swift["missing"] == 0, f"{swift['missing']} did not appear"),
    ])


def median_run(rows):
    """The run with the median rate, or for the latency case the median p99 (the first error when
    every run failed)."""
    def key(row):
        if "latencies_ms" in row:
            return percentile(row["latencies_ms"], 0.99) or float("inf")
        return row["events_per_s"]
    good = sorted((r for r in rows if "error" not in r), key=key)
    return good[(len(good) - 1) // 2] if good else rows[0]


def acquire_lock(wait_seconds):
    handle = open(LOCK_PATH, "a")
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise Skip(f"{LOCK_PATH} stayed taken for {wait_seconds} s")
            if not announced:
                say(f"waiting for {LOCK_PATH} (someone else is using the kernel)...")
                announced = True
            time.sleep(0.5)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300_000, help="getppid calls in the workload (300000)")
    parser.add_argument("--bin", default=os.path.join(here, ".build"), help="where workload and floor-reader are")
    parser.add_argument("--probe", help="the latency probe (default: latency-probe in --bin)")
    parser.add_argument("--swift-auditd", default=os.path.join(here, "..", ".build", "release", "swift-auditd"))
    parser.add_argument("--auditd", default=shutil.which("auditd") or "/usr/sbin/auditd")
    parser.add_argument("--only", help="comma-separated cases: auditd-latency,swift-latency,"
                        "floor,auditd-raw,auditd-enriched,swift-raw,swift-enriched,"
                        "auditd-plugin,swift-plugin,auditd-plugin-stopped,swift-plugin-stopped"
                        " (and baseline-raw,baseline-enriched with --baseline)")
    parser.add_argument("--stopped-seconds", type=int, default=10,
                        help="auditd 3.0.9 with a stopped plugin holds back the audited machine: its workload "
                        "also ends after this many seconds (10), plus at most one kernel backlog wait")
    parser.add_argument("--baseline", help="another swift-auditd binary to measure beside this one (e.g. before a change)")
    parser.add_argument("--timeout", type=int, default=180, help="seconds the workload may take, per reader")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every reader this many times, in turns; the table shows each reader's median-rate run")
    parser.add_argument("--profile", help="a shell command run beside each reader, stopped with SIGINT before the "
                        "reader is; {pid}, {reader} and {format} are filled in (e.g. 'perf record -g -p {pid} -o /tmp/{reader}-{format}.data')")
    parser.add_argument("--nice", type=int, default=-4,
                        help="niceness of the whole run, every reader and the workload alike (default -4, auditd's "
                        "shipped priority_boost, which it applies to itself): less noise from other load on a shared machine")
    parser.add_argument("--keep", action="store_true", help="keep each reader's log directory")
    parser.add_argument("--rate-file", help="write swift-enriched's measured events/s here (make bench hands it to "
                        "the exporter's case, which compares with it)")
    args = parser.parse_args()
    args.probe = args.probe or os.path.join(args.bin, "latency-probe")

    try:
        if os.geteuid() != 0:
            raise Skip("not root: registering an audit daemon needs CAP_AUDIT_CONTROL")
        if not shutil.which("auditctl"):
            raise Skip("no auditctl (apt-get install -y auditd)")
        workload_path = os.path.join(args.bin, "workload")
        floor_path = os.path.join(args.bin, "floor-reader")
        for path in (workload_path, floor_path, args.probe):
            if not os.access(path, os.X_OK):
                raise Skip(f"{path} is not built (make bench builds it)")
        lock = acquire_lock(300)
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    except Skip as reason:
        say(f"kernel benchmark skipped: {reason}")
        return 0

    exit_status = 0
    try:
        start_status, start_rules = kernel_status(), kernel_rules()
        if start_status.get("pid", 0) != 0:
            pid = start_status["pid"]
            say(f"kernel benchmark skipped: pid {pid} ({command_name(pid)}) is registered as the audit daemon")
            return 0
        if start_status.get("enabled") == 2:
            say("kernel benchmark skipped: auditing is locked (enabled=2)")
            return 0

        cases = [
            Case("auditd 3.0.9", "ENRICHED", lambda d: [args.auditd, "-n", "-c", d], True, latency=True),
            Case("swift-auditd", "ENRICHED", lambda d: [args.swift_auditd, "-c", d], True, latency=True),
            Case("floor (C)", "RAW", lambda d: [floor_path, os.path.join(d, "audit.log")], False),
            Case("auditd 3.0.9", "RAW", lambda d: [args.auditd, "-n", "-c", d], True),
            Case("auditd 3.0.9", "ENRICHED", lambda d: [args.auditd, "-n", "-c", d], True),
            Case("swift-auditd", "RAW", lambda d: [args.swift_auditd, "-c", d], True),
            Case("swift-auditd", "ENRICHED", lambda d: [args.swift_auditd, "-c", d], True),
            Case("auditd 3.0.9", "ENRICHED", lambda d: [args.auditd, "-n", "-c", d], True, plugin="running"),
            Case("swift-auditd", "ENRICHED", lambda d: [args.swift_auditd, "-c", d], True, plugin="running"),
            Case("auditd 3.0.9", "ENRICHED", lambda d: [args.auditd, "-n", "-c", d], True, plugin="stopped",
                 bounded=True),
            Case("swift-auditd", "ENRICHED", lambda d: [args.swift_auditd, "-c", d], True, plugin="stopped"),
        ]
        keys = ["auditd-latency", "swift-latency", "floor", "auditd-raw", "auditd-enriched", "swift-raw", "swift-enriched",
                "auditd-plugin", "swift-plugin", "auditd-plugin-stopped", "swift-plugin-stopped"]
        if args.baseline:
            # Another build of swift-auditd, e.g. before a change, measured in the same run.
            cases += [
                Case("swift-auditd (baseline)", "RAW", lambda d: [args.baseline, "-c", d], True),
                Case("swift-auditd (baseline)", "ENRICHED", lambda d: [args.baseline, "-c", d], True),
            ]
            keys += ["baseline-raw", "baseline-enriched"]
        wanted = set(args.only.split(",")) if args.only else set(keys)
        load = open("/proc/loadavg").read().split()[:3]
        say(f"kernel benchmark: {args.events:,} getppid events per reader, backlog_limit {BACKLOG_LIMIT}, "
            f"flush INCREMENTAL_ASYNC freq 50, nice {args.nice}, {os.cpu_count()} CPUs, load average {' '.join(load)}")
        runs = {}
        for round_number in range(1, args.rounds + 1):
            for key, case in zip(keys, cases):
                if key not in wanted:
                    continue
                binary = case.command("/tmp")[0]
                if not os.access(binary, os.X_OK):
                    if round_number == 1:
                        say(f"  {key}: skipped, {binary} is missing")
                    continue
                row = run_case(case, args, workload_path)
                runs.setdefault(key, []).append(row)
                label = f"  {key}" + (f" (round {round_number})" if args.rounds > 1 else "")
                if "error" in row:
                    say(f"{label}: error: {row['error']}")
                elif case.latency:
                    values = row["latencies_ms"]
                    say(f"{label}: {len(values)}/{row['events']} calls on disk within 1 s"
                        + (f", p50 {percentile(values, 0.5):.3f} ms, p99 {percentile(values, 0.99):.3f} ms, "
                           f"max {values[-1]:.3f} ms" if values else ""))
                else:
                    say(f"{label}: {row['events_per_s']:,.0f} events/s, CPU {row['cpu_s']:.2f} s "
                        f"(user {row['user_s']:.2f}, sys {row['sys_s']:.2f}), "
                        f"{row['events_on_disk']:,} events / {row['records_on_disk']:,} records on disk, "
                        f"lost {row['lost']}, backlog waits {row['waited']}, max RSS {row['rss_mib']:.1f} MiB, wrote {row['written']}, "
                        f"longest pause in log growth {row['longest_pause_ms']:.1f} ms"
                        + (f", plugin pid {row['plugin_pid']} CPU {row['plugin_cpu_s']:.2f} s state {row['plugin_state']}"
                           if row.get("plugin_cpu_s") is not None else "")
                        + (f", the plugin's queue dropped {row['plugin_dropped']:,} records" if "plugin_dropped" in row else "")
                        + (f", after SIGCONT and stop {row['after_cont'][0]:,} events / {row['after_cont'][1]:,} records on disk"
                           if "after_cont" in row else "")
                        + (f" ({row['note']})" if "note" in row else "")
                        + (f" ({row['plugin_note']})" if "plugin_note" in row else ""))
        rows = {key: median_run(found) for key, found in runs.items()}
        failed = sorted(key for key, found in runs.items() if any("error" in r for r in found))

        floor = rows.get("floor") if "error" not in rows.get("floor", {"error": 1}) else None
        auditd_enriched = rows.get("auditd-enriched") if "error" not in rows.get("auditd-enriched", {"error": 1}) else None
        latency_keys = [k for k in ("auditd-latency", "swift-latency") if k in rows]
        if latency_keys:
            say("")
            say(f"latency: {LATENCY_CALLS} audited getppid calls {LATENCY_INTERVAL_US / 1000:g} ms apart, "
                "from the call until the log holds its event (machine otherwise quiet)")
            say(latency_table([rows[k] for k in latency_keys]))
            auditd_latency, swift_latency = rows.get("auditd-latency"), rows.get("swift-latency")
            if auditd_latency and swift_latency and "error" not in auditd_latency and "error" not in swift_latency \
                    and auditd_latency["latencies_ms"] and swift_latency["latencies_ms"]:
                say("ratio swift-auditd / auditd: " + ", ".join(
                    f"{name} {percentile(swift_latency['latencies_ms'], q) / percentile(auditd_latency['latencies_ms'], q):.2f}x"
                    for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))))
            if "swift-latency" in rows:
                say("")
                say("swift-auditd against the latency targets:")
                for line in latency_verdict(swift_latency, auditd_latency):
                    say(line)
        throughput_keys = [k for k in keys if k in rows and k not in latency_keys and not k.startswith(("auditd-plugin", "swift-plugin"))]
        say("")
        say(format_table([rows[k] for k in throughput_keys], floor, auditd_enriched))
        if "swift-enriched" in rows:
            if args.rate_file and rows["swift-enriched"].get("events_per_s"):
                with open(args.rate_file, "w") as f:
                    f.write(f"{rows['swift-enriched']['events_per_s']:.0f}\n")
            say("")
            say("swift-auditd ENRICHED against the throughput targets:")
            for line in verdict(rows["swift-enriched"], floor, auditd_enriched):
                say(line)
        plugin_keys = [k for k in ("auditd-plugin", "swift-plugin", "auditd-plugin-stopped", "swift-plugin-stopped")
                       if k in rows]
        if plugin_keys:
            say("")
            say(f"with one string plugin ({PLUGIN_SCRIPT.splitlines()[1].strip()}, a child of the daemon), ENRICHED; "
                "daemon CPU excludes the plugin's, shown beside it; \"stopped\": SIGSTOP from its start until "
                f"the daemon's stop, the log counted before SIGCONT; auditd's workload there ends after "
                f"{args.stopped_seconds} s")
            say(plugin_table(rows))
            say("")
            say("swift-auditd with a plugin against the targets:")
            for line in plugin_verdict(rows):
                say(line)
        if failed:
            say("")
            say(f"kernel benchmark FAILED: {', '.join(failed)} ended in an error (above)")
            exit_status = 1
    finally:
        end_status, end_rules = kernel_status(), kernel_rules()
        if end_status.get("enabled") != start_status.get("enabled"):
            run("auditctl", "-e", str(start_status["enabled"]), check=False)
        if end_status.get("backlog_limit") != start_status.get("backlog_limit"):
            run("auditctl", "-b", str(start_status["backlog_limit"]), check=False)
        end_status, end_rules = kernel_status(), kernel_rules()
        same = all(end_status.get(k) == start_status.get(k) for k in ("enabled", "pid", "backlog_limit", "failure"))
        say("")
        say(f"kernel after: enabled {end_status.get('enabled')}, pid {end_status.get('pid')}, "
            f"backlog_limit {end_status.get('backlog_limit')}, rules {'as before' if end_rules == start_rules else 'CHANGED'}"
            f" -> {'left as found' if same and end_rules == start_rules else 'NOT as found'}")
        if not same or end_rules != start_rules:
            exit_status = 1
        lock.close()
    return exit_status


if __name__ == "__main__":
    sys.exit(main())
