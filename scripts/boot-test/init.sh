#!/bin/busybox sh
# /init of the boot test's guest: PID 1 in an initramfs holding busybox, swift-auditd and its
# libraries, and audit-send. Parameters come from the kernel command line:
#   proof.early=N   AUDIT_USER records sent before the daemon starts ("proof early 1" .. N)
#   proof.live=M    records sent while it runs ("proof live 1" .. M)
#   proof.delay=S   seconds between the early records and the daemon's start
#   proof.calls=K   getppid calls (audited by a rule with key proof-getppid) made while the daemon
#                   runs by a process started before it ("before") and one started after ("after")
#   proof.probe=1   write the results at once (the host's check that an accelerator works)
# Everything the host checks is put in /out, written as a tar file onto the raw disk /dev/vda,
# then the machine powers off. The console only shows progress lines starting with "proof:".
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin SWIFT_BACKTRACE=enable=no
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

early=0 live=0 delay=2 calls=0 probe=
for word in $(cat /proc/cmdline); do
    case "$word" in
        proof.early=*) early=${word#proof.early=} ;;
        proof.live=*) live=${word#proof.live=} ;;
        proof.delay=*) delay=${word#proof.delay=} ;;
        proof.calls=*) calls=${word#proof.calls=} ;;
        proof.probe=1) probe=1 ;;
    esac
done

mkdir -p /out /etc/audit
say() { echo "proof: $*" > /dev/console; echo "$*" >> /out/steps.txt; }
finish() {
    say "finish: $1"
    cp /proc/cmdline /out/cmdline.txt
    dmesg > /out/dmesg.txt
    for module in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
        insmod /modules/$module.ko 2>> /out/steps.txt
    done
    for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
    tar -cf /dev/vda -C /out . && sync
    echo "proof: results written to /dev/vda" > /dev/console
    poweroff -f
}

# The host's accelerator probe: coming this far is all it asks.
[ -n "$probe" ] && finish "accelerator probe"

audit-send status > /out/status-boot.txt 2>&1
say "booted; kernel audit state: $(cat /out/status-boot.txt)"
audit-send send "$early" early 2>> /out/steps.txt || say "sending early records failed"
audit-send status > /out/status-before-daemon.txt 2>&1
say "sent $early early records; kernel audit state: $(cat /out/status-before-daemon.txt)"
# A process created before the daemon switches auditing on: without audit=1 the kernel gave it no
# audit context (audit_alloc), so the rule must not see its calls; with audit=1 it must. It calls
# only once /tmp/go-before exists, after the daemon registered and the rule is loaded.
audit-send getppid /tmp/go-before "$calls" > /out/before.txt 2>&1 &
before=$!
say "started the before-process, pid $before"
sleep "$delay"

cat > /etc/audit/auditd.conf <<EOF
log_file = /var/log/audit/audit.log
log_format = RAW
EOF
swift-auditd -c /etc/audit 2> /out/daemon.err &
daemon=$!
say "started swift-auditd, pid $daemon"

# Wait (TCG is slow) until the daemon has registered and reported the held backlog.
waited=0
until grep -q 'records the kernel held' /out/daemon.err 2>/dev/null; do
    if ! kill -0 "$daemon" 2>/dev/null; then
        wait "$daemon"; echo $? > /out/daemon.rc
        finish "swift-auditd exited before it reported the held backlog"
    fi
    waited=$((waited + 1))
    [ "$waited" -gt 600 ] && { kill -TERM "$daemon"; finish "no held-backlog report after 60 s"; }
    sleep 0.1
done
say "daemon registered"
# Loaded now, not before the daemon: its CONFIG_CHANGE event would be one more held record (three
# lines under one serial) in the counts the held-backlog checks make.
audit-send rule proof-getppid 2>> /out/steps.txt || say "loading the getppid rule failed"
audit-send getppid /tmp/go-after "$calls" > /out/after.txt 2>&1 &
after=$!
say "started the after-process, pid $after"
# One after the other: two processes on two CPUs can interleave their events' records, and the
# host checks that serials never decrease in the log (the order the kernel made the records in).
touch /tmp/go-before
wait "$before"; echo $? > /out/before.rc
touch /tmp/go-after
wait "$after"; echo $? > /out/after.rc
say "before- and after-process made their getppid calls: $(cat /out/before.txt) / $(cat /out/after.txt)"

audit-send send "$live" live 2>> /out/steps.txt || say "sending live records failed"
say "sent $live live records"
sleep 1
kill -TERM "$daemon"
wait "$daemon"
echo $? > /out/daemon.rc
audit-send status > /out/status-after.txt 2>&1
cp /var/log/audit/audit.log /out/audit.log 2>> /out/steps.txt
finish "swift-auditd exited with status $(cat /out/daemon.rc)"
