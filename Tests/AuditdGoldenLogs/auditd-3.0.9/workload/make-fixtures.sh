#!/bin/bash
# Makes the golden fixtures with Debian's auditd 3.0.9 on this machine: one run per log format on
# the same workload. Must run as root, inside the shared kernel lock:
#     flock /tmp/swift-auditd-kernel.lock bash make-fixtures.sh OUTPUT_DIR
# It refuses to start when another audit daemon is registered, deletes only the rules it added,
# and puts the kernel's enabled flag back as it found it.
set -u
out=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
work=/tmp/enrich-work
rm -rf "$work"; mkdir -p "$work/watched"
gcc -O1 -o "$work/network" "$here/network.c"
gcc -O1 -o "$work/int80" "$here/int80.c"

status() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }
[ "$(status pid)" = 0 ] || { echo "another audit daemon is registered (pid $(status pid)); not running" >&2; exit 1; }
[ "$(auditctl -l)" = "No rules" ] || { echo "the kernel has rules loaded; not running" >&2; exit 1; }
enabled_before=$(status enabled)
getent passwd enrichtest > /dev/null && { echo "user enrichtest exists already" >&2; exit 1; }

# rules -w -a adds them, rules -W -d deletes them.
rules() {
    auditctl $1 "$work/watched" -p wa -k enrich-watch
    auditctl $2 always,exit -F arch=b64 -S execve -F auid=1000 -k enrich-exec
    auditctl $2 always,exit -F arch=b64 -S connect,bind,sendto -F auid=1000 -k enrich-net
    auditctl $2 always,exit -F arch=b64 -S chown,fchown,fchownat,lchown -F auid=1000 -k enrich-chown
    auditctl $2 always,exit -F arch=b32 -S getpid -F auid=1000 -k enrich-ia32
}

daemon=
cleanup() {
    rules -W -d > /dev/null 2>&1
    [ -n "$daemon" ] && kill -TERM "$daemon" 2> /dev/null && wait "$daemon"
    auditctl -e "$enabled_before" > /dev/null
    getent passwd enrichtest > /dev/null && userdel enrichtest
    getent group enrichtest > /dev/null && groupdel enrichtest
}
trap cleanup EXIT

for format in RAW ENRICHED; do
    conf=/tmp/enrich-auditd-$format
    rm -rf "$conf"; mkdir -m 0750 "$conf"
    printf 'log_file = %s/audit.log\nlog_format = %s\nflush = INCREMENTAL_ASYNC\nfreq = 50\nmax_log_file = 100\nspace_left = 2\nadmin_space_left = 1\n' \
        "$conf" "$format" > "$conf/auditd.conf"
    chmod 0640 "$conf/auditd.conf"
    auditd -n -c "$conf" & daemon=$!
    for _ in $(seq 50); do [ "$(status pid)" = "$daemon" ] && break; sleep 0.1; done
    [ "$(status pid)" = "$daemon" ] || { echo "auditd did not register" >&2; exit 1; }
    auditctl -e 1 > /dev/null
    rules -w -a > /dev/null
    ( echo 1000 > /proc/self/loginuid && exec bash "$here/workload.sh" "$work" )
    sleep 1
    rules -W -d > /dev/null
    kill -TERM "$daemon"; wait "$daemon"; daemon=
    auditctl -e "$enabled_before" > /dev/null
    cp "$conf/audit.log" "$out/audit-$(echo $format | tr A-Z a-z).log"
done
cleanup; trap - EXIT
auditctl -s; auditctl -l
