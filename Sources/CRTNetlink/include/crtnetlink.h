// Kernel netlink definitions for Swift: Glibc's module does not export these headers.
#ifndef CRTNETLINK_H
#define CRTNETLINK_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if.h>
#include <linux/neighbour.h>
// signalfd(2) for `eniroute watch` (Glibc's Swift module does not export <sys/signalfd.h>).
#include <sys/signalfd.h>

/// Moves the calling thread (only it) into a new, empty network namespace: `unshare(CLONE_NEWNET)`.
/// Returns 0, or -1 with errno set. Glibc's Swift module does not export unshare(2).
int crt_unshare_network_namespace(void);

#endif
