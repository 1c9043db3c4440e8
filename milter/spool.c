/*
 * spool — memory first, temporary file past the threshold; see spool.h.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct spool {
    GByteArray *mem;       /* NULL once spilled to the file */
    int fd;                /* -1 while in memory */
    gint64 size;
    gint64 threshold;
    char *dir;
};

spool *spool_new(gint64 memory_threshold, const char *dir)
{
    spool *sp = g_new0(spool, 1);
    sp->mem = g_byte_array_new();
    sp->fd = -1;
    sp->threshold = memory_threshold;
    sp->dir = g_strdup(dir);
    return sp;
}

void spool_free(spool *sp)
{
    if (!sp)
        return;
    if (sp->mem)
        g_byte_array_free(sp->mem, TRUE);
    if (sp->fd >= 0)
        close(sp->fd);
    g_free(sp->dir);
    g_free(sp);
}

static gboolean write_all(int fd, const guint8 *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        data += n;
        len -= (size_t) n;
    }
    return TRUE;
}

/* The file is unlinked at once: nothing is left behind, whatever happens to the process. */
static gboolean spool_spill(spool *sp)
{
    char *path = g_build_filename(sp->dir, "reglo-spool-XXXXXX", NULL);
    sp->fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
    if (sp->fd >= 0)
        unlink(path);
    g_free(path);
    if (sp->fd < 0 || !write_all(sp->fd, sp->mem->data, sp->mem->len))
        return FALSE;
    g_byte_array_free(sp->mem, TRUE);
    sp->mem = NULL;
    return TRUE;
}

gboolean spool_write(spool *sp, const void *data, size_t len)
{
    if (sp->mem && sp->size + (gint64) len > sp->threshold && !spool_spill(sp))
        return FALSE;
    sp->size += (gint64) len;
    if (sp->mem) {
        g_byte_array_append(sp->mem, data, (guint) len);
        return TRUE;
    }
    return write_all(sp->fd, data, len);
}

gint64 spool_size(const spool *sp)
{
    return sp->size;
}

GMimeStream *spool_stream(spool *sp)
{
    if (sp->mem)
        return g_mime_stream_mem_new_with_buffer((const char *) sp->mem->data, sp->mem->len);
    int fd = dup(sp->fd);
    if (fd < 0)
        return NULL;
    lseek(fd, 0, SEEK_SET);
    return g_mime_stream_fs_new(fd);
}
