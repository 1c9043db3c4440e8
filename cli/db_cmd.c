/*
 * db_cmd — `reglo db migrate`.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"

int cmd_db(cli_env *env, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "migrate") != 0) {
        fprintf(stderr, "usage: reglo db migrate\n");
        return EXIT_USAGE;
    }
    char *err = NULL;
    int applied = db_migrate(cli_db(env), &err);
    if (applied < 0) {
        fprintf(stderr, "reglo: %s\n", err);
        g_free(err);
        return EXIT_FAIL;
    }
    printf("%d migration%s applied\n", applied, applied == 1 ? "" : "s");
    return EXIT_OK;
}
