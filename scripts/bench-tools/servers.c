// servers: the Linux kernel's side of scripts/bench: the same services netstackd offers, on
// the same ports, as small fast C programs over the kernel's sockets.
//
//   servers [-b BUFFER] [-p PAGEFILE] SERVICE:PORT...
//
// SERVICE is one of
//   discard   reads (BUFFER at a time, 1 MiB by default) until EOF, then closes (RFC 863);
//   chargen   writes RFC 864 lines, BUFFER at a time, until the client goes away;
//   http      HTTP/1.1 on one thread: epoll, non-blocking sockets; every request gets the
//             page (PAGEFILE, or a built-in one like netstackd's `GET /`) with
//             `Connection: close`, and the connection is closed after the response.
// discard and chargen run a blocking thread per connection (one bulk transfer at a time is
// what the benchmark needs). Prints "servers: ready" once every port listens; stops on
// SIGTERM or SIGINT.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t buffer_size = 1 << 20;
static char *chargen_data;
static char *response;
static size_t response_length;

static const char default_page[] =
    "<!DOCTYPE html>\n"
    "<html><head><title>netstack</title></head>\n"
    "<body><h1>netstack</h1>\n"
    "<p>This page was served by a small C server on the Linux kernel's sockets.</p>\n"
    "<p>Try <a href=\"/bytes/1048576\">/bytes/1048576</a> for a megabyte.</p>\n"
    "</body></html>\n";

// One dual-stack listener on [::]:PORT (IPV6_V6ONLY off): IPv4 clients arrive as IPv4 packets
// on it, IPv6 ones as IPv6, so both families of the benchmark meet the same server.
static int listen_on(int port) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) { perror("servers: socket"); exit(1); }
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                                 .sin6_addr = IN6ADDR_ANY_INIT};
  if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) {
    fprintf(stderr, "servers: bind port %d: %s\n", port, strerror(errno));
    exit(1);
  }
  if (listen(fd, 4096) != 0) { perror("servers: listen"); exit(1); }
  return fd;
}

static void *discard_connection(void *argument) {
  int fd = (int)(intptr_t)argument;
  char *buffer = malloc(buffer_size);
  while (buffer) {
    ssize_t n = read(fd, buffer, buffer_size);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
  }
  free(buffer);
  close(fd);
  return NULL;
}

static void *chargen_connection(void *argument) {
  int fd = (int)(intptr_t)argument;
  for (;;) {
    ssize_t n = write(fd, chargen_data, buffer_size);
    if (n < 0 && errno != EINTR) break;
  }
  close(fd);
  return NULL;
}

struct accept_loop {
  int listener;
  void *(*serve)(void *);
};

static void *accept_loop(void *argument) {
  struct accept_loop *loop = argument;
  for (;;) {
    int fd = accept(loop->listener, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("servers: accept");
      sleep(1);
      continue;
    }
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, loop->serve, (void *)(intptr_t)fd) != 0) close(fd);
    pthread_attr_destroy(&attributes);
  }
  return NULL;
}

// HTTP: per-descriptor request buffers, indexed by file descriptor.
enum { REQUEST_MAX = 4096 };
struct request {
  uint32_t length;
  char bytes[REQUEST_MAX];
};
static struct request **requests;
static int descriptor_limit;

static void http_close(int fd) {
  if (fd < descriptor_limit && requests[fd]) requests[fd]->length = 0;
  close(fd);
}

static void *http_loop(void *argument) {
  int listener = (int)(intptr_t)argument;
  fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
  int poll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(poll, EPOLL_CTL_ADD, listener, &event);
  struct epoll_event events[256];
  for (;;) {
    int count = epoll_wait(poll, events, 256, -1);
    for (int i = 0; i < count; i++) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          int connection = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
          if (connection < 0) break;
          if (connection >= descriptor_limit) { close(connection); continue; }
          struct epoll_event add = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = connection};
          epoll_ctl(poll, EPOLL_CTL_ADD, connection, &add);
        }
        continue;
      }
      struct request *request = requests[fd];
      if (!request) request = requests[fd] = calloc(1, sizeof *request);
      ssize_t n = read(fd, request->bytes + request->length, REQUEST_MAX - 1 - request->length);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) continue;
        http_close(fd);
        continue;
      }
      request->length += (uint32_t)n;
      request->bytes[request->length] = 0;
      if (strstr(request->bytes, "\r\n\r\n")) {
        // A response this small fits the socket buffer: one write, then close.
        (void)!write(fd, response, response_length);
        http_close(fd);
      } else if (request->length >= REQUEST_MAX - 1) {
        http_close(fd);
      }
    }
  }
  return NULL;
}

static void load_page(const char *path) {
  char *page = (char *)default_page;
  size_t length = sizeof default_page - 1;
  if (path) {
    FILE *file = fopen(path, "rb");
    if (!file) { perror("servers: page file"); exit(1); }
    page = malloc(1 << 20);
    length = fread(page, 1, 1 << 20, file);
    fclose(file);
  }
  char head[256];
  int head_length = snprintf(head, sizeof head,
                             "HTTP/1.1 200 OK\r\nServer: netstack\r\nContent-Length: %zu\r\n"
                             "Content-Type: text/html; charset=utf-8\r\nConnection: close\r\n\r\n",
                             length);
  response_length = (size_t)head_length + length;
  response = malloc(response_length);
  memcpy(response, head, (size_t)head_length);
  memcpy(response + head_length, page, length);
}

int main(int argc, char **argv) {
  const char *page_file = NULL;
  int first = 1;
  while (first + 1 < argc && argv[first][0] == '-') {
    if (strcmp(argv[first], "-b") == 0) buffer_size = strtoul(argv[first + 1], NULL, 10);
    else if (strcmp(argv[first], "-p") == 0) page_file = argv[first + 1];
    else break;
    first += 2;
  }
  if (first >= argc || buffer_size < 1024) {
    fprintf(stderr, "usage: servers [-b BUFFER] [-p PAGEFILE] discard|chargen|http:PORT...\n");
    return 2;
  }
  struct rlimit files = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &files);
  getrlimit(RLIMIT_NOFILE, &files);
  descriptor_limit = (int)files.rlim_cur;
  requests = calloc((size_t)descriptor_limit, sizeof *requests);
  chargen_data = malloc(buffer_size);
  for (size_t i = 0; i < buffer_size; i++) {
    size_t line = i / 74, column = i % 74;
    chargen_data[i] = column == 72 ? '\r' : column == 73 ? '\n' : (char)(32 + (line + column) % 95);
  }
  load_page(page_file);

  // Signals arrive only at the main thread's sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  for (int i = first; i < argc; i++) {
    char *colon = strchr(argv[i], ':');
    if (!colon) { fprintf(stderr, "servers: '%s' is not SERVICE:PORT\n", argv[i]); return 2; }
    *colon = 0;
    int listener = listen_on(atoi(colon + 1));
    pthread_t thread;
    if (strcmp(argv[i], "http") == 0) {
      pthread_create(&thread, NULL, http_loop, (void *)(intptr_t)listener);
    } else {
      struct accept_loop *loop = malloc(sizeof *loop);
      loop->listener = listener;
      if (strcmp(argv[i], "discard") == 0) loop->serve = discard_connection;
      else if (strcmp(argv[i], "chargen") == 0) loop->serve = chargen_connection;
      else { fprintf(stderr, "servers: unknown service '%s'\n", argv[i]); return 2; }
      pthread_create(&thread, NULL, accept_loop, loop);
    }
  }
  printf("servers: ready\n");
  fflush(stdout);
  int signal_number;
  sigwait(&stop, &signal_number);
  return 0;
}
