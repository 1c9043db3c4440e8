/*
 * token — payment-link tokens and marker headers; see token.h.
 *
 * The keyring owns copies of the secrets and wipes them (OPENSSL_cleanse) on free; the raw
 * file contents are wiped as soon as they are parsed. Every MAC comparison is constant time.
 */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define TOKEN_ID_MAX      8
#define TOKEN_SECRET_MIN  32
#define TOKEN_SECRET_MAX  1024
#define TOKEN_FILE_MAX    (64 * 1024)
#define TOKEN_KEYS_MAX    64
#define TOKEN_MAC_BYTES   16   /* 128 bits of HMAC in a link token */
#define TOKEN_MAC_CHARS   22   /* base64url of 16 bytes, no padding */
#define MARKER_MAC_CHARS  43   /* base64url of a full 32-byte HMAC, no padding */
#define MARKER_MAX        128  /* longest marker value we will look at */

typedef struct {
    char id[TOKEN_ID_MAX + 1];
    char *secret;
    size_t secret_len;
} token_key;

struct keyring {
    token_key keys[TOKEN_KEYS_MAX];
    int n;                      /* keys[0] is the current key */
};

/* ---- small helpers ---- */

static gboolean token_id_char(char c)
{
    return g_ascii_isalnum(c);
}

static gboolean token_b64url_char(char c)
{
    return g_ascii_isalnum(c) || c == '-' || c == '_';
}

/* base64url without padding, as a new string. */
static char *token_b64url(const guint8 *data, size_t len)
{
    char *s = g_base64_encode(data, len);
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r == '=')
            break;
        *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
    }
    *w = '\0';
    return s;
}

char *token_random(void)
{
    guint8 rnd[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        g_error("token: the random number generator failed");
    char *s = token_b64url(rnd, sizeof rnd);
    OPENSSL_cleanse(rnd, sizeof rnd);
    return s;
}

gboolean token_random_well_formed(const char *s)
{
    if (!s || strlen(s) != 43)
        return FALSE;
    for (const char *p = s; *p; p++)
        if (!token_b64url_char(*p))
            return FALSE;
    return TRUE;
}

static void token_hmac(const token_key *k, const char *msg, guint8 out[EVP_MAX_MD_SIZE])
{
    unsigned int outlen = 0;
    HMAC(EVP_sha256(), k->secret, (int)k->secret_len, (const unsigned char *)msg, strlen(msg),
         out, &outlen);
}

static const token_key *keyring_find(const keyring *kr, const char *id)
{
    for (int i = 0; i < kr->n; i++)
        if (strcmp(kr->keys[i].id, id) == 0)
            return &kr->keys[i];
    return NULL;
}

/* ---- keyring loading ---- */

/* Reads the whole file after the permission checks; NULL with *err set. */
static char *keyring_read(const char *path, size_t *len, char **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = g_strdup_printf("%s: %s", path, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0)
        *err = g_strdup_printf("%s: %s", path, g_strerror(errno));
    else if (!S_ISREG(st.st_mode))
        *err = g_strdup_printf("%s: not a regular file", path);
    else if (st.st_mode & S_IROTH)
        *err = g_strdup_printf("%s: must not be readable by others", path);
    else if (st.st_size > TOKEN_FILE_MAX)
        *err = g_strdup_printf("%s: file too large", path);
    else {
        buf = g_malloc((size_t)st.st_size + 1);
        size_t got = 0;
        ssize_t r;
        while (got < (size_t)st.st_size &&
               (r = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                *err = g_strdup_printf("%s: %s", path, g_strerror(errno));
                OPENSSL_cleanse(buf, got);
                g_free(buf);
                buf = NULL;
                break;
            }
            got += (size_t)r;
        }
        if (buf) {
            buf[got] = '\0';
            *len = got;
        }
    }
    close(fd);
    return buf;
}

/* Parses one "ID SECRET" line (already trimmed, not a comment) into kr; message on error. */
static const char *keyring_parse_line(keyring *kr, char *line)
{
    char *id = line;
    size_t idlen = strcspn(id, " \t");
    if (idlen == 0 || id[idlen] == '\0')
        return "expected \"ID SECRET\"";
    char *secret = id + idlen;
    *secret++ = '\0';
    secret += strspn(secret, " \t");
    size_t slen = strcspn(secret, " \t");
    if (secret[slen] != '\0')
        return "unexpected text after the secret";
    if (idlen > TOKEN_ID_MAX)
        return "key id longer than 8 characters";
    for (size_t i = 0; i < idlen; i++)
        if (!token_id_char(id[i]))
            return "key id must be letters and digits";
    if (slen < TOKEN_SECRET_MIN)
        return "secret shorter than 32 characters";
    if (slen > TOKEN_SECRET_MAX)
        return "secret too long";
    for (size_t i = 0; i < slen; i++)
        if (!g_ascii_isgraph(secret[i]))
            return "secret must be printable ASCII";
    if (keyring_find(kr, id))
        return "duplicate key id";
    if (kr->n >= TOKEN_KEYS_MAX)
        return "too many keys";
    token_key *k = &kr->keys[kr->n++];
    memcpy(k->id, id, idlen + 1);
    k->secret = g_strndup(secret, slen);
    k->secret_len = slen;
    return NULL;
}

static char *keyring_trim(char *s)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static gboolean keyring_parse(keyring *kr, const char *path, char *text, size_t len, char **err)
{
    if (memchr(text, '\0', len)) {
        *err = g_strdup_printf("%s: contains NUL bytes", path);
        return FALSE;
    }
    int lineno = 0;
    for (char *next = text; next && *next;) {
        char *line = next;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line = keyring_trim(line);
        if (*line == '\0' || *line == '#')
            continue;
        const char *msg = keyring_parse_line(kr, line);
        if (msg) {
            *err = g_strdup_printf("%s:%d: %s", path, lineno, msg);
            return FALSE;
        }
    }
    if (kr->n == 0) {
        *err = g_strdup_printf("%s: no key", path);
        return FALSE;
    }
    return TRUE;
}

keyring *keyring_load(const char *path, char **err)
{
    size_t len = 0;
    char *text = keyring_read(path, &len, err);
    if (!text)
        return NULL;
    keyring *kr = g_new0(keyring, 1);
    gboolean ok = keyring_parse(kr, path, text, len, err);
    OPENSSL_cleanse(text, len);
    g_free(text);
    if (!ok) {
        keyring_free(kr);
        return NULL;
    }
    return kr;
}

void keyring_free(keyring *kr)
{
    if (!kr)
        return;
    for (int i = 0; i < kr->n; i++) {
        OPENSSL_cleanse(kr->keys[i].secret, kr->keys[i].secret_len);
        g_free(kr->keys[i].secret);
    }
    OPENSSL_cleanse(kr, sizeof *kr);
    g_free(kr);
}

const char *keyring_current_id(const keyring *kr)
{
    return kr->keys[0].id;
}

/* ---- link tokens ---- */

char *token_derive(const keyring *kr, const char *key_id, gint64 invoice_id)
{
    const token_key *k = key_id ? keyring_find(kr, key_id) : &kr->keys[0];
    if (!k || invoice_id < 0)
        return NULL;
    char msg[32];
    g_snprintf(msg, sizeof msg, "pay:%" G_GINT64_FORMAT, invoice_id);
    guint8 mac[EVP_MAX_MD_SIZE];
    token_hmac(k, msg, mac);
    char *b64 = token_b64url(mac, TOKEN_MAC_BYTES);
    char *token = g_strconcat(k->id, ".", b64, NULL);
    OPENSSL_cleanse(mac, sizeof mac);
    g_free(b64);
    return token;
}

char *token_hash(const char *token)
{
    guint8 md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), md);
    static const char digits[] = "0123456789abcdef";
    char *hex = g_malloc(2 * SHA256_DIGEST_LENGTH + 1);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {      /* per page view: no printf */
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0x0f];
    }
    hex[2 * SHA256_DIGEST_LENGTH] = '\0';
    return hex;
}

/*
 * Accepts only what token_derive can produce: the last base64url character of 16 bytes
 * carries 2 data bits, so its 4 low bits must be zero (no two spellings of one token).
 */
gboolean token_well_formed(const char *s)
{
    if (!s)
        return FALSE;
    size_t idlen = 0;
    while (idlen <= TOKEN_ID_MAX && token_id_char(s[idlen]))
        idlen++;
    if (idlen == 0 || idlen > TOKEN_ID_MAX || s[idlen] != '.')
        return FALSE;
    const char *mac = s + idlen + 1;
    for (int i = 0; i < TOKEN_MAC_CHARS; i++)
        if (!token_b64url_char(mac[i]))
            return FALSE;
    if (mac[TOKEN_MAC_CHARS] != '\0')
        return FALSE;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t last = (size_t)(strchr(alphabet, mac[TOKEN_MAC_CHARS - 1]) - alphabet);
    return (last & 0x0f) == 0;
}

/* ---- marker headers ---- */

static gboolean token_marker_kind_ok(const char *kind)
{
    return strcmp(kind, "processed") == 0 || strcmp(kind, "reminder") == 0;
}

static char *token_marker_mac(const token_key *k, const char *kind, gint64 invoice_id,
                              const char *message_id)
{
    char *msg = g_strdup_printf("%s:%" G_GINT64_FORMAT ":%s", kind, invoice_id, message_id);
    guint8 mac[EVP_MAX_MD_SIZE];
    token_hmac(k, msg, mac);
    char *b64 = token_b64url(mac, SHA256_DIGEST_LENGTH);
    OPENSSL_cleanse(mac, sizeof mac);
    g_free(msg);
    return b64;
}

char *token_marker(const keyring *kr, const char *kind, gint64 invoice_id, const char *message_id)
{
    if (!kind || !token_marker_kind_ok(kind) || invoice_id < 0 || !message_id)
        return NULL;
    char *mac = token_marker_mac(&kr->keys[0], kind, invoice_id, message_id);
    char *value = g_strdup_printf("%s; id=%" G_GINT64_FORMAT "; mac=%s", kind, invoice_id, mac);
    g_free(mac);
    return value;
}

/* Canonical non-negative decimal (no sign, no leading zero), at most 19 digits. */
static gboolean token_parse_id(const char *s, size_t len, gint64 *out)
{
    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return FALSE;
    guint64 v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
        v = v * 10 + (guint64)(s[i] - '0');
    }
    if (v > G_MAXINT64)
        return FALSE;
    *out = (gint64)v;
    return TRUE;
}

/* Splits "<kind>; id=<n>; mac=<43 chars>" exactly; the mac points into value. */
static gboolean token_marker_parse(const char *value, char kind[16], gint64 *id,
                                   const char **mac)
{
    if (strnlen(value, MARKER_MAX + 1) > MARKER_MAX)
        return FALSE;
    const char *p = strstr(value, "; id=");
    if (!p || (size_t)(p - value) >= 16)
        return FALSE;
    memcpy(kind, value, (size_t)(p - value));
    kind[p - value] = '\0';
    if (!token_marker_kind_ok(kind))
        return FALSE;
    const char *digits = p + 5;
    const char *q = strstr(digits, "; mac=");
    if (!q || !token_parse_id(digits, (size_t)(q - digits), id))
        return FALSE;
    *mac = q + 6;
    for (int i = 0; i < MARKER_MAC_CHARS; i++)
        if (!token_b64url_char((*mac)[i]))
            return FALSE;
    return (*mac)[MARKER_MAC_CHARS] == '\0';
}

gboolean token_marker_verify(const keyring *kr, const char *value, const char *message_id,
                             char kind[16], gint64 *invoice_id)
{
    if (!value || !message_id)
        return FALSE;
    char k[16];
    gint64 id = 0;
    const char *mac = NULL;
    if (!token_marker_parse(value, k, &id, &mac))
        return FALSE;
    /* Try every key (old keys sign markers of mail sent before a rotation), no early exit. */
    int match = 0;
    for (int i = 0; i < kr->n; i++) {
        char *expect = token_marker_mac(&kr->keys[i], k, id, message_id);
        match |= CRYPTO_memcmp(expect, mac, MARKER_MAC_CHARS) == 0;
        g_free(expect);
    }
    if (!match)
        return FALSE;
    memcpy(kind, k, sizeof k);
    *invoice_id = id;
    return TRUE;
}
