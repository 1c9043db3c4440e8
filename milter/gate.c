/*
 * gate — a counting semaphore with a queue; see gate.h.
 *
 * Each waiter queues a ticket on its own stack. A slot freed goes to the oldest ticket
 * (granted under the lock), so a late caller cannot overtake and nobody starves while the
 * others come and go. A waiter that gives up removes its ticket under the same lock: a
 * ticket is either granted (the waiter holds the slot) or removed, never both.
 */
#include "gate.h"

typedef struct gate_ticket {
    gboolean granted;
} gate_ticket;

/* The lock is held. */
static void gate_grant(gate *g)
{
    gboolean any = FALSE;
    while (g->free > 0 && !g_queue_is_empty(&g->waiting)) {
        gate_ticket *t = g_queue_pop_head(&g->waiting);
        t->granted = TRUE;
        g->free--;
        any = TRUE;
    }
    if (any)
        g_cond_broadcast(&g->changed);
}

gboolean gate_enter(gate *g, gint64 max_wait_us, gint64 progress_us,
                    gboolean (*progress)(void *), void *arg)
{
    g_mutex_lock(&g->lock);
    if (g->free > 0 && g_queue_is_empty(&g->waiting)) {
        g->free--;
        g_mutex_unlock(&g->lock);
        return TRUE;
    }
    gate_ticket t = { FALSE };
    g_queue_push_tail(&g->waiting, &t);
    gint64 now = g_get_monotonic_time();
    gint64 give_up = now + max_wait_us;
    gint64 next_progress = now + progress_us;
    while (!t.granted && now < give_up) {
        g_cond_wait_until(&g->changed, &g->lock, MIN(next_progress, give_up));
        now = g_get_monotonic_time();
        if (!t.granted && progress && now >= next_progress && now < give_up) {
            /* Not under the lock: progress talks to the MTA and may take its time. */
            g_mutex_unlock(&g->lock);
            gboolean go_on = progress(arg);
            g_mutex_lock(&g->lock);
            next_progress = now + progress_us;
            if (!go_on)
                give_up = now;
        }
    }
    if (!t.granted)
        g_queue_remove(&g->waiting, &t);
    g_mutex_unlock(&g->lock);
    return t.granted;
}

void gate_leave(gate *g)
{
    g_mutex_lock(&g->lock);
    g->free++;
    gate_grant(g);
    g_mutex_unlock(&g->lock);
}
