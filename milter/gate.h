/*
 * gate — at most N holders at once, first come first served, with a bounded wait.
 *
 * reglo-milter parses and rewrites large messages behind a gate: twenty 10 MB invoices that
 * end together would otherwise each hold a decoded PDF and poppler's copy at the same time.
 * A waiter calls a progress function at regular intervals (smfi_progress: the MTA must not
 * time the message out) and gives up after a maximum wait, so a stuck holder can delay
 * messages but never block them for good, or at once when progress says the waiting is
 * pointless (the MTA has gone). A gate is statically allocated (GATE_INIT) and
 * lives as long as the process; it owns nothing. Every successful gate_enter() must be
 * followed by exactly one gate_leave().
 */
#ifndef REGLO_GATE_H
#define REGLO_GATE_H

#include <glib.h>

typedef struct gate {
    GMutex lock;                   /* static GMutex and GCond need no initialisation */
    GCond changed;
    int free;                      /* slots not held */
    GQueue waiting;                /* of gate_ticket*, oldest first */
} gate;

#define GATE_INIT(slots) { .free = (slots), .waiting = G_QUEUE_INIT }

/*
 * Takes a slot, waiting at most max_wait_us microseconds behind earlier callers; while
 * waiting, progress(arg) runs every progress_us (progress may be NULL) and stops the wait
 * when it returns FALSE. FALSE: no slot (gave up), nothing to leave.
 */
gboolean gate_enter(gate *g, gint64 max_wait_us, gint64 progress_us,
                    gboolean (*progress)(void *), void *arg);
void gate_leave(gate *g);

#endif
