/*
 * context — what main.c needs of context.c beyond gateway.h: dropping the current
 * snapshot at exit (requests still holding it keep it alive until they end).
 */
#ifndef REGLO_GATEWAY_CONTEXT_H
#define REGLO_GATEWAY_CONTEXT_H

void gw_snapshot_shutdown(void);

#endif
