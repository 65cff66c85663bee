#ifndef SWIFT_AUDITD_CLIBWRAP_H
#define SWIFT_AUDITD_CLIBWRAP_H

/// tcp_wrappers' access check for one client, as auditd's `auditd_tcpd_check` (src/auditd-listen.c)
/// asks it for the daemon name "auditd": 1 when /etc/hosts.allow and /etc/hosts.deny allow the
/// client, 0 when they refuse it. `client_name` is the client's host name, or NULL when it has
/// none (libwrap's `unknown`, which the `UNKNOWN` pattern matches).
///
/// Why C: `hosts_ctl` takes `char *` for strings it never writes, and `STRING_UNKNOWN` and the
/// `allow_severity`/`deny_severity` globals are C macros and definitions a program supplies.
int swift_auditd_hosts_allowed(const char *daemon_name, const char *client_name, const char *client_address);

/// Points libwrap at other tables than /etc/hosts.allow and /etc/hosts.deny (its
/// `hosts_allow_table` and `hosts_deny_table` globals). The strings must outlive the next check.
void swift_auditd_set_hosts_tables(const char *allow_table, const char *deny_table);

#endif
