/*
 * daemon — common command line and logging setup; see daemon.h.
 */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

static void usage(const char *name, const char *verbose_what)
{
    fprintf(stderr, "usage: %s [-c FILE] [-f] [-v]\n"
                    "  -c FILE  configuration (default " REGLO_CONF_DEFAULT ")\n"
                    "  -f       stay in the foreground, log to stderr\n"
                    "  -v       verbose (%s)\n", name, verbose_what);
    exit(2);
}

void daemon_start(int argc, char **argv, const char *name, const char *verbose_what,
                  daemon_args *out)
{
    int verbose = 0, opt;
    out->conf_path = REGLO_CONF_DEFAULT;
    out->foreground = 0;
    while ((opt = getopt(argc, argv, "c:fvh")) != -1) {
        switch (opt) {
        case 'c': out->conf_path = optarg; break;
        case 'f': out->foreground = 1; break;
        case 'v': verbose = 1; break;
        default: usage(name, verbose_what);
        }
    }
    if (optind != argc)
        usage(name, verbose_what);
    log_open(name, out->foreground);
    log_set_verbose(verbose);
}
