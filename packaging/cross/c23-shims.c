/*
 * Linked into eniroute only when it is cross-built against a glibc older than 2.38 (Debian 12's
 * 2.36), see packaging/build-deb.sh. Debian's Swift runtime for arm64 is built on a newer glibc
 * and references symbols that glibc 2.38 introduced: the C23 variants of strtol, strtoll and
 * sscanf (which also accept a "0b" binary prefix) and strlcpy; Foundation (linked only into the
 * test-only IMDS simulator) also __isoc23_strtoul and strlcat. These hidden definitions forward
 * to the older functions or implement the BSD ones, so the binaries need no newer glibc than
 * Debian 12's; being hidden, they are not exported and never interpose on a newer libc. The
 * runtimes parse no binary literals with them.
 */
#include <features.h>

#if defined(__GLIBC__) && (__GLIBC__ < 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ < 38))
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENIROUTE_SHIM __attribute__((visibility("hidden")))

ENIROUTE_SHIM long __isoc23_strtol(const char *s, char **end, int base) {
    return strtol(s, end, base);
}

ENIROUTE_SHIM long long __isoc23_strtoll(const char *s, char **end, int base) {
    return strtoll(s, end, base);
}

ENIROUTE_SHIM unsigned long __isoc23_strtoul(const char *s, char **end, int base) {
    return strtoul(s, end, base);
}

ENIROUTE_SHIM unsigned long long __isoc23_strtoull(const char *s, char **end, int base) {
    return strtoull(s, end, base);
}

ENIROUTE_SHIM int __isoc23_sscanf(const char *s, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vsscanf(s, format, ap);
    va_end(ap);
    return n;
}

/* BSD strlcpy: copies at most size - 1 bytes, always terminates, returns strlen(src). */
ENIROUTE_SHIM size_t strlcpy(char *dst, const char *src, size_t size) {
    size_t n = strlen(src);
    if (size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

/* BSD strlcat: appends to the string in dst within size bytes, returns the length it tried to make. */
ENIROUTE_SHIM size_t strlcat(char *dst, const char *src, size_t size) {
    size_t d = strnlen(dst, size);
    if (d == size) {
        return size + strlen(src);
    }
    return d + strlcpy(dst + d, src, size - d);
}
#endif
