// libauparse's field interpreter, the one `ausearch -i` prints with: only what Swift cannot reach
// by itself.
//
// ausearch (src/ausearch-report.c) calls four functions libauparse.so.0 exports but whose header,
// auparse/auparse-idata.h, Debian does not install. They are declared here as that header declares
// them in audit-userspace v3.0.9, with its `idata` struct mirrored field for field; the library
// reads the struct, so a different layout would be misread, not rejected: keep it with the
// version the Debian package ships (libauparse0 1:3.0.9).
//
// No buffering, policy or allocation happens here, except what libauparse itself returns.
#ifndef CAUPARSE_H
#define CAUPARSE_H

#include <auparse-defs.h>

/// `idata` of auparse/auparse-idata.h (3.0.9): what one field's interpretation needs to know.
typedef struct {
    unsigned int machine;    // the machine of the event (libaudit's machine_t)
    int syscall;             // the system call number of the event
    unsigned long long a0;   // the system call's first argument
    unsigned long long a1;   // and its second
    const char *cwd;         // the current directory (ausearch passes NULL)
    const char *name;        // the field's name
    const char *val;         // the field's value as written
} CAuparse_idata;

/// The interpretation type of field `name` in a record of type `rtype` (`auparse_interp_adjust_type`).
int CAuparse_field_type(int rtype, const char *name, const char *val);

/// The interpreted text of a field, malloc'ed (`auparse_do_interpretation`); the caller frees it.
char *CAuparse_interpret(int type, const CAuparse_idata *data, auparse_esc_t escape);

/// Loads an ENRICHED record's names (the text after 0x1D) for the next interpretations, and forgets
/// them (`_auparse_load_interpretations`, `_auparse_free_interpretations`).
void CAuparse_load_interpretations(const char *enrichment);
void CAuparse_free_interpretations(void);

#endif
