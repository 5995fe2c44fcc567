#!/usr/bin/env bash
# The services (HTTP, echo over TCP and UDP, discard, chargen) on the Swift stack over a TAP:
# the checks of services.sh, which test-services-socket.sh runs unchanged on the socket backend.
BACKEND=direct
source "$(dirname "$0")/services.sh"
