# dom0's judgement of a netfront close, for scripts/xen-netfront-test and
# scripts/unikernel-test: copied into dom0's initramfs and sourced by its busybox sh there.
#
# close_check DOMID PREFIX: asks the guest DOMID to shut down (`xl shutdown`) and prints
# "PREFIX CLOSE-OK ..." or "PREFIX CLOSE-FAIL: why". The guest's front end must close its
# vif 0 as Linux's xennet_remove does (Closing, wait for the back end, Closed, wait), so in
# dom0's xenstore the back end's state (/local/domain/0/backend/vif/DOMID/0/state) must be
# Closed (6) before the guest is down, and the front end's must be Closed too once it is.
# The guest's configuration must say on_poweroff = "preserve": a guest the toolstack
# destroyed would take its vif with it (libxl moves the back end to Closed itself), and a
# Closed seen then would prove nothing. The caller destroys the guest afterwards.
#
# Waits are for states, polled every 0.2 s against deadlines of CLOSE_DEADLINE seconds
# (default 90: longer than the front end's own two 30 s waits for the back end) from the
# shutdown request, never a fixed time.

# close_uptime: dom0's uptime in seconds (with hundredths).
close_uptime() { cut -d' ' -f1 /proc/uptime; }

# close_guest_down DOMID: whether the guest has shut down (xl list state s), is dying (d)
# or is gone.
close_guest_down() {
  close_state=$(xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }')
  case "$close_state" in
  "" | *s* | *d*) return 0 ;;
  *) return 1 ;;
  esac
}

# close_past DEADLINE: whether dom0's uptime is past DEADLINE.
close_past() { awk -v now="$(close_uptime)" -v deadline="$1" 'BEGIN { exit !(now > deadline) }'; }

close_check() {
  close_domid=$1
  close_prefix=$2
  close_back=/local/domain/0/backend/vif/$close_domid/0/state
  close_front=/local/domain/$close_domid/device/vif/0/state
  echo "$close_prefix back end state before shutdown: $(xenstore-read "$close_back" 2>/dev/null)"
  close_asked=$(close_uptime)
  close_deadline=$(awk -v t="$close_asked" -v d="${CLOSE_DEADLINE:-90}" 'BEGIN { print t + d }')
  xl shutdown "$close_domid" >/tmp/close-shutdown 2>&1 ||
    echo "$close_prefix xl shutdown: $(cat /tmp/close-shutdown)"
  close_result=""
  close_closed_at=""
  while [ -z "$close_result" ]; do
    # Whether the guest is down is looked at before its back end's state: a back end that
    # reaches Closed only after the guest went down fails.
    if close_guest_down "$close_domid"; then close_down=1; else close_down=0; fi
    close_state_now=$(xenstore-read "$close_back" 2>/dev/null)
    if [ "$close_state_now" = 6 ]; then
      close_result=closed
      close_closed_at=$(close_uptime)
    elif [ "$close_down" = 1 ]; then
      close_result="the guest went down with its back end in state ${close_state_now:-(none)}"
    elif close_past "$close_deadline"; then
      close_result="the back end was in state ${close_state_now:-(none)} ${CLOSE_DEADLINE:-90} s after the shutdown request"
    else
      sleep 0.2
    fi
  done
  # Then the guest finishes shutting down (the front end's console says how it closed).
  while ! close_guest_down "$close_domid" && ! close_past "$close_deadline"; do sleep 0.2; done
  close_took() { awk -v a="$close_asked" -v b="$1" 'BEGIN { printf "%.1f s", b - a }'; }
  close_down_after="not down after $(close_took "$(close_uptime)")"
  close_guest_down "$close_domid" && close_down_after="down after $(close_took "$(close_uptime)")"
  close_front_now=$(xenstore-read "$close_front" 2>/dev/null)
  close_back_now=$(xenstore-read "$close_back" 2>/dev/null)
  close_back_after=never
  [ -n "$close_closed_at" ] && close_back_after="after $(close_took "$close_closed_at")"
  echo "$close_prefix after shutdown: back end state ${close_back_now:-(none)}, front end state ${close_front_now:-(none)}; back end Closed $close_back_after; guest $close_down_after"
  if [ "$close_result" != closed ]; then
    echo "$close_prefix CLOSE-FAIL: $close_result"
  elif ! close_guest_down "$close_domid"; then
    echo "$close_prefix CLOSE-FAIL: the guest was not down ${CLOSE_DEADLINE:-90} s after the shutdown request"
  elif [ "$close_front_now" != 6 ]; then
    echo "$close_prefix CLOSE-FAIL: the front end is in state ${close_front_now:-(none)}, not Closed"
  else
    echo "$close_prefix CLOSE-OK back end Closed $(close_took "$close_closed_at") after the shutdown request"
  fi
}
