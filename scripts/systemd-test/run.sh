#!/usr/bin/env bash
# make test-systemd: proves systemd/swift-auditd.service under a real systemd as PID 1. Boots a
# minimal Debian 12 guest (debootstrap, its own linux-image-amd64 kernel and initramfs) under qemu
# with audit=1, with swift-auditd installed by `make install` and its unit enabled; a oneshot unit
# in the guest (systemd-proof.service, after swift-auditd.service and multi-user.target) records
# systemd's, the kernel's and the log's view of the daemon, stops the unit, records the log's end
# and powers off. The results come out as a tar file on a second raw disk; the host checks them.
#
# Needs root (debootstrap, chroot, the guest's file ownership). Not part of make test or CI.
# Environment:
#   SYSTEMD_WORK=DIR        work directory (default .build/systemd); the guest tree is cached in
#                           DIR/guest (delete it to debootstrap again)
#   BOOT_ACCEL=tcg|kvm|auto auto (default) uses KVM only when make test-boot's probe found it works
#                           (.build/boot/kvm-works); KVM here is nested and does not boot this kernel
#   BOOT_TIMEOUT=SECONDS    qemu's limit (default 400)
#   DEBIAN_MIRROR=URL       (default http://deb.debian.org/debian)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/systemd-test"
work=${SYSTEMD_WORK:-$root/.build/systemd}
accel=${BOOT_ACCEL:-auto}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
guest="$work/guest"
started=$(date +%s)
note() { echo "test-systemd: $*"; }
fail() { echo "test-systemd: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mke2fs -d with the guest's owners)"
mkdir -p "$work"

# --- packages -------------------------------------------------------------------------------
"$root/scripts/install-deps" debootstrap qemu-system-x86 e2fsprogs

# --- the guest: debootstrapped once, then cached ----------------------------------------------
# minbase plus systemd as init, udev (systemd waits for the root device's unit), the kernel with
# initramfs-tools (its initramfs holds virtio_blk and ext4, so it mounts /dev/vda), and auditd for
# auditctl and augenrules (its own auditd.service is masked: the kernel has one daemon slot).
if [ ! -e "$guest/.systemd-test-ready" ]; then
    note "debootstrapping Debian 12 into $guest (once; a few minutes)"
    rm -rf "$guest.tmp" "$guest"
    debootstrap --variant=minbase \
        --include=systemd-sysv,udev,kmod,libaudit1,auditd,linux-image-amd64,initramfs-tools \
        bookworm "$guest.tmp" "$mirror" > "$work/debootstrap.log" 2>&1 \
        || fail "debootstrap failed; see $work/debootstrap.log"
    echo swift-auditd-guest > "$guest.tmp/etc/hostname"
    echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > "$guest.tmp/etc/fstab"
    ln -sf /dev/null "$guest.tmp/etc/systemd/system/auditd.service"
    rm -f "$guest.tmp/var/cache/apt/archives/"*.deb
    touch "$guest.tmp/.systemd-test-ready"
    mv "$guest.tmp" "$guest"
fi
vmlinuz=$(ls "$guest"/boot/vmlinuz-* | tail -1)
initrd=$(ls "$guest"/boot/initrd.img-* | tail -1)
[ -s "$vmlinuz" ] && [ -s "$initrd" ] || fail "no kernel or initramfs in $guest/boot"

# --- swift-auditd into the guest: make install, as a packager would ---------------------------
note "building the release binary and installing it into the guest"
make -C "$root" --no-print-directory install DESTDIR="$guest" PREFIX=/usr > "$work/install.log" 2>&1 \
    || { tail -20 "$work/install.log"; fail "make install failed; see $work/install.log"; }
daemon="$guest/usr/sbin/swift-auditd"
[ -x "$daemon" ] || fail "make install put no binary at $daemon"
# The Swift stdlib is linked statically; copy any shared library ldd lists that the guest lacks
# (libaudit1 comes from the guest's apt, libstdc++ and libgcc_s from minbase).
for library in $(ldd "$daemon" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    if [ ! -e "$guest$library" ]; then
        note "copying $library (the guest lacks it)"
        mkdir -p "$guest$(dirname "$library")" && cp -L "$library" "$guest$library"
    fi
done
chroot "$guest" systemctl enable swift-auditd.service > "$work/enable.log" 2>&1 \
    || { cat "$work/enable.log"; fail "systemctl enable swift-auditd failed in the guest"; }
install -m 0755 "$here/proof.sh" "$guest/usr/local/sbin/systemd-proof"
install -m 0644 "$here/systemd-proof.service" "$here/systemd-proof.target" "$guest/etc/systemd/system/"
# Each boot starts from an empty log and journal.
rm -rf "$guest/var/log/audit/"* "$guest/var/log/journal/"*

# --- the disks ----------------------------------------------------------------------------------
note "building the root file system image (mke2fs -d)"
out="$work/run"
rm -rf "$out" && mkdir -p "$out/result"
rootfs_mb=$(( $(du -sm --exclude=./.systemd-test-ready "$guest" | cut -f1) + 512 ))
truncate -s "${rootfs_mb}M" "$out/root.img"
mke2fs -q -t ext4 -L guestroot -d "$guest" "$out/root.img" || fail "mke2fs -d failed"
truncate -s 64M "$out/results.img"

# --- booting ----------------------------------------------------------------------------------
if [ "$accel" = auto ]; then
    accel=tcg
    [ -w /dev/kvm ] && [ -e "$root/.build/boot/kvm-works" ] && accel=kvm
fi
accel_args=(-accel tcg)
[ "$accel" = kvm ] && accel_args=(-accel kvm -cpu host)
cmdline="root=/dev/vda rw console=ttyS0 panic=-1 audit=1 audit_backlog_limit=8192 systemd.unit=systemd-proof.target"
note "booting ($accel): $cmdline"
boot_started=$(date +%s%N)
timeout "${BOOT_TIMEOUT:-400}" qemu-system-x86_64 "${accel_args[@]}" -m 1024 -smp 1 \
    -nographic -no-reboot -serial file:"$out/console.log" -monitor none \
    -kernel "$vmlinuz" -initrd "$initrd" -append "$cmdline" \
    -drive file="$out/root.img",format=raw,if=virtio \
    -drive file="$out/results.img",format=raw,if=virtio >/dev/null 2>"$out/qemu.err" || true
tenths=$(( ($(date +%s%N) - boot_started) / 100000000 ))
note "booted, ran and powered off in $((tenths / 10)).$((tenths % 10)) s ($accel)"
tar -xf "$out/results.img" -C "$out/result" 2>/dev/null || true

# --- checks -----------------------------------------------------------------------------------
r="$out/result"
failures=0
check() {  # check WHAT COMMAND...
    local what=$1; shift
    if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}
prop() { sed -n "s/^$2=//p" "$r/$1" 2>/dev/null | head -1; }
[ -s "$r/show.txt" ] || { tail -30 "$out/console.log" | tr -d '\r'; fail "the guest wrote no results (console: $out/console.log)"; }

echo "test-systemd: systemctl show swift-auditd (after multi-user):"; sed 's/^/    /' "$r/show.txt"
echo "test-systemd: auditctl -s:"; grep -E '^(enabled|pid|lost|backlog) ' "$r/auditctl-s.txt" | sed 's/^/    /'
mu_us=$(prop multi-user.txt ActiveEnterTimestampMonotonic)
main_pid=$(prop show.txt MainPID)
kernel_pid=$(sed -n 's/^pid //p' "$r/auditctl-s.txt")
held=$(sed -n 's/.*collected \([0-9]*\) records the kernel held.*/\1/p' "$r/journal.txt" | head -1)
log="$r/audit.log"
# The events augenrules --load (ExecStartPost) made: a CONFIG_CHANGE whose event (its serial) has a
# SYSCALL record naming auditctl, which augenrules runs (auditctl -R). The kernel's own
# "op=set audit_pid" CONFIG_CHANGE, from the daemon's registration, names swift-auditd instead.
stamps() { grep "^type=$1 " "$log" 2>/dev/null | grep -e "$2" | sed -n 's/.* msg=audit(\([0-9.:]*\)).*/\1/p' | sort -u || true; }
rule_load_events=$(comm -12 <(stamps CONFIG_CHANGE .) <(stamps SYSCALL ' comm="auditctl"') | wc -l)
# Debian 12's systemd-journald switches auditing off during boot (op=set audit_enabled=0), so the
# daemon finds enabled=0 and switches it on; with audit=1 every process has been audited from boot
# and the daemon must not say otherwise.
switched_off=$(grep -c '^type=CONFIG_CHANGE .* op=set audit_enabled=0 ' "$log" 2>/dev/null || true)
unaudited_notices=$(grep -c 'processes already running before auditing was first switched on' "$r/journal.txt" 2>/dev/null || true)

check "Type=notify" test "$(prop show.txt Type)" = notify
check "active (running) after multi-user (a notify unit is active only after READY=1)" \
    test "$(prop show.txt ActiveState)/$(prop show.txt SubState)" = active/running
check "systemd has the daemon's STATUS= text ($(prop show.txt StatusText))" test -n "$(prop show.txt StatusText)"
check "not restarted (NRestarts=0)" test "$(prop show.txt NRestarts)" = 0
check "the journal shows systemd saw it started" grep -q 'Started swift-auditd.service\|Started .*swift-auditd' "$r/journal.txt"
check "the kernel's registered pid ($kernel_pid) is the unit's MainPID ($main_pid)" \
    test -n "$main_pid" -a "$main_pid" != 0 -a "$kernel_pid" = "$main_pid"
check "the kernel has auditing on (enabled 1, from audit=1)" grep -qx 'enabled 1' "$r/auditctl-s.txt"
check "the log starts with DAEMON_START" grep -q '^type=DAEMON_START ' <(head -1 "$r/log-head.txt")
check "the daemon collected the held backlog of the boot ($held records)" test -n "$held" -a "${held:-0}" -gt 0
check "the boot's first record (serial 1, type=KERNEL) is in the log" \
    grep -q '^type=KERNEL msg=audit([0-9.]*:1): ' "$log"
check "the rules loaded by ExecStartPost (augenrules) left CONFIG_CHANGE records made by auditctl ($rule_load_events events)" \
    test "$rule_load_events" -gt 0
check "audit=1: the daemon does not say running processes are unaudited ($unaudited_notices notices; auditing switched off before it started: ${switched_off:-0} times)" \
    test "$unaudited_notices" = 0
check "systemctl stop succeeded" grep -qx 0 "$r/stop.rc"
check "inactive (dead) after the stop, exit status 0" \
    test "$(prop show-after-stop.txt ActiveState)/$(prop show-after-stop.txt SubState)/$(prop show-after-stop.txt ExecMainStatus)" = inactive/dead/0
check "the kernel's daemon slot is free after the stop (pid 0)" grep -qx 'pid 0' "$r/auditctl-s-after-stop.txt"
check "the log ends with DAEMON_END after the stop" grep -q '^type=DAEMON_END ' <(tail -1 "$r/log-tail.txt")

echo "test-systemd: the journal of swift-auditd.service:"; sed 's/^/    /' "$r/journal-after-stop.txt"
echo "test-systemd: multi-user.target reached $((mu_us / 1000000)).$(( (mu_us / 100000) % 10 )) s after the kernel started;" \
    "log: $(wc -l < "$log") lines; held backlog collected: ${held:-?}; boot to poweroff $((tenths / 10)).$((tenths % 10)) s ($accel)"
note "took $(( $(date +%s) - started )) s in all; results in $r"
if [ "$failures" -gt 0 ]; then fail "$failures checks failed"; fi
note "PASS: all checks passed"
