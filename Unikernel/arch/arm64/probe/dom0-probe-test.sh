#!/bin/sh
# dom0 side of the probe: start the unikernel, wait for it to power off, show its console.
T0=$(cut -d' ' -f1 /proc/uptime)
echo "DOM0: xl create at uptime $T0"
xl create /guest/unikernel.cfg || echo "DOM0: xl create failed"
echo "DOM0: xl create returned, uptime $(cut -d' ' -f1 /proc/uptime)"
for i in $(seq 1 60); do
  xl list unikernel >/dev/null 2>&1 || break
  sleep 0.5
done
if xl list unikernel >/dev/null 2>&1; then
  echo "DOM0: unikernel still running after 30 s"; xl list; xl destroy unikernel
else
  echo "DOM0: unikernel gone at uptime $(cut -d' ' -f1 /proc/uptime)"
fi
echo "----- unikernel console (/var/log/xen/guest-unikernel.log) -----"
cat /var/log/xen/guest-unikernel.log 2>/dev/null
echo "----- end unikernel console -----"
xl dmesg | grep -E '\(d[1-9]|unikernel' | tail -20
