/*
 * fuzz_dsn — a null-sender message as the milter reads it for bounces: dsn_maybe_bounce on
 * its Content-Type and From, dsn_parse on the parsed message, and dsn_parse_status on the
 * raw bytes as if they were a message/delivery-status body.
 * Asserts: no crash/leak/UB; at most DSN_MAX_RECIPIENTS / DSN_MAX_IDS kept, each non-empty,
 * valid UTF-8, without <>, recipients lower-case; delayed_only never with failed; TRUE only
 * with failed.
 */
#include <gmime/gmime.h>

#include "dsn.h"
#include "fuzz_common.h"
#include "mime.h"

FUZZ_INITIALIZE_GMIME

static void check_report(const dsn_report *r)
{
    FUZZ_CHECK(r->recipients->len <= DSN_MAX_RECIPIENTS);
    FUZZ_CHECK(r->message_ids->len <= DSN_MAX_IDS);
    for (guint i = 0; i < r->recipients->len; i++) {
        const char *a = g_ptr_array_index(r->recipients, i);
        FUZZ_CHECK(a && *a && fuzz_utf8(a) && !strpbrk(a, "<>"));
        for (const char *p = a; *p; p++)
            FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
    }
    for (guint i = 0; i < r->message_ids->len; i++) {
        const char *id = g_ptr_array_index(r->message_ids, i);
        FUZZ_CHECK(id && *id && fuzz_utf8(id) && !strpbrk(id, "<>"));
    }
    FUZZ_CHECK(!(r->delayed_only && r->failed));
}

static void check_message(const uint8_t *data, size_t size)
{
    GMimeMessage *msg = mime_parse_bytes((const char *)data, size);
    if (msg == NULL)
        return;
    GMimeObject *top = GMIME_OBJECT(msg);
    (void)dsn_maybe_bounce(g_mime_object_get_header(top, "Content-Type"),
                           g_mime_object_get_header(top, "From"));
    dsn_report r;
    dsn_report_init(&r);
    gboolean bounced = dsn_parse(msg, &r);
    FUZZ_CHECK(!bounced || r.failed);
    check_report(&r);
    dsn_report_clear(&r);
    g_object_unref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_message(data, size);
    dsn_report r;
    dsn_report_init(&r);
    dsn_parse_status((const char *)data, size, &r);
    check_report(&r);
    dsn_report_clear(&r);
    return 0;
}
