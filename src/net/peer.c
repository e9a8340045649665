/* Peers of the outbound servers (threaded and async): the address as text
 * and the allow-list, one implementation for both. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net_int.h"

void vox__peer_text(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t size)
{
    if (getnameinfo((const struct sockaddr *)sa, len, out, (socklen_t)size, NULL, 0,
                    NI_NUMERICHOST) != 0) {
        snprintf(out, size, "?");
        return;
    }
    /* an IPv4 peer reaching an IPv6 socket: one allow-list serves both */
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

int vox__allow_copy(char ***out, const char *const *allow)
{
    size_t n = 0;
    *out = NULL;
    if (!allow)
        return 0;
    while (allow[n])
        n++;
    char **copy = vox__calloc(n + 1, sizeof *copy);
    if (!copy)
        return VOX_ENOMEM;
    *out = copy; /* partial copies are freed by vox__allow_free */
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = vox__strdup(allow[i])))
            return VOX_ENOMEM;
    return 0;
}

int vox__listen_copy(char **host, char ***allow, const char *h, const char *const *a)
{
    *allow = NULL;
    *host = vox__strdup(h ? h : "127.0.0.1");
    return *host ? vox__allow_copy(allow, a) : VOX_ENOMEM;
}

void vox__allow_free(char **allow)
{
    for (char **a = allow; a && *a; a++)
        vox__free(*a);
    vox__free(allow);
}

int vox__allowed(char *const *allow, const char *peer)
{
    if (!allow)
        return 1;
    for (char *const *a = allow; *a; a++)
        if (strcmp(*a, peer) == 0)
            return 1;
    return 0;
}
