// Linux's Xen device ioctls, for the user-space netfront platform (XenLinuxPlatform): the
// request numbers are function-like macros Swift cannot call. The structures and numbers are
// those of Linux's include/uapi/xen/gntalloc.h and evtchn.h (Debian installs copies as
// /usr/include/xen/sys/*.h with libxen-dev; the Netfront tests compare them).
//
// Every function returns 0 (or a port) on success and -errno on failure.
#ifndef NETSTACK_CXENSHIMS_H
#define NETSTACK_CXENSHIMS_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/// IOCTL_GNTALLOC_ALLOC_GREF for one page: allocates a zeroed page, grants `domid` access
/// (writable unless `read_only`), and returns its grant reference and the offset to mmap.
int netstack_gntalloc_alloc(int fd, uint16_t domid, int read_only, uint32_t *gref, uint64_t *index);

/// IOCTL_GNTALLOC_DEALLOC_GREF for one page: the grant is ended once the other domain has
/// unmapped it (the kernel defers freeing until then).
int netstack_gntalloc_dealloc(int fd, uint64_t index);

/// IOCTL_EVTCHN_BIND_UNBOUND_PORT: a new port `remote_domain` may bind; returns the port.
int netstack_evtchn_bind_unbound(int fd, unsigned int remote_domain);

/// IOCTL_EVTCHN_NOTIFY: notifies the other end of `port`.
int netstack_evtchn_notify(int fd, unsigned int port);

/// IOCTL_EVTCHN_UNBIND: closes `port`.
int netstack_evtchn_unbind(int fd, unsigned int port);

/// The request numbers and flags used above, for the tests to compare with the headers.
extern const unsigned long netstack_ioctl_gntalloc_alloc_gref;
extern const unsigned long netstack_ioctl_gntalloc_dealloc_gref;
extern const unsigned long netstack_ioctl_evtchn_bind_unbound_port;
extern const unsigned long netstack_ioctl_evtchn_unbind;
extern const unsigned long netstack_ioctl_evtchn_notify;
extern const unsigned int netstack_gntalloc_flag_writable;
extern const unsigned long netstack_sizeof_ioctl_gntalloc_alloc_gref;

#endif
