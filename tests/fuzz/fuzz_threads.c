/*
 * fuzz_threads — the headers the milter hands to thread_heads_add (milter/threads.c), one
 * "Name: value" per input line (In-Reply-To, References, From, Content-Type, Message-ID,
 * Auto-Submitted...), then the Message-IDs the thread lookup would use and the bounce guess.
 * No database: threads_inbound/threads_reply are not reached.
 * Asserts: no crash/leak/UB; at most THREADS_MAX_IDS ids, each non-empty, without blanks, valid UTF-8,
 * at most 250 bytes, all different; asking twice gives the same array.
 */
#include "fuzz_common.h"
#include "threads.h"

FUZZ_INITIALIZE_GMIME

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char **lines = g_strsplit(text, "\n", 64);
    thread_heads *h = thread_heads_new();
    for (int i = 0; lines[i]; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        *colon = '\0';
        thread_heads_add(h, lines[i], colon + 1 + (colon[1] == ' '));
    }
    const GPtrArray *ids = thread_heads_ids(h);
    FUZZ_CHECK(ids != NULL && ids->len <= THREADS_MAX_IDS);
    for (guint i = 0; i < ids->len; i++) {
        const char *id = g_ptr_array_index(ids, i);
        FUZZ_CHECK(*id && strlen(id) <= 250 && !strpbrk(id, " \t\r\n") && g_utf8_validate(id, -1, NULL));
        for (guint j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(id, g_ptr_array_index(ids, j)) != 0);
    }
    FUZZ_CHECK(thread_heads_ids(h) == ids);
    (void)thread_heads_maybe_bounce(h);
    thread_heads_free(h);
    g_strfreev(lines);
    g_free(text);
    return 0;
}
