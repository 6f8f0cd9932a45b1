// The kernel headers in include/ need no code; the one function here needs _GNU_SOURCE for unshare(2).
#define _GNU_SOURCE
#include <sched.h>
#include "crtnetlink.h"

int crt_unshare_network_namespace(void) {
    return unshare(CLONE_NEWNET);
}
