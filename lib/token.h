/*
 * token — payment-link tokens and signed marker headers, derived from the link key.
 *
 * token = key_id "." base64url(HMAC-SHA256(key, "pay:" || invoice_id))[first 128 bits].
 * The database keeps only sha256(token) (hex); links are rebuilt from the key when needed.
 * Keys come from secrets.link_key_file: one key per line, "ID SECRET" (ID: [A-Za-z0-9]{1,8},
 * SECRET: at least 32 characters), the first line is the current key; older lines keep
 * old links verifiable after a rotation.
 *
 * A keyring owns its keys (wiped on free). Returned strings are g_malloc'ed.
 */
#ifndef REGLO_TOKEN_H
#define REGLO_TOKEN_H

#include <glib.h>

typedef struct keyring keyring;

/* NULL with *err set (g_malloc'ed, "FILE:LINE: message") on a bad file; a file readable by
 * others, empty (no key) or larger than 64 KiB is refused. */
keyring *keyring_load(const char *path, char **err);
void keyring_free(keyring *kr);
const char *keyring_current_id(const keyring *kr);

/* Token for an invoice with the current key (or with key_id when not NULL).
 * NULL if unknown key or invoice_id < 0. */
char *token_derive(const keyring *kr, const char *key_id, gint64 invoice_id);

/* 256 random bits, base64url (43 characters): portal sessions, sign-in links, CSRF.
 * Aborts if the system's random source fails: nothing may go on without one. */
char *token_random(void);
/* TRUE when s has the shape token_random gives (43 base64url characters). */
gboolean token_random_well_formed(const char *s);
/* Lower-case hex sha256 of the token, 64 characters. */
char *token_hash(const char *token);

/* TRUE when s has the shape of a token (key id, dot, 22 base64url chars). */
gboolean token_well_formed(const char *s);

/*
 * Marker header value proving that reglo produced this message:
 * "<kind>; id=<invoice_id>; mac=<base64url HMAC(key, kind ":" invoice_id ":" message_id)>".
 * kind is "processed" or "reminder" (NULL otherwise); invoice_id >= 0. Signed with the current
 * key; verified against every key of the ring. message_id is used as given: the caller strips
 * the <> and surrounding white space on both sides.
 */
char *token_marker(const keyring *kr, const char *kind, gint64 invoice_id, const char *message_id);

/* TRUE when value is a marker made by one of our keys for that Message-ID; kind/id returned. */
gboolean token_marker_verify(const keyring *kr, const char *value, const char *message_id,
                             char kind[16], gint64 *invoice_id);

#endif
