/*
 * daemon — what both daemons do first: read "-c FILE [-f] [-v]" and open the log
 * (syslog, or stderr with -f). Anything else prints the usage and exits with status 2.
 */
#ifndef REGLO_DAEMON_H
#define REGLO_DAEMON_H

typedef struct daemon_args {
    const char *conf_path;     /* points into argv or at REGLO_CONF_DEFAULT */
    int foreground;
} daemon_args;

/* verbose_what completes "-v  verbose (...)" in the usage text. */
void daemon_start(int argc, char **argv, const char *name, const char *verbose_what,
                  daemon_args *out);

#endif
