#!/bin/sh
# dom0 side of the unikernel test on arm64: start it, ping it until it answers, ping -c 20,
# fetch the HTTP page, ask it to shut down, show its console.
T0=$(cut -d' ' -f1 /proc/uptime)
echo "DOM0: xl create at uptime $T0"
xl create /guest/unikernel.cfg || echo "DOM0: xl create failed"
echo "DOM0: xl create returned, uptime $(cut -d' ' -f1 /proc/uptime)"
ok=0
for i in $(seq 1 60); do
  if ping -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; then ok=1; break; fi
  xl list unikernel >/dev/null 2>&1 || break
done
T1=$(cut -d' ' -f1 /proc/uptime)
if [ $ok = 1 ]; then
  echo "DOM0: first ping answered at uptime $T1 ($(echo "$T1 $T0" | awk '{printf "%.2f", $1 - $2}') s after xl create)"
  ping -c 20 -i 0.2 10.0.0.2 | tail -3
  # busybox-static's wget crashes here (static glibc resolver), so HTTP goes through nc
  echo "DOM0: GET /:"; printf 'GET / HTTP/1.0\r\nHost: 10.0.0.2\r\n\r\n' | timeout 10 nc 10.0.0.2 80 | head -12
  printf 'GET /bytes/1000000 HTTP/1.0\r\nHost: 10.0.0.2\r\n\r\n' | timeout 60 nc 10.0.0.2 80 > /tmp/response
  h=$(sed '/^\r$/q' /tmp/response | wc -c)   # header bytes, through the empty line
  tail -c +$((h + 1)) /tmp/response > /tmp/body
  sed '/^\r$/q' /tmp/response | head -3
  want=$(yes 'netstack: a TCP/IP stack in Swift. 0123456789abcdefghijklmnopqrstuvwxyz' | head -c 1000000 | md5sum | cut -d' ' -f1)
  got=$(md5sum < /tmp/body | cut -d' ' -f1)
  echo "DOM0: GET /bytes/1000000: response $(wc -c < /tmp/response) bytes, body $(wc -c < /tmp/body) bytes, md5 $got (expected $want)"
  [ "$got" = "$want" ] && echo "DOM0: BYTES-MD5-OK"
  echo "DOM0: echo: $(echo hello-echo | timeout 5 nc 10.0.0.2 7)"
else
  echo "DOM0: PING-FAIL (no answer in 60 tries)"
fi
echo "DOM0: xl shutdown at uptime $(cut -d' ' -f1 /proc/uptime)"
xl shutdown unikernel 2>&1
for i in $(seq 1 40); do xl list unikernel >/dev/null 2>&1 || break; sleep 0.5; done
xl list unikernel >/dev/null 2>&1 && { echo "DOM0: still running after xl shutdown"; xl destroy unikernel; } || echo "DOM0: unikernel gone at uptime $(cut -d' ' -f1 /proc/uptime)"
echo "----- unikernel console (/var/log/xen/guest-unikernel.log) -----"
cat /var/log/xen/guest-unikernel.log 2>/dev/null
echo "----- end unikernel console -----"
