/*
 * test_cidr — trusted network lists: IPv4 and IPv6 prefixes (/0, /32, /128, odd lengths),
 * bare addresses, IPv4-mapped IPv6 clients matching IPv4 networks, and garbage rejected.
 */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cidr.h"
#include "testutil.h"

/* The client address as libmilter hands it over: a sockaddr of the right family. */
static gboolean match(const cidr_list *list, const char *ip)
{
    if (strchr(ip, ':')) {
        struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
        ck_assert_msg(inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1, "bad test address %s", ip);
        return cidr_list_match(list, (const struct sockaddr *) &sin6);
    }
    struct sockaddr_in sin = { .sin_family = AF_INET };
    ck_assert_msg(inet_pton(AF_INET, ip, &sin.sin_addr) == 1, "bad test address %s", ip);
    return cidr_list_match(list, (const struct sockaddr *) &sin);
}

static cidr_list *list_of(const char *const *nets)
{
    cidr_list *list = cidr_list_new();
    for (int i = 0; nets[i]; i++)
        ck_assert_msg(cidr_list_add(list, nets[i]), "rejected %s", nets[i]);
    return list;
}

static void expect_match(const cidr_list *list, const char *ip)
{
    ck_assert_msg(match(list, ip), "%s should match", ip);
}

static void expect_no_match(const cidr_list *list, const char *ip)
{
    ck_assert_msg(!match(list, ip), "%s should not match", ip);
}

START_TEST(test_ipv4_prefixes)
{
    const char *nets[] = { "10.0.0.0/8", "192.168.1.0/24", "172.16.0.0/12", "198.51.100.64/27",
                           NULL };
    cidr_list *list = list_of(nets);
    expect_match(list, "10.0.0.0");
    expect_match(list, "10.255.255.255");
    expect_no_match(list, "11.0.0.0");
    expect_no_match(list, "9.255.255.255");
    expect_match(list, "192.168.1.1");
    expect_no_match(list, "192.168.2.1");
    expect_match(list, "172.16.0.1");
    expect_match(list, "172.31.255.254");
    expect_no_match(list, "172.32.0.1");
    expect_no_match(list, "172.15.255.255");
    expect_match(list, "198.51.100.64");
    expect_match(list, "198.51.100.95");
    expect_no_match(list, "198.51.100.63");
    expect_no_match(list, "198.51.100.96");
    cidr_list_free(list);

    /* A network written with host bits set still means the network. */
    const char *loose[] = { "192.0.2.77/24", NULL };
    list = list_of(loose);
    expect_match(list, "192.0.2.1");
    expect_no_match(list, "192.0.3.1");
    cidr_list_free(list);
}
END_TEST

START_TEST(test_ipv4_extremes)
{
    const char *all[] = { "0.0.0.0/0", NULL };
    cidr_list *list = list_of(all);
    expect_match(list, "1.2.3.4");
    expect_match(list, "255.255.255.255");
    expect_match(list, "0.0.0.0");
    expect_match(list, "::ffff:8.8.8.8");
    expect_no_match(list, "::1");          /* an IPv4 network says nothing about IPv6 */
    expect_no_match(list, "2001:db8::1");
    cidr_list_free(list);

    const char *host[] = { "192.0.2.7/32", "203.0.113.9", NULL };
    list = list_of(host);
    expect_match(list, "192.0.2.7");
    expect_no_match(list, "192.0.2.6");
    expect_no_match(list, "192.0.2.8");
    expect_match(list, "203.0.113.9");
    expect_no_match(list, "203.0.113.10");
    cidr_list_free(list);

    const char *odd[] = { "128.0.0.0/1", NULL };
    list = list_of(odd);
    expect_match(list, "200.1.1.1");
    expect_no_match(list, "127.255.255.255");
    cidr_list_free(list);
}
END_TEST

START_TEST(test_ipv6_prefixes)
{
    const char *nets[] = { "2001:db8::/32", "fd00::/8", "fe80::/10", "2001:db8:ffff:1::/63",
                           NULL };
    cidr_list *list = list_of(nets);
    expect_match(list, "2001:db8::1");
    expect_match(list, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    expect_no_match(list, "2001:db9::1");
    expect_match(list, "fd12:3456::1");
    expect_no_match(list, "fe00::1");
    expect_match(list, "fe80::1");
    expect_match(list, "febf::1");
    expect_no_match(list, "fec0::1");
    expect_no_match(list, "10.0.0.1");
    cidr_list_free(list);

    const char *all[] = { "::/0", NULL };
    list = list_of(all);
    expect_match(list, "::1");
    expect_match(list, "2001:db8::1");
    expect_no_match(list, "10.0.0.1");   /* an IPv6 network says nothing about IPv4 */
    cidr_list_free(list);

    const char *host[] = { "::1", "2001:db8::42/128", NULL };
    list = list_of(host);
    expect_match(list, "::1");
    expect_no_match(list, "::2");
    expect_no_match(list, "::");
    expect_match(list, "2001:db8::42");
    expect_no_match(list, "2001:db8::43");
    expect_no_match(list, "127.0.0.1");
    cidr_list_free(list);

    const char *odd[] = { "2001:db8::/127", NULL };
    list = list_of(odd);
    expect_match(list, "2001:db8::");
    expect_match(list, "2001:db8::1");
    expect_no_match(list, "2001:db8::2");
    cidr_list_free(list);
}
END_TEST

START_TEST(test_v4_mapped)
{
    const char *nets[] = { "127.0.0.0/8", "192.0.2.0/24", NULL };
    cidr_list *list = list_of(nets);
    expect_match(list, "::ffff:127.0.0.1");
    expect_match(list, "::ffff:192.0.2.200");
    expect_no_match(list, "::ffff:192.0.3.1");
    expect_no_match(list, "::ffff:10.0.0.1");
    expect_no_match(list, "::127.0.0.1");         /* IPv4-compatible is not mapped */
    expect_no_match(list, "64:ff9b::7f00:1");     /* NAT64 is not mapped either */
    cidr_list_free(list);
}
END_TEST

START_TEST(test_empty_and_other_families)
{
    cidr_list *list = cidr_list_new();
    expect_no_match(list, "127.0.0.1");
    expect_no_match(list, "::1");
    ck_assert(!cidr_list_match(list, NULL));
    cidr_list_free(list);
    cidr_list_free(NULL);

    const char *all[] = { "0.0.0.0/0", "::/0", NULL };
    list = list_of(all);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, "/run/x.sock");
    ck_assert(!cidr_list_match(list, (const struct sockaddr *) &sun));
    struct sockaddr unspec = { .sa_family = AF_UNSPEC };
    ck_assert(!cidr_list_match(list, &unspec));
    ck_assert(!cidr_list_match(list, NULL));
    cidr_list_free(list);
}
END_TEST

START_TEST(test_valid)
{
    const char *good[] = { "127.0.0.1", "127.0.0.0/8", "0.0.0.0/0", "255.255.255.255/32",
                           "::1", "::/0", "::", "2001:db8::/32", "2001:db8::1/128",
                           "::ffff:192.0.2.1", "::ffff:192.0.2.0/120", "fe80::1/64", NULL };
    for (int i = 0; good[i]; i++)
        ck_assert_msg(cidr_valid(good[i]), "rejected %s", good[i]);
}
END_TEST

START_TEST(test_garbage)
{
    const char *bad[] = {
        "", "/", "/8", "localhost", "example.com", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/",
        "10.0.0.0/8/8", "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0 /8", " 10.0.0.1", "10.0.0.1 ",
        "10.0.0", "10.0.0.0.0", "256.0.0.1", "1.2.3.4.", "01.02.03.04x", "::/129", "::/1000",
        "::/99999999999999999999", "10.0.0.0/99999999999999999999", "2001:db8:::1", "::g",
        "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "[::1]", "10.0.0.0/0x8", "10.0.0.0/+8",
        "*", "10.*.*.*", "10.0.0.0-10.0.0.255", "\xff\xfe", "127.0.0.1\n",
        NULL
    };
    cidr_list *list = cidr_list_new();
    for (int i = 0; bad[i]; i++) {
        ck_assert_msg(!cidr_valid(bad[i]), "accepted \"%s\"", bad[i]);
        ck_assert_msg(!cidr_list_add(list, bad[i]), "added \"%s\"", bad[i]);
    }
    ck_assert(!cidr_valid(NULL));
    ck_assert(!cidr_list_add(list, NULL));
    /* Nothing was added: nothing matches. */
    expect_no_match(list, "10.0.0.1");
    expect_no_match(list, "::1");
    cidr_list_free(list);

    /* Very long input is refused without overflowing anything. */
    char *huge = g_strnfill(100000, '1');
    ck_assert(!cidr_valid(huge));
    g_free(huge);
}
END_TEST

static Suite *cidr_suite(void)
{
    Suite *s = suite_create("cidr");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_ipv4_prefixes);
    tcase_add_test(tc, test_ipv4_extremes);
    tcase_add_test(tc, test_ipv6_prefixes);
    tcase_add_test(tc, test_v4_mapped);
    tcase_add_test(tc, test_empty_and_other_families);
    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_garbage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failed = testutil_run(cidr_suite());
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
