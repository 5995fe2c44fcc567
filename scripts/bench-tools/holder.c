// holder: opens COUNT TCP connections to ADDR:PORT and keeps them open, idle, so that
// scripts/bench can read the server's memory while it holds them.
//
//   holder ADDR PORT COUNT [-p PARALLEL] [-t SECONDS]
//
// Connects without blocking, at most PARALLEL (default 128) handshakes at a time, and prints
// "established=N failed=F seconds=S" once every attempt has ended (or after SECONDS, default
// 120, with the attempts still pending counted as failed). Then it holds the connections
// until SIGTERM or SIGINT, counting those the server closes or resets, prints
// "closed_by_peer=K" and exits; the kernel then closes the rest.
// Raises its own RLIMIT_NOFILE to fit COUNT (root may raise the hard limit).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: holder ADDR PORT COUNT [-p PARALLEL] [-t SECONDS]\n");
    return 2;
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) return 2;
  int count = atoi(argv[3]);
  int parallel = 128;
  double limit = 120;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-p") == 0) parallel = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-t") == 0) limit = atof(argv[i + 1]);
  }
  struct rlimit files = {(rlim_t)count + 64, (rlim_t)count + 64};
  if (setrlimit(RLIMIT_NOFILE, &files) != 0) perror("holder: setrlimit");

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, NULL);
  int signals = signalfd(-1, &stop, SFD_CLOEXEC);
  int poll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
  epoll_ctl(poll, EPOLL_CTL_ADD, signals, &event);

  // data.u64: the descriptor, plus 1 << 32 once the connection is established.
  int started = 0, pending = 0, established = 0, failed = 0, closed = 0;
  double start = now_seconds();
  struct epoll_event events[512];
  int stopping = 0;
  while (started < count || pending > 0) {
    while (started < count && pending < parallel) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      started++;
      if (fd < 0) { failed++; continue; }
      if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0 && errno != EINPROGRESS) {
        failed++;
        close(fd);
        continue;
      }
      struct epoll_event add = {.events = EPOLLOUT, .data.u64 = (uint64_t)fd};
      epoll_ctl(poll, EPOLL_CTL_ADD, fd, &add);
      pending++;
    }
    double left = limit - (now_seconds() - start);
    if (left <= 0) break;
    int n = epoll_wait(poll, events, 512, (int)(left * 1000) + 1);
    for (int i = 0; i < n; i++) {
      if (events[i].data.u64 == UINT64_MAX) { stopping = 1; continue; }
      int fd = (int)(events[i].data.u64 & 0xffffffff);
      if (events[i].data.u64 >> 32) {  // an established connection closed early
        closed++;
        epoll_ctl(poll, EPOLL_CTL_DEL, fd, NULL);
        continue;
      }
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      pending--;
      if (error != 0) {
        failed++;
        close(fd);
        continue;
      }
      established++;
      struct epoll_event watch = {.events = EPOLLRDHUP, .data.u64 = (uint64_t)fd | (1ull << 32)};
      epoll_ctl(poll, EPOLL_CTL_MOD, fd, &watch);
    }
    if (stopping) break;
  }
  failed += pending;
  printf("established=%d failed=%d seconds=%.2f\n", established, failed, now_seconds() - start);
  fflush(stdout);
  while (!stopping) {
    int n = epoll_wait(poll, events, 512, -1);
    for (int i = 0; i < n; i++) {
      if (events[i].data.u64 == UINT64_MAX) { stopping = 1; continue; }
      // An established connection the server closed, or a late handshake given up on.
      if (events[i].data.u64 >> 32) closed++;
      epoll_ctl(poll, EPOLL_CTL_DEL, (int)(events[i].data.u64 & 0xffffffff), NULL);
    }
  }
  printf("closed_by_peer=%d\n", closed);
  return 0;
}
