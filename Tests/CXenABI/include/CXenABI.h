// The Xen public headers (Debian's libxen-dev, /usr/include/xen) compiled in, for the
// Netfront tests: sizes, offsets and constants by name, and the ring.h macros run on a page,
// so that the Swift driver and the simulated back end can be compared with the C definitions.
// Without the headers the target does not build (an #error names the package).
#ifndef NETSTACK_CXENABI_H
#define NETSTACK_CXENABI_H

#include <stdint.h>

/// The number of named values below.
int netstack_xen_abi_count(void);

/// The `index`th named value (a size, an offset or a constant of the headers), its name in
/// `name`. Returns 0, or -1 when `index` is out of range.
int netstack_xen_abi_entry(int index, const char **name, long long *value);

// ring.h's macros on a netif TX ring page (12-byte entries), as the C front end and back
// end would run them.

/// __RING_SIZE for the netif TX ring in a 4 KiB page.
unsigned netstack_xen_c_tx_ring_size(void);
/// __RING_SIZE for the netif RX ring in a 4 KiB page.
unsigned netstack_xen_c_rx_ring_size(void);
/// SHARED_RING_INIT on `page`.
void netstack_xen_c_shared_ring_init(void *page);
/// RING_GET_REQUEST's address for index `index` of a TX ring on `page`.
void *netstack_xen_c_tx_request_entry(void *page, uint32_t index);
/// RING_FREE_REQUESTS of a front ring at (req_prod_pvt, rsp_cons).
uint32_t netstack_xen_c_free_requests(void *page, uint32_t req_prod_pvt, uint32_t rsp_cons);
/// RING_PUSH_REQUESTS_AND_CHECK_NOTIFY with req_prod_pvt; returns notify.
int netstack_xen_c_push_requests(void *page, uint32_t req_prod_pvt);
/// RING_PUSH_RESPONSES_AND_CHECK_NOTIFY with rsp_prod_pvt; returns notify.
int netstack_xen_c_push_responses(void *page, uint32_t rsp_prod_pvt);
/// RING_FINAL_CHECK_FOR_RESPONSES of a front ring at rsp_cons; returns work_to_do.
int netstack_xen_c_final_check_for_responses(void *page, uint32_t rsp_cons);
/// RING_FINAL_CHECK_FOR_REQUESTS of a back ring at (req_cons, rsp_prod_pvt); returns
/// work_to_do.
int netstack_xen_c_final_check_for_requests(void *page, uint32_t req_cons, uint32_t rsp_prod_pvt);

#endif
