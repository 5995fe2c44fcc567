// Small C helpers for Linux interfaces that Swift cannot call directly: ioctls whose
// request numbers are function-like macros, and `struct ifreq` unions.
//
// Every function returns 0 (or a file descriptor) on success and -errno on failure.
#ifndef NETSTACK_CLINUXSHIMS_H
#define NETSTACK_CLINUXSHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/random.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <sys/timerfd.h>

#include "netstack_uring.h"

/// Opens /dev/net/tun non-blocking and attaches to (or creates) the TAP device `name` with
/// IFF_TAP | IFF_NO_PI (and IFF_VNET_HDR when `vnet_header` is non-zero): TUNSETIFF.
/// The kernel's chosen name is written to `actual_name` (IFNAMSIZ bytes).
int netstack_tap_open(const char *name, int vnet_header, char *actual_name);

/// TUNSETVNETHDRSZ: the size of the virtio-net header in front of each frame.
int netstack_tap_set_vnet_header_size(int fd, int size);

/// TUNSETOFFLOAD: which offloads (TUN_F_*) the reader of the device accepts.
int netstack_tap_set_offload(int fd, unsigned int flags);

/// Whether an interface of that name exists (if_nametoindex).
int netstack_interface_exists(const char *name);

/// SIOCGIFADDR: the interface's IPv4 address (host byte order value), or -EADDRNOTAVAIL.
int netstack_interface_get_ipv4(const char *name, uint32_t *address);

/// SIOCSIFADDR + SIOCSIFNETMASK: sets the interface's primary IPv4 address (host order).
int netstack_interface_set_ipv4(const char *name, uint32_t address, uint32_t netmask);

/// SIOCDIFADDR-equivalent for IPv4: sets the address to 0.0.0.0, removing it.
int netstack_interface_clear_ipv4(const char *name);

/// SIOCSIFADDR on an AF_INET6 socket (struct in6_ifreq): adds the IPv6 address (16 bytes,
/// network order) with its prefix length to the interface; -EEXIST if it has it already.
int netstack_interface_add_ipv6(const char *name, const uint8_t *address, int prefix_length);

/// SIOCDIFADDR on an AF_INET6 socket: removes that IPv6 address from the interface.
int netstack_interface_remove_ipv6(const char *name, const uint8_t *address, int prefix_length);

/// SIOCGIFFLAGS + SIOCSIFFLAGS: brings the interface up (or down).
int netstack_interface_set_up(const char *name, int up);

/// SIOCGIFFLAGS: 1 if the interface is up, 0 if down, -errno on failure.
int netstack_interface_is_up(const char *name);

/// SIOCSIFMTU.
int netstack_interface_set_mtu(const char *name, int mtu);

/// SIOCGIFMTU.
int netstack_interface_get_mtu(const char *name, int *mtu);

/// SIOCSIFTXQLEN: the length of the interface's transmit queue.
int netstack_interface_set_txqueuelen(const char *name, int length);

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC (a GNU extension Swift's Glibc module hides).
int netstack_accept(int fd);

/// Opens the directory `path` to resolve paths beneath (O_PATH | O_DIRECTORY | O_CLOEXEC).
int netstack_open_directory(const char *path);

/// Opens `path` (relative) beneath the directory `root` with `flags` (O_CREAT not allowed),
/// never outside it: openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so a symbolic
/// link is followed only while it stays beneath `root`, and ".." only while it does too;
/// anything that would leave `root` (an absolute path or link, ".." above it, a /proc magic
/// link) is -EXDEV or -ELOOP. A kernel without openat2 (ENOSYS: before Linux 5.6) gets
/// netstack_open_beneath_walking instead.
int netstack_open_beneath(int root, const char *path, int flags);

/// The same without openat2: walks `path` one component at a time with O_NOFOLLOW, so no
/// symbolic link is followed at all (-ELOOP, or -ENOTDIR for one in the middle), ".." is
/// refused (-EXDEV) and "." and empty components are skipped.
int netstack_open_beneath_walking(int root, const char *path, int flags);

/// Opens a namespace file (`/run/netns/NAME`, `/proc/PID/ns/net`) read-only with O_CLOEXEC and
/// checks with ioctl(NS_GET_NSTYPE) that it is a network namespace: the descriptor, -ENOENT
/// (and the like) from open, or -EINVAL when the file is not a network namespace (not a
/// namespace at all: ENOTTY from the ioctl, or one of another type).
int netstack_open_network_namespace(const char *path);

/// Runs `body(context)` on a new thread that first joins the network namespace `namespace_fd`
/// (setns(2) with CLONE_NEWNET, which moves the calling thread only), and waits for it: the
/// caller's own thread never changes namespace. Returns 0 after `body` ran, -errno when the
/// thread could not be started or setns failed (then `body` did not run; EPERM: the caller
/// lacks CAP_SYS_ADMIN in the namespace's owning user namespace or in its own).
int netstack_run_in_network_namespace(int namespace_fd, void (*body)(void *), void *context);

/// Numeric values of the TUN_F_* offload flags.
extern const unsigned int netstack_tun_f_csum;
/// How many CPUs the calling thread may run on (sched_getaffinity(2) and CPU_COUNT); 1 when
/// the kernel does not say.
int netstack_usable_cpus(void);

extern const unsigned int netstack_tun_f_tso4;
extern const unsigned int netstack_tun_f_tso6;
extern const unsigned int netstack_tun_f_tso_ecn;

#endif
