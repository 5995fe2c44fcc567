// bulk: the TCP bulk client of scripts/bench. It must never be the bottleneck: large
// application buffers (1 MiB by default, -b up to 64 MiB), one syscall per buffer, no copies
// beyond the kernel's.
//
//   bulk send ADDR PORT BYTES [-b BUFFER] [-s SOCKBUF] [-t SECONDS]
//       connects, writes BYTES, shuts down its sending side and waits for the server's EOF
//       (the discard server closes after the client's FIN): the time runs from before
//       connect() until that EOF, so every byte has been received by the server.
//   bulk recv ADDR PORT BYTES [-b BUFFER] [-s SOCKBUF] [-t SECONDS]
//       connects to a source (chargen) and reads exactly BYTES, then closes; the time runs
//       from before connect() until the last byte.
//
// -s sets SO_SNDBUF/SO_RCVBUF with the FORCE variants (root; past net.core.*mem_max), which
// turns the kernel's buffer autotuning off; without -s the kernel autotunes (the default).
// -t: give up after SECONDS (default 300) with exit status 3.
// Prints one line: "bytes=N seconds=S gbit_s=G". Exit status 0 on success, 1 when the
// connection fails or the stream ends early, 2 on a usage error, 3 on the time limit.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t progress;

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_alarm(int signal) {
  (void)signal;
  char line[128];
  int n = snprintf(line, sizeof line, "bulk: time limit reached after %llu bytes\n",
                   (unsigned long long)progress);
  if (n > 0) (void)!write(2, line, (size_t)n);
  _exit(3);
}

static void usage(void) {
  fprintf(stderr, "usage: bulk send|recv ADDR|ADDR6 PORT BYTES [-b BUFFER] [-s SOCKBUF] [-t SECONDS]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 5) usage();
  const char *mode = argv[1];
  int sending = strcmp(mode, "send") == 0;
  if (!sending && strcmp(mode, "recv") != 0) usage();
  // ADDR: IPv4, or IPv6 (a colon in it).
  struct sockaddr_storage address = {0};
  socklen_t address_length;
  uint16_t port = htons((uint16_t)atoi(argv[3]));
  if (strchr(argv[2], ':')) {
    struct sockaddr_in6 *inet6 = (struct sockaddr_in6 *)&address;
    inet6->sin6_family = AF_INET6;
    inet6->sin6_port = port;
    if (inet_pton(AF_INET6, argv[2], &inet6->sin6_addr) != 1) usage();
    address_length = sizeof *inet6;
  } else {
    struct sockaddr_in *inet = (struct sockaddr_in *)&address;
    inet->sin_family = AF_INET;
    inet->sin_port = port;
    if (inet_pton(AF_INET, argv[2], &inet->sin_addr) != 1) usage();
    address_length = sizeof *inet;
  }
  uint64_t bytes = strtoull(argv[4], NULL, 10);
  size_t buffer_size = 1 << 20;
  int socket_buffer = 0;
  unsigned limit = 300;
  for (int i = 5; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "-b") == 0) buffer_size = strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "-s") == 0) socket_buffer = atoi(argv[++i]);
    else if (strcmp(argv[i], "-t") == 0) limit = (unsigned)atoi(argv[++i]);
    else usage();
  }
  if (buffer_size < 1024 || buffer_size > (64u << 20)) usage();
  char *buffer = malloc(buffer_size);
  if (!buffer) return 1;
  for (size_t i = 0; i < buffer_size; i++) buffer[i] = (char)(' ' + i % 95);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGALRM, on_alarm);
  alarm(limit);

  int fd = socket(address.ss_family, SOCK_STREAM, 0);
  if (fd < 0) { perror("bulk: socket"); return 1; }
  if (socket_buffer > 0) {
    int option = sending ? SO_SNDBUFFORCE : SO_RCVBUFFORCE;
    if (setsockopt(fd, SOL_SOCKET, option, &socket_buffer, sizeof socket_buffer) != 0)
      perror("bulk: setsockopt (socket buffer)");
  }
  double start = now_seconds();
  if (connect(fd, (struct sockaddr *)&address, address_length) != 0) {
    perror("bulk: connect");
    return 1;
  }
  uint64_t done = 0;
  if (sending) {
    while (done < bytes) {
      size_t chunk = bytes - done < buffer_size ? (size_t)(bytes - done) : buffer_size;
      ssize_t n = write(fd, buffer, chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "bulk: write after %llu bytes: %s\n", (unsigned long long)done,
                strerror(errno));
        return 1;
      }
      done += (uint64_t)n;
      progress = done;
    }
    if (shutdown(fd, SHUT_WR) != 0) { perror("bulk: shutdown"); return 1; }
    // Wait for the server's EOF: it has read everything.
    for (;;) {
      ssize_t n = read(fd, buffer, buffer_size);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "bulk: waiting for the server's EOF: %s\n", strerror(errno));
        return 1;
      }
    }
  } else {
    while (done < bytes) {
      size_t chunk = bytes - done < buffer_size ? (size_t)(bytes - done) : buffer_size;
      ssize_t n = read(fd, buffer, chunk);
      if (n == 0) {
        fprintf(stderr, "bulk: stream ended after %llu of %llu bytes\n",
                (unsigned long long)done, (unsigned long long)bytes);
        return 1;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        fprintf(stderr, "bulk: read after %llu bytes: %s\n", (unsigned long long)done,
                strerror(errno));
        return 1;
      }
      done += (uint64_t)n;
      progress = done;
    }
  }
  double seconds = now_seconds() - start;
  close(fd);
  printf("bytes=%llu seconds=%.4f gbit_s=%.3f\n", (unsigned long long)done, seconds,
         (double)done * 8 / seconds / 1e9);
  return 0;
}
