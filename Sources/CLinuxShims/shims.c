#define _GNU_SOURCE
#include "CLinuxShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <limits.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>

const unsigned int netstack_tun_f_csum = TUN_F_CSUM;
const unsigned int netstack_tun_f_tso4 = TUN_F_TSO4;
const unsigned int netstack_tun_f_tso6 = TUN_F_TSO6;
const unsigned int netstack_tun_f_tso_ecn = TUN_F_TSO_ECN;

static void copy_name(struct ifreq *request, const char *name) {
  memset(request, 0, sizeof(*request));
  strncpy(request->ifr_name, name, IFNAMSIZ - 1);
}

int netstack_tap_open(const char *name, int vnet_header, char *actual_name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct ifreq request;
  copy_name(&request, name);
  request.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0);
  if (ioctl(fd, TUNSETIFF, &request) < 0) {
    int saved = errno;
    close(fd);
    return -saved;
  }
  memcpy(actual_name, request.ifr_name, IFNAMSIZ);
  return fd;
}

int netstack_tap_set_vnet_header_size(int fd, int size) {
  return ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 ? -errno : 0;
}

int netstack_tap_set_offload(int fd, unsigned int flags) {
  return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

int netstack_interface_exists(const char *name) { return if_nametoindex(name) != 0; }

/// Runs one SIOC* ioctl on a throw-away AF_INET socket.
static int interface_ioctl(unsigned long request_number, struct ifreq *request) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -errno;
  int result = ioctl(sock, request_number, request) < 0 ? -errno : 0;
  close(sock);
  return result;
}

static void set_sockaddr(struct sockaddr *target, uint32_t address) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof(in));
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(address);
  memcpy(target, &in, sizeof(in));
}

int netstack_interface_get_ipv4(const char *name, uint32_t *address) {
  struct ifreq request;
  copy_name(&request, name);
  int result = interface_ioctl(SIOCGIFADDR, &request);
  if (result < 0) return result;
  struct sockaddr_in in;
  memcpy(&in, &request.ifr_addr, sizeof(in));
  *address = ntohl(in.sin_addr.s_addr);
  return 0;
}

int netstack_interface_set_ipv4(const char *name, uint32_t address, uint32_t netmask) {
  struct ifreq request;
  copy_name(&request, name);
  set_sockaddr(&request.ifr_addr, address);
  int result = interface_ioctl(SIOCSIFADDR, &request);
  if (result < 0) return result;
  copy_name(&request, name);
  set_sockaddr(&request.ifr_netmask, netmask);
  return interface_ioctl(SIOCSIFNETMASK, &request);
}

int netstack_interface_clear_ipv4(const char *name) {
  struct ifreq request;
  copy_name(&request, name);
  set_sockaddr(&request.ifr_addr, 0);
  return interface_ioctl(SIOCSIFADDR, &request);
}

/// The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with netinet/in.h).
struct netstack_in6_ifreq {
  struct in6_addr address;
  uint32_t prefix_length;
  int interface_index;
};

/// Adds (SIOCSIFADDR) or removes (SIOCDIFADDR) an IPv6 address, on a throw-away AF_INET6
/// socket.
static int interface_ipv6_ioctl(
    unsigned long request_number, const char *name, const uint8_t *address, int prefix_length) {
  unsigned int index = if_nametoindex(name);
  if (index == 0) return -errno;
  struct netstack_in6_ifreq request;
  memset(&request, 0, sizeof(request));
  memcpy(&request.address, address, 16);
  request.prefix_length = (uint32_t)prefix_length;
  request.interface_index = (int)index;
  int sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -errno;
  int result = ioctl(sock, request_number, &request) < 0 ? -errno : 0;
  close(sock);
  return result;
}

int netstack_interface_add_ipv6(const char *name, const uint8_t *address, int prefix_length) {
  return interface_ipv6_ioctl(SIOCSIFADDR, name, address, prefix_length);
}

int netstack_interface_remove_ipv6(const char *name, const uint8_t *address, int prefix_length) {
  return interface_ipv6_ioctl(SIOCDIFADDR, name, address, prefix_length);
}

int netstack_interface_set_up(const char *name, int up) {
  struct ifreq request;
  copy_name(&request, name);
  int result = interface_ioctl(SIOCGIFFLAGS, &request);
  if (result < 0) return result;
  if (up) request.ifr_flags |= IFF_UP; else request.ifr_flags &= ~IFF_UP;
  return interface_ioctl(SIOCSIFFLAGS, &request);
}

int netstack_interface_set_mtu(const char *name, int mtu) {
  struct ifreq request;
  copy_name(&request, name);
  request.ifr_mtu = mtu;
  return interface_ioctl(SIOCSIFMTU, &request);
}

int netstack_interface_get_mtu(const char *name, int *mtu) {
  struct ifreq request;
  copy_name(&request, name);
  int result = interface_ioctl(SIOCGIFMTU, &request);
  if (result == 0) *mtu = request.ifr_mtu;
  return result;
}

int netstack_interface_set_txqueuelen(const char *name, int length) {
  struct ifreq request;
  copy_name(&request, name);
  request.ifr_qlen = length;
  return interface_ioctl(SIOCSIFTXQLEN, &request);
}

int netstack_accept(int fd) {
  int result = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return result < 0 ? -errno : result;
}

int netstack_interface_is_up(const char *name) {
  struct ifreq request;
  copy_name(&request, name);
  int result = interface_ioctl(SIOCGIFFLAGS, &request);
  if (result < 0) return result;
  return (request.ifr_flags & IFF_UP) ? 1 : 0;
}

int netstack_open_directory(const char *path) {
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int netstack_open_beneath(int root, const char *path, int flags) {
#ifdef SYS_openat2
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = (unsigned long long)flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
  if (fd >= 0) return (int)fd;
  if (errno != ENOSYS) return -errno;
#endif
  return netstack_open_beneath_walking(root, path, flags);
}

int netstack_open_beneath_walking(int root, const char *path, int flags) {
  char copy[PATH_MAX];
  if (strlen(path) >= sizeof(copy)) return -ENAMETOOLONG;
  if (path[0] == '/') return -EXDEV;
  strcpy(copy, path);
  int current = root;
  char *rest = NULL;
  char *component = strtok_r(copy, "/", &rest);
  while (component != NULL && strcmp(component, ".") == 0) component = strtok_r(NULL, "/", &rest);
  if (component == NULL) return -EISDIR;
  int result;
  while (1) {
    char *next = strtok_r(NULL, "/", &rest);
    while (next != NULL && strcmp(next, ".") == 0) next = strtok_r(NULL, "/", &rest);
    if (strcmp(component, "..") == 0) {
      result = -EXDEV;
      break;
    }
    if (next == NULL) {
      int fd = openat(current, component, flags | O_NOFOLLOW);
      result = fd < 0 ? -errno : fd;
      break;
    }
    /* O_NOFOLLOW | O_DIRECTORY: a symbolic link here is ENOTDIR (or ELOOP), never followed. */
    int directory = openat(current, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (directory < 0) {
      result = -errno;
      break;
    }
    if (current != root) close(current);
    current = directory;
    component = next;
  }
  if (current != root) close(current);
  return result;
}

int netstack_open_network_namespace(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    close(fd);
    return -EINVAL;
  }
  return fd;
}

/// What the namespace thread needs: the namespace, the work, and setns's result.
struct namespace_work {
  int namespace_fd;
  void (*body)(void *);
  void *context;
  int result;
};

static void *namespace_thread(void *argument) {
  struct namespace_work *work = argument;
  if (setns(work->namespace_fd, CLONE_NEWNET) < 0) {
    work->result = -errno;
    return NULL;
  }
  work->body(work->context);
  work->result = 0;
  return NULL;
}

int netstack_run_in_network_namespace(int namespace_fd, void (*body)(void *), void *context) {
  struct namespace_work work = {namespace_fd, body, context, -EINTR};
  pthread_t thread;
  int created = pthread_create(&thread, NULL, namespace_thread, &work);
  if (created != 0) return -created;
  int joined = pthread_join(thread, NULL);
  if (joined != 0) return -joined;
  return work.result;
}

int netstack_usable_cpus(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  int count = CPU_COUNT(&set);
  return count > 0 ? count : 1;
}
