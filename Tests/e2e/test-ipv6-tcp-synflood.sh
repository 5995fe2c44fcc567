#!/usr/bin/env bash
# The SYN floods of test-tcp-synflood.sh over IPv6 (issue 13): the same checks, the stack at
# fd77::2 and the spoofed source fd77::1:3; the second flood is tools/syn-flood.py as fast as it
# sends (hping3 has no IPv6). See test-tcp-synflood.sh.
SYNFLOOD_FAMILY=6
source "$(dirname "$0")/test-tcp-synflood.sh"
