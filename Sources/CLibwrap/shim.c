#include "CLibwrap.h"

#include <syslog.h>
#include <tcpd.h>

/* auditd-listen.c defines these for libwrap's connection logging; so do we. */
int allow_severity = LOG_INFO;
int deny_severity = LOG_NOTICE;

int swift_auditd_hosts_allowed(const char *daemon_name, const char *client_name, const char *client_address)
{
	return hosts_ctl((char *)daemon_name, client_name ? (char *)client_name : STRING_UNKNOWN,
			 (char *)client_address, STRING_UNKNOWN);
}

void swift_auditd_set_hosts_tables(const char *allow_table, const char *deny_table)
{
	hosts_allow_table = (char *)allow_table;
	hosts_deny_table = (char *)deny_table;
}
