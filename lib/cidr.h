/*
 * cidr — IPv4/IPv6 networks ("127.0.0.0/8", "::1", "192.0.2.7") and membership tests,
 * for the milter's trusted_networks. A cidr_list owns its entries.
 */
#ifndef REGLO_CIDR_H
#define REGLO_CIDR_H

#include <glib.h>
#include <sys/socket.h>

typedef struct cidr_list cidr_list;

cidr_list *cidr_list_new(void);
void cidr_list_free(cidr_list *list);
/* FALSE when text is not an address or network. */
gboolean cidr_list_add(cidr_list *list, const char *text);
gboolean cidr_list_match(const cidr_list *list, const struct sockaddr *sa);
gboolean cidr_valid(const char *text);

#endif
