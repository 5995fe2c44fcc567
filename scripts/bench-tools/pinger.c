// pinger: ICMP echo requests at a fixed pace, for scripts/bench's paced ping workload.
// iputils ping keeps only whole milliseconds of -i (0.0002 becomes 0: back to back), so this
// sends each request on a schedule of its own, whether or not the last reply is in.
//
//   pinger ADDR [-i MICROSECONDS] [-c COUNT] [-W MILLISECONDS]
//       sends COUNT (3000) echo requests to the IPv4 ADDR, request k at start + k × interval
//       (200 µs), each carrying 56 bytes; waits up to -W (1000 ms) after the last one for
//       late replies.
//
// Needs a raw ICMP socket (root); its receive buffer is 8 MiB, so that replies are not lost
// while the pinger waits for a CPU. Between sends it sleeps in ppoll(2) with a timer slack of
// 1 µs (prctl PR_SET_TIMERSLACK), so it does not spin a CPU; it reads each reply as it comes.
// Round trip: from just before sendto() to just after recvfrom() returns (CLOCK_MONOTONIC).
// It checks its own pacing: the gaps between successive sends (median and p99).
// Prints one line: "sent=N received=M median_us=X p99_us=Y gap_median_us=A gap_p99_us=B
// seconds=S". Exit status 0 when at least one reply came, 1 otherwise, 2 on a usage error.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint16_t checksum(const void *data, size_t length) {
  const uint8_t *bytes = data;
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < length; i += 2) sum += (uint32_t)(bytes[i] << 8 | bytes[i + 1]);
  if (length & 1) sum += (uint32_t)(bytes[length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((uint16_t)~sum);
}

static int compare(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

// The value at fraction q of the sorted array (nearest rank).
static int64_t quantile(int64_t *values, size_t count, double q) {
  if (count == 0) return 0;
  size_t rank = (size_t)(q * (double)count + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > count) rank = count;
  return values[rank - 1];
}

static void usage(void) {
  fprintf(stderr, "usage: pinger ADDR [-i MICROSECONDS] [-c COUNT] [-W MILLISECONDS]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage();
  struct sockaddr_in target = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) usage();
  long interval_us = 200, count = 3000, wait_ms = 1000;
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc) usage();
    long value = strtol(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "-i") == 0 && value > 0 && value <= 1000000) interval_us = value;
    else if (strcmp(argv[i], "-c") == 0 && value > 0 && value <= 10000000) count = value;
    else if (strcmp(argv[i], "-W") == 0 && value >= 0 && value <= 60000) wait_ms = value;
    else usage();
    i++;
  }
  int sock = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (sock < 0) {
    perror("pinger: socket(SOCK_RAW, IPPROTO_ICMP)");
    return 1;
  }
  // A pinger descheduled on a busy machine must not lose replies to a full receive buffer:
  // 8 MiB holds about 10,000 of them (SO_RCVBUFFORCE, root, past net.core.rmem_max).
  int buffer_size = 8 << 20;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof(buffer_size));
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  int64_t *sent_at = calloc((size_t)count, sizeof(int64_t));
  int64_t *rtts = calloc((size_t)count, sizeof(int64_t));
  int64_t *gaps = calloc((size_t)count, sizeof(int64_t));
  uint8_t *answered = calloc((size_t)count, 1);
  if (!sent_at || !rtts || !gaps || !answered) return 1;
  uint16_t identifier = (uint16_t)getpid();
  size_t received = 0, gap_count = 0;
  long sent = 0;
  const int64_t interval = interval_us * 1000;
  const int64_t start = now_ns();
  int64_t end = INT64_MAX;
  for (;;) {
    int64_t now = now_ns();
    if (sent < count && now >= start + sent * interval) {
      uint8_t packet[64] = {0};
      struct icmphdr *header = (struct icmphdr *)packet;
      header->type = ICMP_ECHO;
      header->un.echo.id = htons(identifier);
      header->un.echo.sequence = htons((uint16_t)sent);
      header->checksum = checksum(packet, sizeof(packet));
      int64_t before = now_ns();
      if (sendto(sock, packet, sizeof(packet), 0, (struct sockaddr *)&target, sizeof(target)) < 0
          && errno != EAGAIN && errno != ENOBUFS) {
        perror("pinger: sendto");
        return 1;
      }
      if (sent > 0) gaps[gap_count++] = before - sent_at[sent - 1];
      sent_at[sent++] = before;
      if (sent == count) end = now_ns() + wait_ms * 1000000;
      continue;
    }
    // Read every reply that is there.
    for (;;) {
      uint8_t buffer[1600];
      ssize_t length = recv(sock, buffer, sizeof(buffer), 0);
      if (length < 0) break;
      int64_t arrived = now_ns();
      struct iphdr *ip = (struct iphdr *)buffer;
      size_t header_length = (size_t)ip->ihl * 4;
      if ((size_t)length < header_length + sizeof(struct icmphdr)) continue;
      struct icmphdr *reply = (struct icmphdr *)(buffer + header_length);
      if (reply->type != ICMP_ECHOREPLY || ntohs(reply->un.echo.id) != identifier) continue;
      // The sequence is 16 bits: the request it answers is the latest sent with that value.
      long sequence = ntohs(reply->un.echo.sequence);
      long index = sequence + ((sent - 1 - sequence) / 65536) * 65536;
      if (index < 0 || index >= sent || answered[index]) continue;
      answered[index] = 1;
      rtts[received++] = arrived - sent_at[index];
    }
    now = now_ns();
    if (sent == count && (received == (size_t)count || now >= end)) break;
    int64_t until = sent < count ? start + sent * interval : end;
    if (until <= now) continue;
    struct timespec timeout = {.tv_sec = (until - now) / 1000000000,
                               .tv_nsec = (until - now) % 1000000000};
    struct pollfd waiting = {.fd = sock, .events = POLLIN};
    ppoll(&waiting, 1, &timeout, NULL);
  }
  double seconds = (double)(now_ns() - start) / 1e9;
  qsort(rtts, received, sizeof(int64_t), compare);
  qsort(gaps, gap_count, sizeof(int64_t), compare);
  printf("sent=%ld received=%zu median_us=%.1f p99_us=%.1f gap_median_us=%.1f gap_p99_us=%.1f "
         "seconds=%.3f\n",
         sent, received, quantile(rtts, received, 0.5) / 1000.0,
         quantile(rtts, received, 0.99) / 1000.0, quantile(gaps, gap_count, 0.5) / 1000.0,
         quantile(gaps, gap_count, 0.99) / 1000.0, seconds);
  return received > 0 ? 0 : 1;
}
