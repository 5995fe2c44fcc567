#!/usr/bin/env bash
# The 30,000 short connections of test-tcp-short.sh over IPv6 (issue 13), to fd77::2, with
# the same checks: every request answered, no stall, TIME-WAIT reuse, bounded memory. See
# test-tcp-short.sh.
SHORT_FAMILY=6
source "$(dirname "$0")/test-tcp-short.sh"
