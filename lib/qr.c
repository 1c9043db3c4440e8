/*
 * qr — QR PNG images, ISO 11649 RF references, IBAN checks, EPC069-12 payloads; see qr.h.
 *
 * The PNG is built in memory (a GByteArray fed by libpng's write callback); libpng errors
 * come back through longjmp and free everything. Every input length is capped before any
 * work is done.
 */
#include "qr.h"

#include <string.h>

#include <png.h>
#include <zlib.h>
#include <qrencode.h>

#define QR_TEXT_MAX      2048  /* bytes of text we agree to encode */
#define QR_MODULE_PX_MAX 32
#define QR_QUIET         4     /* quiet zone, in modules, on each side */
#define RF_REF_MAX       21    /* ISO 11649: up to 21 alphanumeric characters after RFkk */
#define IBAN_MIN         15
#define IBAN_MAX         34
#define EPC_NAME_MAX     70    /* characters */
#define EPC_TEXT_MAX     140   /* characters */
#define EPC_PAYLOAD_MAX  331   /* bytes */
#define EPC_AMOUNT_MAX   G_GINT64_CONSTANT(99999999999)  /* 999999999.99 in cents */

/* ---- PNG ---- */

static void qr_png_write(png_structp png, png_bytep data, png_size_t len)
{
    g_byte_array_append(png_get_io_ptr(png), data, (guint)len);
}

static void qr_png_flush(png_structp png)
{
    (void)png;
}

/* One packed 1-bit row (1 = white) for QR row y; y outside the symbol is quiet zone. */
static void qr_png_row(const QRcode *qr, int y, int module_px, png_bytep row, size_t rowbytes)
{
    memset(row, 0xff, rowbytes);
    if (y < 0 || y >= qr->width)
        return;
    for (int x = 0; x < qr->width; x++) {
        if (!(qr->data[y * qr->width + x] & 1))
            continue;
        int px0 = (x + QR_QUIET) * module_px;
        for (int px = px0; px < px0 + module_px; px++)
            row[px / 8] &= (png_byte) ~(0x80 >> (px % 8));
    }
}

/* Encodes qr into out; FALSE on a libpng error. */
static gboolean qr_png_encode(const QRcode *qr, int module_px, GByteArray *out)
{
    png_uint_32 side = (png_uint_32)((qr->width + 2 * QR_QUIET) * module_px);
    size_t rowbytes = (side + 7) / 8;
    png_bytep row = g_malloc(rowbytes);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    gboolean ok = FALSE;
    if (!info)
        goto done;
    if (setjmp(png_jmpbuf(png)))
        goto done;
    png_set_write_fn(png, out, qr_png_write, qr_png_flush);
    /* A QR image is long runs and repeated rows: the fastest level finds them too, at half
     * the cost of the default for ~100 more bytes. */
    png_set_compression_level(png, Z_BEST_SPEED);
    png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = -QR_QUIET; y < qr->width + QR_QUIET; y++) {
        qr_png_row(qr, y, module_px, row, rowbytes);
        for (int i = 0; i < module_px; i++)
            png_write_row(png, row);
    }
    png_write_end(png, info);
    ok = TRUE;
done:
    png_destroy_write_struct(&png, &info);
    g_free(row);
    return ok;
}

guint8 *qr_png(const char *text, int module_px, size_t *len)
{
    if (!text || module_px < 1 || module_px > QR_MODULE_PX_MAX ||
        strnlen(text, QR_TEXT_MAX + 1) > QR_TEXT_MAX || !*text)
        return NULL;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    GByteArray *out = g_byte_array_new();
    gboolean ok = qr_png_encode(qr, module_px, out);
    QRcode_free(qr);
    if (!ok) {
        g_byte_array_free(out, TRUE);
        return NULL;
    }
    *len = out->len;
    return g_byte_array_free(out, FALSE);
}

/* ---- mod 97 (ISO 7064) over alphanumerics, letters as 10..35 ---- */

static int qr_mod97_feed(int r, char c)
{
    if (g_ascii_isdigit(c))
        return (r * 10 + (c - '0')) % 97;
    return (r * 100 + (g_ascii_toupper(c) - 'A' + 10)) % 97;
}

/* s[4..] then s[0..3], the rearrangement shared by IBAN and RF. s is alphanumeric. */
static int qr_mod97_rearranged(const char *s, size_t len)
{
    int r = 0;
    for (size_t i = 4; i < len; i++)
        r = qr_mod97_feed(r, s[i]);
    for (size_t i = 0; i < 4; i++)
        r = qr_mod97_feed(r, s[i]);
    return r;
}

static gboolean qr_all(const char *s, size_t from, size_t to, gboolean (*pred)(gchar))
{
    for (size_t i = from; i < to; i++)
        if (!pred(s[i]))
            return FALSE;
    return TRUE;
}

static gboolean qr_upper_alnum(gchar c)
{
    return g_ascii_isdigit(c) || g_ascii_isupper(c);
}

static gboolean qr_digit(gchar c)    { return g_ascii_isdigit(c); }
static gboolean qr_upper(gchar c)    { return g_ascii_isupper(c); }

/* "CCkk" + body with check digits kk in 02..98 and the rearranged value = 1 (mod 97). */
static gboolean qr_mod97_valid(const char *s, size_t len)
{
    int kk = (s[2] - '0') * 10 + (s[3] - '0');
    return kk >= 2 && kk <= 98 && qr_mod97_rearranged(s, len) == 1;
}

/* ---- RF creditor reference (ISO 11649) ---- */

char *qr_rf_reference(const char *ref)
{
    if (!ref || strnlen(ref, 256) >= 256)
        return NULL;
    char body[RF_REF_MAX + 1];
    size_t n = 0;
    for (const char *p = ref; *p; p++) {
        if (!g_ascii_isalnum(*p))
            continue;
        if (n == RF_REF_MAX)
            return NULL;
        body[n++] = g_ascii_toupper(*p);
    }
    if (n == 0)
        return NULL;
    body[n] = '\0';
    char *rf = g_strdup_printf("RF00%s", body);
    int check = 98 - qr_mod97_rearranged(rf, strlen(rf));
    rf[2] = (char)('0' + check / 10);
    rf[3] = (char)('0' + check % 10);
    return rf;
}

gboolean qr_rf_valid(const char *rf)
{
    if (!rf)
        return FALSE;
    size_t len = strnlen(rf, 4 + RF_REF_MAX + 1);
    return len >= 5 && len <= 4 + RF_REF_MAX && rf[0] == 'R' && rf[1] == 'F' &&
           qr_all(rf, 2, 4, qr_digit) && qr_all(rf, 4, len, qr_upper_alnum) &&
           qr_mod97_valid(rf, len);
}

/* ---- IBAN ---- */

/* ISO 13616 lengths of the countries our artisans and their clients bank in. */
static const struct {
    const char country[3];
    int length;
} iban_lengths[] = {
    { "FR", 27 }, { "MC", 27 }, { "DE", 22 }, { "BE", 16 }, { "LU", 20 }, { "CH", 21 },
    { "LI", 21 }, { "NL", 18 }, { "ES", 24 }, { "IT", 27 }, { "PT", 25 }, { "AT", 20 },
    { "IE", 22 }, { "GB", 22 }, { "DK", 18 }, { "FI", 18 }, { "SE", 24 }, { "PL", 28 },
};

static gboolean qr_iban_length_ok(const char *iban, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(iban_lengths); i++)
        if (memcmp(iban, iban_lengths[i].country, 2) == 0)
            return (size_t) iban_lengths[i].length == len;
    return TRUE;
}

gboolean qr_iban_valid(const char *iban)
{
    if (!iban)
        return FALSE;
    size_t len = strnlen(iban, IBAN_MAX + 1);
    return len >= IBAN_MIN && len <= IBAN_MAX && qr_all(iban, 0, 2, qr_upper) &&
           qr_all(iban, 2, 4, qr_digit) && qr_all(iban, 4, len, qr_upper_alnum) &&
           qr_iban_length_ok(iban, len) && qr_mod97_valid(iban, len);
}

/* Spaces (as printed in groups of four) and an "IBAN" prefix are dropped; case folded. */
char *qr_iban_normalise(const char *s)
{
    if (!s || strnlen(s, 128) >= 128)
        return NULL;
    s += strspn(s, " \t");
    if (g_ascii_strncasecmp(s, "IBAN", 4) == 0)
        s += 4 + (s[4] == ':');
    char out[IBAN_MAX + 1];
    size_t n = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t')
            continue;
        if (n == IBAN_MAX)
            return NULL;
        out[n++] = g_ascii_toupper(*s);
    }
    out[n] = '\0';
    return qr_iban_valid(out) ? g_strdup(out) : NULL;
}

/* ---- EPC069-12 ---- */

/* BIC: 4 letters (bank), 2 letters (country), 2 alnum (location), optional 3 alnum. */
static gboolean qr_bic_valid(const char *bic)
{
    size_t len = strnlen(bic, 12);
    return (len == 8 || len == 11) && qr_all(bic, 0, 6, qr_upper) &&
           qr_all(bic, 6, len, qr_upper_alnum);
}

/* Valid UTF-8 without control characters (they would break the line structure). */
static gboolean qr_epc_text_ok(const char *s, glong max_chars)
{
    if (strnlen(s, (size_t)max_chars * 4 + 1) > (size_t)max_chars * 4 ||
        !g_utf8_validate(s, -1, NULL) || g_utf8_strlen(s, -1) > max_chars)
        return FALSE;
    for (const char *p = s; *p; p = g_utf8_next_char(p))
        if (g_unichar_iscntrl(g_utf8_get_char(p)))
            return FALSE;
    return TRUE;
}

/*
 * The structured reference (RF) and the free text are exclusive in EPC069-12: when both are
 * given the reference wins and the text is dropped. Trailing empty lines are omitted and the
 * last line has no line feed, as the specification allows.
 */
char *qr_epc_payload(const char *bic, const char *name, const char *iban,
                     gint64 amount_minor, const char *rf_reference, const char *text)
{
    if (bic && *bic && !qr_bic_valid(bic))
        return NULL;
    if (!name || !*name || !qr_epc_text_ok(name, EPC_NAME_MAX))
        return NULL;
    if (amount_minor < 1 || amount_minor > EPC_AMOUNT_MAX)
        return NULL;
    if (rf_reference && *rf_reference && !qr_rf_valid(rf_reference))
        return NULL;
    gboolean has_rf = rf_reference && *rf_reference;
    if (!has_rf && text && *text && !qr_epc_text_ok(text, EPC_TEXT_MAX))
        return NULL;
    char *norm = qr_iban_normalise(iban);
    if (!norm)
        return NULL;

    GString *p = g_string_new(NULL);
    g_string_append_printf(p, "BCD\n002\n1\nSCT\n%s\n%s\n%s\nEUR%" G_GINT64_FORMAT ".%02d",
                           bic ? bic : "", name, norm, amount_minor / 100,
                           (int)(amount_minor % 100));
    if (has_rf)
        g_string_append_printf(p, "\n\n%s", rf_reference);
    else if (text && *text)
        g_string_append_printf(p, "\n\n\n%s", text);
    g_free(norm);
    if (p->len > EPC_PAYLOAD_MAX) {
        g_string_free(p, TRUE);
        return NULL;
    }
    return g_string_free(p, FALSE);
}

char *qr_content_id(const char *number)
{
    char *cid = g_strdup_printf("qr-%s@reglo.invalid", number);
    return g_strcanon(cid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.@", '-');
}
