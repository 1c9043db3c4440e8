/*
 * cidr — network lists for trust decisions; see cidr.h.
 * IPv4-mapped IPv6 client addresses (::ffff:a.b.c.d) match IPv4 networks.
 */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
} cidr;

struct cidr_list {
    GArray *nets;            /* of cidr */
};

static gboolean cidr_parse(const char *text, cidr *out)
{
    char buf[INET6_ADDRSTRLEN + 8];
    if (!text || strlen(text) >= sizeof buf)
        return FALSE;
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    int max;
    memset(out, 0, sizeof *out);
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    } else
        return FALSE;
    out->prefix = max;
    if (slash) {
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (!g_ascii_isdigit(slash[1]) || *end != '\0' || p < 0 || p > max)
            return FALSE;
        out->prefix = (int) p;
    }
    return TRUE;
}

static gboolean prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes) != 0)
        return FALSE;
    if (rest == 0)
        return TRUE;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

cidr_list *cidr_list_new(void)
{
    cidr_list *list = g_new0(cidr_list, 1);
    list->nets = g_array_new(FALSE, FALSE, sizeof(cidr));
    return list;
}

void cidr_list_free(cidr_list *list)
{
    if (!list)
        return;
    g_array_free(list->nets, TRUE);
    g_free(list);
}

gboolean cidr_valid(const char *text)
{
    cidr c;
    return cidr_parse(text, &c);
}

gboolean cidr_list_add(cidr_list *list, const char *text)
{
    cidr c;
    if (!cidr_parse(text, &c))
        return FALSE;
    g_array_append_val(list->nets, c);
    return TRUE;
}

gboolean cidr_list_match(const cidr_list *list, const struct sockaddr *sa)
{
    unsigned char addr[16];
    int family;
    if (!sa)
        return FALSE;
    if (sa->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *) sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            memcpy(addr, a6->s6_addr + 12, 4);
        } else {
            family = AF_INET6;
            memcpy(addr, a6->s6_addr, 16);
        }
    } else
        return FALSE;
    for (guint i = 0; i < list->nets->len; i++) {
        const cidr *c = &g_array_index(list->nets, cidr, i);
        if (c->family == family && prefix_equal(c->addr, addr, c->prefix))
            return TRUE;
    }
    return FALSE;
}
