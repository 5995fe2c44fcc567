#include "CXenShims.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <sys/ioctl.h>

// include/uapi/xen/gntalloc.h
struct netstack_ioctl_gntalloc_alloc_gref {
  uint16_t domid;
  uint16_t flags;
  uint32_t count;
  uint64_t index;
  uint32_t gref_ids[1];
};
struct netstack_ioctl_gntalloc_dealloc_gref {
  uint64_t index;
  uint32_t count;
};
#define NETSTACK_GNTALLOC_FLAG_WRITABLE 1
#define NETSTACK_IOCTL_GNTALLOC_ALLOC_GREF \
  _IOC(_IOC_NONE, 'G', 5, sizeof(struct netstack_ioctl_gntalloc_alloc_gref))
#define NETSTACK_IOCTL_GNTALLOC_DEALLOC_GREF \
  _IOC(_IOC_NONE, 'G', 6, sizeof(struct netstack_ioctl_gntalloc_dealloc_gref))

// include/uapi/xen/evtchn.h
struct netstack_ioctl_evtchn_bind_unbound_port {
  unsigned int remote_domain;
};
struct netstack_ioctl_evtchn_port {
  unsigned int port;
};
#define NETSTACK_IOCTL_EVTCHN_BIND_UNBOUND_PORT \
  _IOC(_IOC_NONE, 'E', 2, sizeof(struct netstack_ioctl_evtchn_bind_unbound_port))
#define NETSTACK_IOCTL_EVTCHN_UNBIND _IOC(_IOC_NONE, 'E', 3, sizeof(struct netstack_ioctl_evtchn_port))
#define NETSTACK_IOCTL_EVTCHN_NOTIFY _IOC(_IOC_NONE, 'E', 4, sizeof(struct netstack_ioctl_evtchn_port))

const unsigned long netstack_ioctl_gntalloc_alloc_gref = NETSTACK_IOCTL_GNTALLOC_ALLOC_GREF;
const unsigned long netstack_ioctl_gntalloc_dealloc_gref = NETSTACK_IOCTL_GNTALLOC_DEALLOC_GREF;
const unsigned long netstack_ioctl_evtchn_bind_unbound_port = NETSTACK_IOCTL_EVTCHN_BIND_UNBOUND_PORT;
const unsigned long netstack_ioctl_evtchn_unbind = NETSTACK_IOCTL_EVTCHN_UNBIND;
const unsigned long netstack_ioctl_evtchn_notify = NETSTACK_IOCTL_EVTCHN_NOTIFY;
const unsigned int netstack_gntalloc_flag_writable = NETSTACK_GNTALLOC_FLAG_WRITABLE;
const unsigned long netstack_sizeof_ioctl_gntalloc_alloc_gref =
    sizeof(struct netstack_ioctl_gntalloc_alloc_gref);

int netstack_gntalloc_alloc(int fd, uint16_t domid, int read_only, uint32_t *gref, uint64_t *index) {
  struct netstack_ioctl_gntalloc_alloc_gref request = {
      .domid = domid,
      .flags = read_only ? 0 : NETSTACK_GNTALLOC_FLAG_WRITABLE,
      .count = 1,
  };
  if (ioctl(fd, NETSTACK_IOCTL_GNTALLOC_ALLOC_GREF, &request) < 0) return -errno;
  *gref = request.gref_ids[0];
  *index = request.index;
  return 0;
}

int netstack_gntalloc_dealloc(int fd, uint64_t index) {
  struct netstack_ioctl_gntalloc_dealloc_gref request = {.index = index, .count = 1};
  return ioctl(fd, NETSTACK_IOCTL_GNTALLOC_DEALLOC_GREF, &request) < 0 ? -errno : 0;
}

int netstack_evtchn_bind_unbound(int fd, unsigned int remote_domain) {
  struct netstack_ioctl_evtchn_bind_unbound_port request = {.remote_domain = remote_domain};
  int port = ioctl(fd, NETSTACK_IOCTL_EVTCHN_BIND_UNBOUND_PORT, &request);
  return port < 0 ? -errno : port;
}

int netstack_evtchn_notify(int fd, unsigned int port) {
  struct netstack_ioctl_evtchn_port request = {.port = port};
  return ioctl(fd, NETSTACK_IOCTL_EVTCHN_NOTIFY, &request) < 0 ? -errno : 0;
}

int netstack_evtchn_unbind(int fd, unsigned int port) {
  struct netstack_ioctl_evtchn_port request = {.port = port};
  return ioctl(fd, NETSTACK_IOCTL_EVTCHN_UNBIND, &request) < 0 ? -errno : 0;
}
