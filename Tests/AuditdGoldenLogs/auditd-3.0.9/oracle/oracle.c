// Oracle: the ENRICHED step of auditd 3.0.9 (src/auditd-event.c: format_enrich), driven through
// Debian's own libauparse.so.0 / libaudit.so.1, the libraries /usr/sbin/auditd links. Reads RAW
// lines on stdin and writes the ENRICHED lines auditd would write for them: one auparse instance
// fed one line at a time (auparse_new_buffer), the uid/gid caches flushed before ADD_USER and
// ADD_GROUP and after USER_MGMT, DEL_USER, DEL_GROUP and GRP_MGMT, the 9225-byte format buffer,
// MIN_SPACE_LEFT 24, and the 8969-byte cap of replace_event_msg. Checked against the golden logs:
// it reproduces every line of audit-enriched.log whose names the machine still resolves the same.
//
// Build: gcc -O1 -o oracle oracle.c -l:libauparse.so.0 -laudit   (needs libaudit-dev, auditd)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <libaudit.h>

typedef struct opaque auparse_state_t;
auparse_state_t *auparse_init(int source, const void *b);
int auparse_new_buffer(auparse_state_t *au, const char *data, size_t data_len);
void auparse_set_escape_mode(auparse_state_t *au, int mode);
int auparse_set_eoe_timeout(time_t t);
int auparse_first_record(auparse_state_t *au);
int auparse_next_field(auparse_state_t *au);
int auparse_get_type(const auparse_state_t *au);
int auparse_get_field_type(const auparse_state_t *au);
const char *auparse_get_field_name(const auparse_state_t *au);
const char *auparse_interpret_field(const auparse_state_t *au);
void _auparse_flush_caches(void);

#define FORMAT_BUF_LEN (8970 + 255)
#define MIN_SPACE_LEFT 24
static char format_buf[FORMAT_BUF_LEN];
static int sep_done;
static auparse_state_t *au;

static int add_separator(unsigned int len_left) {
    if (sep_done == 0) { format_buf[FORMAT_BUF_LEN - len_left] = 0x1D; sep_done++; return 1; }
    sep_done++; return 0;
}

static int add_simple_field(size_t len_left, int encode) {
    char field_name[64], *enc = NULL, *ptr; const char *value, *nptr; size_t nlen, vlen, tlen; unsigned i = 0; int num;
    nptr = auparse_get_field_name(au);
    while (*nptr && i < 63) { field_name[i++] = toupper(*nptr); nptr++; }
    field_name[i] = 0; nlen = i;
    value = auparse_interpret_field(au);
    if (value == NULL) value = "?";
    vlen = strlen(value);
    if (encode) { enc = audit_encode_nv_string(field_name, value, vlen); if (!enc) return 0; tlen = 1 + strlen(enc) + 1; }
    else tlen = 1 + nlen + 1 + vlen + 1;
    if (tlen >= len_left) { free(enc); return 0; }
    ptr = &format_buf[FORMAT_BUF_LEN - len_left];
    if (sep_done > 1) { *ptr = ' '; ptr++; num = 1; } else num = 0;
    if (encode) { num += snprintf(ptr, tlen, "%s", enc); free(enc); }
    else num += snprintf(ptr, tlen, "%s=%s", field_name, value);
    return num;
}

int main(int argc, char **argv) {
    char *line = NULL; size_t cap = 0; ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n-1] == '\n') line[--n] = 0;
        // format_raw's limit: 8970 - 32 without a node name, FORMAT_BUF_LEN - 32 with one.
        snprintf(format_buf, strncmp(line, "node=", 5) == 0 ? FORMAT_BUF_LEN - 32 : 8970 - 32, "%s", line);
        size_t mlen = strlen(format_buf), len = FORMAT_BUF_LEN - mlen;
        if (len > MIN_SPACE_LEFT) {
            format_buf[mlen] = 0x0A; format_buf[mlen+1] = 0;
            char *message = strdup(format_buf);
            format_buf[mlen] = 0;
            int ok = 1;
            if (au == NULL) {
                au = auparse_init(3, message);
                if (!au) ok = 0; else { auparse_set_escape_mode(au, 0); auparse_set_eoe_timeout(2); }
            } else if (auparse_new_buffer(au, message, mlen + 1)) ok = 0;
            if (ok) {
                sep_done = 0;
                int rc = auparse_first_record(au);
                int rtype = auparse_get_type(au);
                if (getenv("ORACLE_DEBUG")) fprintf(stderr, "rc=%d rtype=%d\n", rc, rtype);
                if (rtype == AUDIT_ADD_USER || rtype == AUDIT_ADD_GROUP) _auparse_flush_caches();
                while (rc > 0 && len > MIN_SPACE_LEFT) {
                    int type = auparse_get_field_type(au);
                    size_t vlen;
                    if (getenv("ORACLE_DEBUG")) fprintf(stderr, "  %s type=%d\n", auparse_get_field_name(au), type);
                    switch (type) {
                    case 1: case 2:
                        if (add_separator(len)) len--;
                        vlen = add_simple_field(len, 1); len -= vlen; break;
                    case 3: case 4: case 9:
                        if (add_separator(len)) len--;
                        vlen = add_simple_field(len, 0); len -= vlen; break;
                    default: break;
                    }
                    rc = auparse_next_field(au);
                }
                if (rtype == AUDIT_USER_MGMT || rtype == AUDIT_DEL_USER || rtype == AUDIT_DEL_GROUP || rtype == AUDIT_GRP_MGMT)
                    _auparse_flush_caches();
            }
            free(message);
        }
        size_t out = strlen(format_buf);
        if (!getenv("ORACLE_NO_CAP") && out >= 8970 - 1) out = 8970 - 1;
        fwrite(format_buf, 1, out, stdout); fputc('\n', stdout); fflush(stdout);
    }
    return 0;
}
