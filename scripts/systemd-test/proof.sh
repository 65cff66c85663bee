#!/bin/sh
# The systemd test's guest side (installed as /usr/local/sbin/systemd-proof, run once by
# systemd-proof.service after multi-user.target and swift-auditd.service): records what systemd,
# the kernel and the log say about swift-auditd, stops the unit, records the log's end, writes
# everything as a tar file onto the second raw disk (/dev/vdb) and powers off.
out=/run/systemd-proof
mkdir -p "$out"
cat /proc/uptime > "$out/uptime.txt"
systemctl show multi-user.target -p ActiveEnterTimestampMonotonic > "$out/multi-user.txt"
systemctl show swift-auditd -p Type -p ActiveState -p SubState -p StatusText -p MainPID \
    -p ExecMainStatus -p NRestarts > "$out/show.txt" 2>&1
auditctl -s > "$out/auditctl-s.txt" 2>&1
auditctl -l > "$out/auditctl-l.txt" 2>&1
journalctl -u swift-auditd -b --no-pager > "$out/journal.txt" 2>&1
head -n 40 /var/log/audit/audit.log > "$out/log-head.txt" 2>&1
systemctl stop swift-auditd; echo $? > "$out/stop.rc"
systemctl show swift-auditd -p ActiveState -p SubState -p ExecMainCode -p ExecMainStatus \
    > "$out/show-after-stop.txt" 2>&1
auditctl -s > "$out/auditctl-s-after-stop.txt" 2>&1
tail -n 20 /var/log/audit/audit.log > "$out/log-tail.txt" 2>&1
cp /var/log/audit/audit.log "$out/audit.log"
journalctl -u swift-auditd -b --no-pager > "$out/journal-after-stop.txt" 2>&1
systemctl list-units --failed --no-pager > "$out/failed-units.txt" 2>&1
cat /proc/cmdline > "$out/cmdline.txt"
tar -cf /dev/vdb -C "$out" . && sync
echo "systemd-proof: results written to /dev/vdb" > /dev/console
systemctl --no-block poweroff
