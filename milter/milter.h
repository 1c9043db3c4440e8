/*
 * milter — what the reglo-milter modules share: the process-wide configuration snapshot,
 * link keys and database pool (set up by main before smfi_main, read-only after).
 */
#ifndef REGLO_MILTER_H
#define REGLO_MILTER_H

#include <libmilter/mfapi.h>

#include "conf.h"
#include "db.h"
#include "token.h"

typedef struct milter_globals {
    reglo_conf *conf;
    keyring *keys;
    db_pool *pool;
} milter_globals;

extern milter_globals milter;

/* The filter description registered with libmilter (callbacks.c). */
extern struct smfiDesc milter_desc;

#endif
