/*
 * inspect_cmd — `reglo inspect FILE...`: one JSON line per file, no database needed.
 */
#include <stdio.h>

#include "cli.h"
#include "invoice.h"

#define INSPECT_MAX_FILE (64 * 1024 * 1024)

static int inspect_one(const char *path)
{
    char *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        fprintf(stderr, "reglo: %s\n", gerr->message);
        g_error_free(gerr);
        return EXIT_FAIL;
    }
    invoice_data inv;
    invoice_data_init(&inv);
    if (len > INSPECT_MAX_FILE)
        invoice_set_reason(&inv, "file too large");
    else
        invoice_extract_bytes(data, len, &inv);
    char *json = invoice_to_json(&inv, path);
    puts(json);
    g_free(json);
    invoice_data_clear(&inv);
    g_free(data);
    return EXIT_OK;
}

int cmd_inspect(cli_env *env, int argc, char **argv)
{
    (void) env;
    if (argc < 2) {
        fprintf(stderr, "usage: reglo inspect FILE...\n");
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    for (int i = 1; i < argc; i++)
        if (inspect_one(argv[i]) != EXIT_OK)
            rc = EXIT_FAIL;
    return rc;
}
