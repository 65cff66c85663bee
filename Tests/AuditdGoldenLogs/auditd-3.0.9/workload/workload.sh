#!/bin/bash
# The workload whose records the golden fixtures hold. Run by make-fixtures.sh with loginuid 1000,
# so the rules (-F auid=1000) see only this script's processes. Every step is separated by a short
# pause, so auditd has handled one step's records before the next changes the user database.
set -u
work=$1
pause() { sleep 0.3; }

/bin/true; pause
/bin/ls "$work/watched" > /dev/null; pause
/bin/echo "two words" 'quote"d' > /dev/null; pause
echo hello > "$work/watched/file1"; pause
mkdir "$work/watched/dir1"; pause
"$work/network"; pause
"$work/int80" > /dev/null; pause
auditctl -m "enrich test message"; pause
auditctl -m 'uid=0 gid=0 auid=4294967295 id=-1 euid=1000 ouid=65534 ogid=65534 quote"d'; pause
auditctl -m "uid=99999999999999999999999 gid=12abc suid=-2 fsuid=4294967294 egid=+7 saddr=0200 arch=c000003e syscall=59"; pause
groupadd -g 2345 enrichtest; pause
useradd -u 2345 -g 2345 -M -N -s /usr/sbin/nologin enrichtest; pause
chown enrichtest:enrichtest "$work/watched/file1"; pause
touch "$work/watched/file1"; pause
runuser -u enrichtest -- /bin/true; pause
usermod -c "Enrich Test" enrichtest; pause
userdel enrichtest; pause
getent group enrichtest > /dev/null && groupdel enrichtest; pause
touch "$work/watched/file1"; pause
auditctl -m "$(printf 'uid=0 %.0s' $(seq 1400))"; pause
rm -rf "$work/watched/file1" "$work/watched/dir1"; pause
