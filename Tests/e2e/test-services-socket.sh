#!/usr/bin/env bash
# The services (HTTP, echo over TCP and UDP, discard, chargen) on the socket backend (the host
# kernel's sockets, bound to 10.77.0.2 on the namespace's loopback): the checks of services.sh,
# which test-services-direct.sh runs unchanged on the Swift stack over a TAP.
BACKEND=socket
source "$(dirname "$0")/services.sh"
