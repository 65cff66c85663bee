#!/usr/bin/env python3
"""Prints RAW lines that probe the corners of auditd 3.0.9's enrichment, one a line.

    python3 make-probes.py > probes-raw.txt
    ./oracle < probes-raw.txt > probes-enriched.txt

Names resolve through this machine's accounts (accounts.txt); lines whose output would depend on
the machine's network interfaces (link-local IPv6 scopes) are left out.
"""
stamp = "msg=audit(1700000000.000:%d): "
serial = [0]
def line(type_name, body, node=None):
    serial[0] += 1
    prefix = ("node=%s " % node) if node else ""
    print(prefix + "type=%s " % type_name + stamp % serial[0] + body)

user = "pid=1 uid=0 auid=4294967295 ses=1 msg='"
# SOCKADDR: every family 0..49 with a long address, then lengths and malformed values.
for fam in range(0, 50):
    line("SOCKADDR", "saddr=%02X00" % fam + "11223344556677889900AABBCCDDEEFF" + "00" * 12)
for v in ["0100", "010041", "01004142", "0200", "02", "0", "0A00", "10000000000000000000",
          "100000000000000000000000", "0A0000500000000020010DB800000000000000000000000105000000",
          "0A000050000000000000000000000000FE80000000000000000000000000000100000000",
          "0A000016000000000000000000000000000000000000000000000000", "0A0001BB00000000FFFF0000000000000000FFFF0A00000100000000",
          "0200005F7F000001", "0200005F7F00000100", "0200005F7F000001000000000000000000000000",
          "0200005f7f0000010000000000000000", "0200005G7F0000010000000000000000", "020001BBC0A80101",
          "020001BBC0A801010000000000000000", "01002F746D702F782079", "0100004142", "01002F" + "41" * 120,
          "0100" + "00" + "42" * 120, "0300" + "41424344454647" + "00" * 30,
          "03004100434445464748" + "00" * 20, "0900" + "3132333435363738393031323334353637" + "00" * 4,
          "1000", "0300", "0900", "1100", "02000035(x)", "0200:", "0200003500000000000000000000000000,",
          "(null)", "(none)", "(abc", "2A00" + "00" * 20, "FFFF" + "00" * 20, "1000000078563412FFFFFFFF",
          "01002F76" + "\x01" + "41", "0a000050" + "00" * 24]:
    line("SOCKADDR", "saddr=" + v)
# Field parsing: quotes, punctuation, signs, overflow, names with '(' and empty values.
line("USER", user + "uid=\"1000\" gid=' euid=5: suid=5, fsuid=5' egid=5) sgid=5), ouid=5': ogid=5', id=(null) iuid=(none) obj_uid=5)),'")
line("USER", user + "(uid=1000 ((gid=5 uid==7 gid=a=b uid=+12 uid=-1 uid=-2 uid=18446744073709551615 uid=18446744073709551616 uid=-18446744073709551615 uid=4294967296 uid=  uid=0x10 uid=1e3'")
line("USER", user + "text uid=3000000000 gid=65534 uid=65534 auid=65534 egid=100 euid=2 euid=3 euid=4 euid=5 euid=6 euid=7 euid=8 euid=9 euid=10 euid=13 euid=33 euid=34 euid=38 euid=39 euid=41 euid=42 euid=100 euid=65534'")
line("USER", user + "text=hello'")
line("USER", user + "uid=7'")
line("USER", user + "'")
line("USER", "pid=1 uid=0 auid=4294967295 ses=1 msg='")
line("USER", "pid=1 uid=0 auid=4294967295 ses=1 msg=audit(1.2:3) msg=abc uid=1 msg='=5 uid=2 msg=\"uid=3\" msg='msg='uid=4 msg='auid=5'")
line("USER", user + "uid=\t7 gid=\v-7 euid=7\t8 fsuid= 1 sgid=\f2 egid=\r3'")
line("USER", user + "new_gid=4 inode_uid=5 inode_gid=6 sauid=7 obj_uid=8 obj_gid=9 oauid=10 old-auid=13 iuid=33 igid=34 ogid=38 uring_op=1 UID=0 Gid=0 id=1000'")
line("USER", user + "uid=99999999999999999999999 gid=-99999999999999999999999 uid=" + "9" * 150 + "'")
line("USER", "pid=1 uid=0 auid=4294967295 ses=1 msg='uid= msg='gid=: uid=: gid=' uid=, euid=) suid=' egid=:'")
line("USER", user + "uid=5 uid=24 uid=43 uid=62 uid=5 uid=1000 uid=1019 uid=1000 uid=65534 uid=65534'")
line("USER", user + "uid=0" + " uid=0" * 30 + "'")
# SYSCALL: arch and syscall from the record's 2nd and 3rd fields, socketcall and ipc from a0.
for a0 in list(range(0, 22)) + [0xffffffffffffffff]:
    line("SYSCALL", "arch=40000003 syscall=102 success=no exit=0 a0=%x a1=0 a2=0 a3=0" % a0)
for a0 in [1, 2, 3, 4, 5, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25]:
    line("SYSCALL", "arch=40000003 syscall=117 success=no exit=0 a0=%x a1=0" % a0)
for body in ["arch=40000003 syscall=102 success=no exit=0 x=1 a0=3", "arch=40000003 syscall=102 success=no exit=0 a0=zz3",
             "arch=40000003 syscall=102 success=no exit=0 a0=1ffffffffffffffff", "arch=40000003 syscall=102 success=no exit=0 a0=100000003",
             "arch=c000003e syscall=9999 success=no exit=0", "arch=deadbeef syscall=1 success=no exit=0",
             "arch=1c000003e syscall=1 success=no exit=0", "arch=c00000b7 syscall=1 success=no exit=0 arch=40000003",
             "arch=zz syscall=1 arch=c000003e", "arch=c000003e syscall=-1 x=1", "arch=c000003e syscall=99999999999999999999",
             "arch=c000003e syscall=4294967297", "arch=c000003e syscall=0x3b", "arch=0xc000003e syscall=59",
             "arch=99999999999999999999 syscall=59", " arch=c000003e syscall=59 uid=0", "arch=c0000028 syscall=5 a0=1",
             "arch=40000028 syscall=5", "arch=80000016 syscall=5", "arch=c0000015 syscall=5", "arch=80000015 syscall=5",
             "arch=14 syscall=5", "arch=c000003e syscall=59 items=2 ppid=1 pid=2 auid=1000 uid=0 gid=0 euid=1000 suid=0 fsuid=0 egid=1000 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"sh\" exe=\"/bin/sh\" key=(null)",
             "syscall=59 arch=c000003e", "arch=c000003e", "arch= syscall=59 uid=0 gid=", "arch=c000003e syscall=59 uid= gid=0",
             "uid=0 =5 gid=0", "arch=c000003e syscall=59 key=6B31016B32 uid=0", "arch=c000003e syscall=59 key=\"k\" uid=0"]:
    line("SYSCALL", body)
line("SYSCALL", "arch=c000003e syscall=59 uid=0", node="host1")
line("SYSCALL", "arch=c000003e syscall=59 uid=0 saddr=0100", node="n")
print("type=SYSCALL msg=audit(1700000000.000:999):arch=c000003e syscall=59 uid=0")
print("type=SYSCALL msg=audit(1700000000.000): arch=c000003e syscall=59 uid=0")
print("type=SYSCALL msg=audit(1700000000.000:1) arch=c000003e syscall=59 uid=0")
print("type=SYSCALL msg=lost")
print("type=SYSCALL msg=hello uid=0")
# Record types that change how fields are read.
line("EXECVE", "argc=2 a0=\"x\" a1=\"y\" auid=0 uid=0 arch=c000003e a2_len=4 argc=3")
line("TRUSTED_APP", "pid=1 uid=0 auid=0 msg='uid=0'")
line("ADD_GROUP", user + "op=add id=100 exe=\"/x\" res=success'")
line("GRP_MGMT", user + "op=mod id=100 exe=\"/x\" res=success'")
line("DEL_GROUP", user + "op=del id=100 exe=\"/x\" res=success'")
line("ADD_USER", user + "op=add id=100 exe=\"/x\" res=success'")
line("AVC", "avc:  denied  { read } for  pid=1 comm=\"x\" saddr=0200 uid=0")
line("AVC", "avc:  denied  { uid=5 read } for pid=1 uid=7")
line("AVC", "avc:  denied  { %s} for pid=1 uid=7" % "".join("perm%03d " % i for i in range(1, 41)))
line("AVC", "avc:  denied  { %s} for pid=1 uid=7" % "".join("perm%03d " % i for i in range(1, 28)))
line("AVC", "avc:  denied  { %s} for pid=1 uid=7" % "".join("perm%03d " % i for i in range(1, 29)))
line("AVC", "avc:  granted  { read } uid=7")
line("AVC", "avc:  denied  { uid=5 } uid=7", node="x")
line("AVC", "avc:  denied  read uid=7")
line("AVC", "denied uid=7")
line("USER_AVC", "pid=1 uid=0 auid=4294967295 ses=4294967295 msg='avc:  denied  { uid=3 } for auid=5'")
line("NETFILTER_PKT", "mark=0 saddr=127.0.0.1 daddr=127.0.0.1 uid=0")
line("UNKNOWN[2999]", "uid=0 gid=0")
line("DAEMON_START", "op=start ver=3.0.9 format=enriched kernel=6.1 auid=4294967295 pid=1 uid=0 ses=4294967295 res=success")
line("DAEMON_END", "op=terminate auid=-1 uid=-1 ses=-1 pid=-1 subj=? res=success")
line("CWD", "cwd=\"/root\"")
line("PROCTITLE", "proctitle=2F62696E2F7368")
# The format buffer's budget: long lines, a pair that does not fit, the 8969-byte cap. Each line is
# padded to an exact length at or below 8937 bytes, the longest RAW line auditd writes.
def sized(length, tail, fields=user):
    serial[0] += 1
    head = "type=USER " + stamp % serial[0] + fields + "text="
    print(head + "p" * (length - len(head) - len(tail)) + tail)
sized(8900, " uid=" + "9" * 150 + " gid=0 uid=5'")
sized(8937, " uid=0" * 26 + "'")
sized(8930, " saddr=0A0000500000000020010DB800000000000000000000000100000000'")
sized(8800, " uid=1000" * 30 + "'")
sized(8937, " uid=1000'")
sized(8200, " saddr=01002F" + "41" * 105 + " saddr=01002F" + "41" * 105 + " uid=0" * 40 + "'")
sized(8937, " uid=" + "9" * 150 + " gid=0'", fields="")
sized(8937, " uid=" + "9" * 150 + "'", fields="")
