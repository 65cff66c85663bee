#include "CAuparse.h"

// Exported by libauparse.so.0, declared in its uninstalled auparse/auparse-idata.h (3.0.9).
int auparse_interp_adjust_type(int rtype, const char *name, const char *val);
char *auparse_do_interpretation(int type, const CAuparse_idata *id, auparse_esc_t escape_mode);
void _auparse_load_interpretations(const char *buf);
void _auparse_free_interpretations(void);

_Static_assert(sizeof(CAuparse_idata) == 48, "idata of auparse 3.0.9 on LP64 is 48 bytes");

int CAuparse_field_type(int rtype, const char *name, const char *val) {
    return auparse_interp_adjust_type(rtype, name, val);
}

char *CAuparse_interpret(int type, const CAuparse_idata *data, auparse_esc_t escape) {
    return auparse_do_interpretation(type, data, escape);
}

void CAuparse_load_interpretations(const char *enrichment) { _auparse_load_interpretations(enrichment); }

void CAuparse_free_interpretations(void) { _auparse_free_interpretations(); }
