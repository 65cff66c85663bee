#!/usr/bin/env bash
# make test-boot: boots Debian's kernel under qemu with audit=1 (and variants) from an initramfs
# holding swift-auditd, and checks that the records the kernel held before the daemon started
# reach the log, in order, before the live ones; and that a process started before the daemon
# switched auditing on is audited only when the kernel was booted with audit=1.
#
# Steps: install the packages it needs (idempotent), build the release binary, download and unpack
# linux-image-amd64 (never installed), build a static helper and an initramfs, then boot each
# variant. The guest (init.sh) writes its results as a tar file onto a raw disk image, which the
# host unpacks and checks. Environment:
#   BOOT_ACCEL=tcg|kvm|auto   (auto: try KVM once, fall back to TCG when the guest does not come up)
#   BOOT_VARIANTS="held overflow noaudit default"   which boots to run
#   BOOT_WORK=DIR             work directory (default .build/boot)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/boot-test"
work=${BOOT_WORK:-$root/.build/boot}
accel=${BOOT_ACCEL:-auto}
variants=${BOOT_VARIANTS:-held overflow noaudit default}
calls=10  # getppid calls made by each of the guest's before- and after-process
mkdir -p "$work"
started=$(date +%s)
note() { echo "test-boot: $*"; }
fail() { echo "test-boot: FAIL: $*" >&2; exit 1; }

# --- packages -------------------------------------------------------------------------------
"$root/scripts/install-deps" qemu-system-x86 busybox-static cpio gcc libc6-dev

# --- the daemon -------------------------------------------------------------------------------
note "building the release binary"
(cd "$root" && swift build -c release --static-swift-stdlib --product swift-auditd 2>&1 | tail -1)
daemon="$root/.build/release/swift-auditd"
[ -x "$daemon" ] || fail "no release binary at $daemon"

# --- the kernel: downloaded and unpacked, never installed -------------------------------------
kernel_dir="$work/kernel"
if ! ls "$kernel_dir"/root/boot/vmlinuz-* >/dev/null 2>&1; then
    note "downloading Debian's linux-image-amd64"
    rm -rf "$kernel_dir" && mkdir -p "$kernel_dir"
    (cd "$kernel_dir" && apt-get download linux-image-amd64 >/dev/null 2>&1) \
        || { apt-get update >/dev/null && (cd "$kernel_dir" && apt-get download linux-image-amd64 >/dev/null 2>&1); }
    meta=$(ls "$kernel_dir"/linux-image-amd64_*.deb)
    # The meta package depends on the versioned image package, which holds the kernel.
    image=$(dpkg-deb -f "$meta" Depends | sed 's/[ ,(].*//')
    (cd "$kernel_dir" && apt-get download "$image" >/dev/null 2>&1)
    dpkg -x "$kernel_dir/$image"_*.deb "$kernel_dir/root"
fi
vmlinuz=$(ls "$kernel_dir"/root/boot/vmlinuz-* | head -1)
modules=$(ls -d "$kernel_dir"/root/lib/modules/*/kernel/drivers)

# --- the initramfs ----------------------------------------------------------------------------
note "building the initramfs"
stage="$work/initramfs"
rm -rf "$stage" && mkdir -p "$stage"/{bin,usr/bin,modules,proc,sys,dev,tmp,var/log}
cp /bin/busybox "$stage/bin/busybox"
cp "$here/init.sh" "$stage/init" && chmod 755 "$stage/init"
gcc -static -O2 -Wall -o "$stage/usr/bin/audit-send" "$here/audit-send.c"
cp "$daemon" "$stage/usr/bin/swift-auditd"
# The libraries ldd lists, at the same paths, plus libgcc_s.so.1 (loaded at run time by the
# Swift runtime's unwinder, so ldd does not always show it).
libraries=$(ldd "$daemon" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }')
libgcc=$(gcc -print-file-name=libgcc_s.so.1)
[ -e /lib/x86_64-linux-gnu/libgcc_s.so.1 ] && libgcc=/lib/x86_64-linux-gnu/libgcc_s.so.1
for library in $libraries $libgcc; do
    mkdir -p "$stage$(dirname "$library")"
    cp -L "$library" "$stage$library"
done
for module in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev \
              virtio/virtio_pci block/virtio_blk; do
    cp "$modules/$module.ko" "$stage/modules/"
done
initramfs="$work/initramfs.cpio"
(cd "$stage" && find . | cpio -o -H newc --quiet > "$initramfs")
note "initramfs: $(du -m "$initramfs" | cut -f1) MB"

# --- booting ----------------------------------------------------------------------------------
# boot NAME "KERNEL ARGS" EARLY LIVE: boots once, unpacks the guest's results into $work/NAME.
boot() {
    local name=$1 args=$2 early=$3 live=$4 machine_accel=$5
    local out="$work/$name"
    rm -rf "$out" && mkdir -p "$out/result"
    truncate -s 64M "$out/disk.img"
    local accel_args=(-accel tcg)
    [ "$machine_accel" = kvm ] && accel_args=(-accel kvm -cpu host)
    local boot_started
    boot_started=$(date +%s%N)
    timeout "${BOOT_TIMEOUT:-240}" qemu-system-x86_64 "${accel_args[@]}" -m 512 -smp 1 \
        -nographic -no-reboot -serial file:"$out/console.log" -monitor none \
        -kernel "$vmlinuz" -initrd "$initramfs" \
        -append "console=ttyS0 panic=-1 quiet $args proof.early=$early proof.live=$live proof.delay=2 proof.calls=$calls" \
        -drive file="$out/disk.img",format=raw,if=virtio >/dev/null 2>"$out/qemu.err" || true
    local tenths=$(( ($(date +%s%N) - boot_started) / 100000000 ))
    echo "test-boot: $name: booted, ran and powered off in $((tenths / 10)).$((tenths % 10)) s ($machine_accel)"
    tar -xf "$out/disk.img" -C "$out/result" 2>/dev/null || true
}

# KVM here is nested and may not run a stock kernel: try it once with a short timeout and keep
# the answer, else use TCG.
if [ "$accel" = auto ]; then
    accel=tcg
    if [ -w /dev/kvm ] && [ ! -e "$work/kvm-does-not-work" ] && [ ! -e "$work/kvm-works" ]; then
        BOOT_TIMEOUT=15 boot kvm-probe "proof.probe=1" 0 0 kvm
        if [ -e "$work/kvm-probe/result/steps.txt" ]; then touch "$work/kvm-works"; else touch "$work/kvm-does-not-work"; fi
    fi
    [ -e "$work/kvm-works" ] && accel=kvm
    note "accelerator: $accel$([ "$accel" = tcg ] && echo " (/dev/kvm missing or does not boot this kernel)")"
fi

# --- checks -----------------------------------------------------------------------------------
failures=0
check() {  # check NAME CONDITION-DESCRIPTION COMMAND...
    local name=$1 what=$2; shift 2
    if "$@"; then echo "  ok   $name: $what"; else echo "  FAIL $name: $what"; failures=$((failures + 1)); fi
}
serials() { sed -n 's/.* msg=audit([0-9]*\.[0-9]*:\([0-9]*\)).*/\1/p' "$1"; }
# The line number of the first line matching a pattern (0 when none).
line_of() { grep -n -m1 -e "$2" "$1" | cut -d: -f1 || true; }
metadata() { grep -o "$2=[0-9]*" "$1" | tail -1 | cut -d= -f2 || true; }

# Record the tags the log holds for "proof KIND I", in file order.
tags() { grep -o "msg='proof $2 [0-9]*" "$1" | awk '{ print $3 }' || true; }
is_sequence() {  # is_sequence FILE FROM TO: the file holds exactly FROM..TO, one per line
    [ "$(seq "$2" "$3" | tr '\n' ' ')" = "$(tr '\n' ' ' < "$1")" ]
}

check_variant() {
    local name=$1 early=$2 live=$3 expect=$4
    local r="$work/$name/result" whole="$work/$name/result/audit.log" err="$work/$name/result/daemon.err"
    # The kernel's records: the log without the daemon's own (DAEMON_START first, DAEMON_END last),
    # whose serials are the daemon's, not the kernel's.
    local log="$work/$name/kernel-records.log"
    echo "test-boot: $name: $(cat "$r/cmdline.txt" 2>/dev/null | tr -d '\n')"
    check "$name" "the guest wrote its results" test -s "$r/steps.txt"
    check "$name" "swift-auditd exited 0 after SIGTERM" grep -qx 0 "$r/daemon.rc"
    check "$name" "the log exists" test -s "$whole"
    [ -s "$whole" ] || return 0
    grep -v '^type=DAEMON_' "$whole" > "$log" || true
    check "$name" "the log starts with DAEMON_START and ends with DAEMON_END" \
        test "$(head -1 "$whole" | cut -d' ' -f1)" = type=DAEMON_START -a "$(tail -1 "$whole" | cut -d' ' -f1)" = type=DAEMON_END
    local received written own lost_reg held
    received=$(metadata "$err" received); written=$(metadata "$err" written); own=$(metadata "$err" daemon_records)
    held=$(grep 'records the kernel held' "$err" | sed -n 's/.*collected \([0-9]*\) records.*/\1/p')
    lost_reg=$(grep 'registered with the kernel' "$err" | grep -o 'lost=[0-9]*' | cut -d= -f2)
    echo "  held_collected=$held kernel_lost_at_registration=$lost_reg received=$received written=$written daemon_records=$own lines=$(wc -l < "$whole")"
    check "$name" "stop left nothing unwritten: received ($received) == the kernel's lines, written ($written) == every line" \
        test -n "$received" -a "$received" = "$(wc -l < "$log")" -a "$written" = "$(wc -l < "$whole")" -a "$((received + own))" = "$written"
    serials "$log" > "$work/$name/serials"
    # Records of one event (CONFIG_CHANGE, SYSCALL, PROCTITLE) share a serial; events never go back.
    check "$name" "serials in the log never decrease (records in the order the kernel made them)" \
        awk 'NR > 1 && $1 < last { exit 1 } { last = $1 }' "$work/$name/serials"
    tags "$log" live > "$work/$name/live"
    check "$name" "every live record (1..$live) is in the log, in order" is_sequence "$work/$name/live" 1 "$live"
    local registered_line first_live
    registered_line=$(line_of "$log" "op=set audit_pid=[1-9]")
    first_live=$(line_of "$log" "msg='proof live 1'")
    tags "$log" early > "$work/$name/early"
    case $expect in
    all-held)
        local marker_serial
        marker_serial=$(sed -n "${registered_line}p" "$log" | sed -n 's/.*msg=audit([0-9.]*:\([0-9]*\)).*/\1/p')
        check "$name" "the kernel's first record (serial 1, type=KERNEL) is its first line in the log" \
            grep -q '^type=KERNEL msg=audit([0-9.]*:1): ' <(head -1 "$log")
        check "$name" "every early record (1..$early) is in the log, in order" is_sequence "$work/$name/early" 1 "$early"
        check "$name" "every serial before registration (1..$((marker_serial - 1))) is in the log, before it" \
            is_sequence <(head -n $((registered_line - 1)) "$work/$name/serials") 1 $((marker_serial - 1))
        check "$name" "the held records come before the live ones" test "$registered_line" -lt "$first_live"
        check "$name" "the daemon counted $((marker_serial - 1)) held records" test "$held" = $((marker_serial - 1))
        check "$name" "the kernel lost nothing (lost=0 at registration)" test "$lost_reg" = 0
        ;;
    overflow)
        local guest_lost marker_serial
        guest_lost=$(grep -o 'lost=[0-9]*' "$r/status-before-daemon.txt" | cut -d= -f2)
        marker_serial=$(sed -n "${registered_line}p" "$log" | sed -n 's/.*msg=audit([0-9.]*:\([0-9]*\)).*/\1/p')
        check "$name" "the kernel's first record (serial 1, type=KERNEL) is its first line in the log" \
            grep -q '^type=KERNEL msg=audit([0-9.]*:1): ' <(head -1 "$log")
        check "$name" "the early records in the log are the first ones sent, in order (1..$(wc -l < "$work/$name/early"))" \
            is_sequence "$work/$name/early" 1 "$(wc -l < "$work/$name/early")"
        check "$name" "the daemon reports the overflow with the kernel's lost count ($guest_lost)" \
            grep -q "hold queue overflowed.*lost $guest_lost records" "$err"
        check "$name" "held ($held) + lost ($lost_reg) = every record made before registration ($((marker_serial - 1)))" \
            test $((held + lost_reg)) = $((marker_serial - 1))
        check "$name" "the held records come before the live ones" test "$registered_line" -lt "$first_live"
        ;;
    none-held)
        check "$name" "the daemon says the kernel held nothing" grep -q 'collected 0 records the kernel held' "$err"
        check "$name" "the daemon says why: no audit=1 on the kernel command line" grep -q 'not booted with audit=1' "$err"
        check "$name" "no early record and no boot record in the log" test ! -s "$work/$name/early" -a -z "$(grep '^type=KERNEL' "$log")"
        ;;
    esac
    check_started_before "$name"
}

# A process started before the daemon switched auditing on and one started after, each making
# $calls getppid calls under a rule with key proof-getppid once the daemon runs (init.sh). The
# kernel gives a process its audit context only if auditing has been on since boot when the
# process is created (audit_alloc), so the before-process is audited only with audit=1.
check_started_before() {
    local name=$1 r="$work/$1/result" log="$work/$1/kernel-records.log" err="$work/$1/result/daemon.err"
    local notice="processes already running before auditing was first switched on since boot are not audited"
    local before_pid after_pid before_made after_made before_logged after_logged audit_one=no
    grep -qw 'audit=1' "$r/cmdline.txt" 2>/dev/null && audit_one=yes
    before_pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$r/before.txt" 2>/dev/null)
    after_pid=$(sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$r/after.txt" 2>/dev/null)
    before_made=$(sed -n 's/.* getppid_calls=\([0-9]*\)$/\1/p' "$r/before.txt" 2>/dev/null)
    after_made=$(sed -n 's/.* getppid_calls=\([0-9]*\)$/\1/p' "$r/after.txt" 2>/dev/null)
    # The SYSCALL records of the rule's key from one pid (one per audited call).
    logged() { grep '^type=SYSCALL ' "$log" | grep -c " pid=$1 .*key=\"proof-getppid\"" || true; }
    before_logged=$(logged "${before_pid:-none}"); after_logged=$(logged "${after_pid:-none}")
    echo "  audit=1: $audit_one; before-process pid $before_pid: $before_logged of ${before_made:-?} getppid calls logged;" \
         "after-process pid $after_pid: $after_logged of ${after_made:-?}"
    check "$name" "both processes made their $calls calls while the daemon ran (before ${before_made:-none}, after ${after_made:-none})" \
        test "$before_made" = "$calls" -a "$after_made" = "$calls"
    check "$name" "the process started after the daemon is audited: $after_logged of $calls calls in the log" \
        test "$after_logged" = "$calls"
    if [ "$audit_one" = yes ]; then
        check "$name" "with audit=1 the process started before the daemon is audited too: $before_logged of $calls calls in the log" \
            test "$before_logged" = "$calls"
        check "$name" "the daemon does not say running processes are unaudited" \
            test "$(grep -c "$notice" "$err")" = 0
    else
        check "$name" "without audit=1 the process started before the daemon is not audited: $before_logged of $calls calls in the log" \
            test "$before_logged" = 0
        check "$name" "the daemon says once that running processes are unaudited until they restart, and to add audit=1" \
            test "$(grep "$notice" "$err" | grep -c 'add audit=1 to the kernel command line')" = 1
    fi
}

for variant in $variants; do
    case $variant in
    held)     boot held "audit=1 audit_backlog_limit=8192" 200 50 "$accel"; check_variant held 200 50 all-held ;;
    overflow) boot overflow "audit=1" 200 20 "$accel"; check_variant overflow 200 20 overflow ;;
    default)  boot default "audit=1" 40 20 "$accel"; check_variant default 40 20 all-held ;;
    noaudit)  boot noaudit "" 20 20 "$accel"; check_variant noaudit 20 20 none-held ;;
    *) fail "unknown variant $variant" ;;
    esac
done

note "took $(( $(date +%s) - started )) s in all; results in $work"
if [ "$failures" -gt 0 ]; then fail "$failures checks failed"; fi
note "all checks passed"
