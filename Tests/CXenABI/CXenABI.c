#include "CXenABI.h"

#include <stddef.h>
#include <string.h>

// This target exists to compare the Swift driver with Xen's own headers: without them the
// build stops here, naming the package, instead of compiling tables that compare with nothing.
#if !__has_include(<xen/io/netif.h>)
#error "CXenABI needs the Xen public headers (/usr/include/xen/io/netif.h): install Debian's libxen-dev (apt-get install libxen-dev; scripts/test installs it)"
#endif

#define __XEN_INTERFACE_VERSION__ 0x00040e00
// ring.h leaves the barriers to the includer; these are the C11 equivalents of Linux's
// virt_mb/virt_wmb/virt_rmb.
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>
#include <sys/ioctl.h>
#include <xen/sys/gntalloc.h>
#include <xen/sys/evtchn.h>

#define SIZE(t) {"sizeof(" #t ")", (long long)sizeof(t)}
#define OFFSET(t, f) {"offsetof(" #t ", " #f ")", (long long)offsetof(t, f)}
#define VALUE(v) {#v, (long long)(v)}

static const struct {
  const char *name;
  long long value;
} entries[] = {
    // xen/io/ring.h, via netif's rings
    OFFSET(struct netif_tx_sring, req_prod),
    OFFSET(struct netif_tx_sring, req_event),
    OFFSET(struct netif_tx_sring, rsp_prod),
    OFFSET(struct netif_tx_sring, rsp_event),
    OFFSET(struct netif_tx_sring, pvt),
    OFFSET(struct netif_tx_sring, ring),
    OFFSET(struct netif_rx_sring, ring),
    SIZE(union netif_tx_sring_entry),
    SIZE(union netif_rx_sring_entry),
    {"__CONST_RING_SIZE(netif_tx, 4096)", (long long)__CONST_RING_SIZE(netif_tx, 4096)},
    {"__CONST_RING_SIZE(netif_rx, 4096)", (long long)__CONST_RING_SIZE(netif_rx, 4096)},
    // xen/io/netif.h
    SIZE(struct netif_tx_request),
    OFFSET(struct netif_tx_request, gref),
    OFFSET(struct netif_tx_request, offset),
    OFFSET(struct netif_tx_request, flags),
    OFFSET(struct netif_tx_request, id),
    OFFSET(struct netif_tx_request, size),
    SIZE(struct netif_tx_response),
    OFFSET(struct netif_tx_response, id),
    OFFSET(struct netif_tx_response, status),
    SIZE(struct netif_rx_request),
    OFFSET(struct netif_rx_request, id),
    OFFSET(struct netif_rx_request, gref),
    SIZE(struct netif_rx_response),
    OFFSET(struct netif_rx_response, id),
    OFFSET(struct netif_rx_response, offset),
    OFFSET(struct netif_rx_response, flags),
    OFFSET(struct netif_rx_response, status),
    SIZE(struct netif_extra_info),
    OFFSET(struct netif_extra_info, type),
    OFFSET(struct netif_extra_info, flags),
    OFFSET(struct netif_extra_info, u.gso.size),
    OFFSET(struct netif_extra_info, u.gso.type),
    OFFSET(struct netif_extra_info, u.gso.features),
    VALUE(NETTXF_csum_blank),
    VALUE(NETTXF_data_validated),
    VALUE(NETTXF_more_data),
    VALUE(NETTXF_extra_info),
    VALUE(NETRXF_data_validated),
    VALUE(NETRXF_csum_blank),
    VALUE(NETRXF_more_data),
    VALUE(NETRXF_extra_info),
    VALUE(NETRXF_gso_prefix),
    VALUE(NETIF_RSP_DROPPED),
    VALUE(NETIF_RSP_ERROR),
    VALUE(NETIF_RSP_OKAY),
    VALUE(NETIF_RSP_NULL),
    VALUE(XEN_NETIF_EXTRA_TYPE_GSO),
    VALUE(XEN_NETIF_EXTRA_FLAG_MORE),
    VALUE(XEN_NETIF_NR_SLOTS_MIN),
    VALUE(XEN_NETIF_MAX_TX_SIZE),
    // xen/grant_table.h
    SIZE(grant_ref_t),
    SIZE(struct grant_entry_v1),
    OFFSET(struct grant_entry_v1, flags),
    OFFSET(struct grant_entry_v1, domid),
    OFFSET(struct grant_entry_v1, frame),
    VALUE(GTF_permit_access),
    VALUE(GTF_type_mask),
    VALUE(GTF_readonly),
    VALUE(GTF_reading),
    VALUE(GTF_writing),
    VALUE(GNTTAB_NR_RESERVED_ENTRIES),
    // xen/io/xenbus.h
    VALUE(XenbusStateUnknown),
    VALUE(XenbusStateInitialising),
    VALUE(XenbusStateInitWait),
    VALUE(XenbusStateInitialised),
    VALUE(XenbusStateConnected),
    VALUE(XenbusStateClosing),
    VALUE(XenbusStateClosed),
    VALUE(XenbusStateReconfiguring),
    VALUE(XenbusStateReconfigured),
    // xen/io/xs_wire.h (the Linux platform speaks it on /dev/xen/xenbus)
    SIZE(struct xsd_sockmsg),
    OFFSET(struct xsd_sockmsg, type),
    OFFSET(struct xsd_sockmsg, req_id),
    OFFSET(struct xsd_sockmsg, tx_id),
    OFFSET(struct xsd_sockmsg, len),
    VALUE(XS_READ),
    VALUE(XS_WATCH),
    VALUE(XS_UNWATCH),
    VALUE(XS_WRITE),
    VALUE(XS_WATCH_EVENT),
    VALUE(XS_ERROR),
    VALUE(XS_WATCH_PATH),
    VALUE(XS_WATCH_TOKEN),
    VALUE(XENSTORE_PAYLOAD_MAX),
    // Linux's xen/sys/gntalloc.h and xen/sys/evtchn.h (the Linux platform's ioctls)
    VALUE(IOCTL_GNTALLOC_ALLOC_GREF),
    VALUE(IOCTL_GNTALLOC_DEALLOC_GREF),
    VALUE(GNTALLOC_FLAG_WRITABLE),
    SIZE(struct ioctl_gntalloc_alloc_gref),
    VALUE(IOCTL_EVTCHN_BIND_UNBOUND_PORT),
    VALUE(IOCTL_EVTCHN_UNBIND),
    VALUE(IOCTL_EVTCHN_NOTIFY),
};

int netstack_xen_abi_count(void) { return (int)(sizeof(entries) / sizeof(entries[0])); }

int netstack_xen_abi_entry(int index, const char **name, long long *value) {
  if (index < 0 || index >= netstack_xen_abi_count()) return -1;
  *name = entries[index].name;
  *value = entries[index].value;
  return 0;
}

static netif_tx_front_ring_t front(void *page) {
  netif_tx_front_ring_t ring;
  FRONT_RING_ATTACH(&ring, (netif_tx_sring_t *)page, 0, 4096);
  return ring;
}

static netif_tx_back_ring_t back(void *page) {
  netif_tx_back_ring_t ring;
  BACK_RING_ATTACH(&ring, (netif_tx_sring_t *)page, 0, 4096);
  return ring;
}

unsigned netstack_xen_c_tx_ring_size(void) { return __CONST_RING_SIZE(netif_tx, 4096); }
unsigned netstack_xen_c_rx_ring_size(void) { return __CONST_RING_SIZE(netif_rx, 4096); }

void netstack_xen_c_shared_ring_init(void *page) { SHARED_RING_INIT((netif_tx_sring_t *)page); }

void *netstack_xen_c_tx_request_entry(void *page, uint32_t index) {
  netif_tx_front_ring_t ring = front(page);
  return RING_GET_REQUEST(&ring, index);
}

uint32_t netstack_xen_c_free_requests(void *page, uint32_t req_prod_pvt, uint32_t rsp_cons) {
  netif_tx_front_ring_t ring = front(page);
  ring.req_prod_pvt = req_prod_pvt;
  ring.rsp_cons = rsp_cons;
  return RING_FREE_REQUESTS(&ring);
}

int netstack_xen_c_push_requests(void *page, uint32_t req_prod_pvt) {
  netif_tx_front_ring_t ring = front(page);
  ring.req_prod_pvt = req_prod_pvt;
  int notify;
  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
  return notify;
}

int netstack_xen_c_push_responses(void *page, uint32_t rsp_prod_pvt) {
  netif_tx_back_ring_t ring = back(page);
  ring.rsp_prod_pvt = rsp_prod_pvt;
  int notify;
  RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring, notify);
  return notify;
}

int netstack_xen_c_final_check_for_responses(void *page, uint32_t rsp_cons) {
  netif_tx_front_ring_t ring = front(page);
  ring.rsp_cons = rsp_cons;
  int work;
  RING_FINAL_CHECK_FOR_RESPONSES(&ring, work);
  return work != 0;
}

int netstack_xen_c_final_check_for_requests(void *page, uint32_t req_cons, uint32_t rsp_prod_pvt) {
  netif_tx_back_ring_t ring = back(page);
  ring.req_cons = req_cons;
  ring.rsp_prod_pvt = rsp_prod_pvt;
  int work;
  RING_FINAL_CHECK_FOR_REQUESTS(&ring, work);
  return work != 0;
}
