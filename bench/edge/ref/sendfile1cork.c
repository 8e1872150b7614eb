// sendfile1cork.c — sendfile1.c with the wake-ups of one epoll batch sent
// together: every connection is corked (TCP_CORK) so its answer stays in the
// socket, and after the batch all answered connections are uncorked and corked
// again in one io_uring_enter (IORING_OP_URING_CMD setsockopt, Linux 6.7+), so
// the loop can be preempted by the woken clients once per batch, not once per
// answer. An experiment of session 8 (RESULTS-edge.md): it served less than
// sendfile1.c, so the edge does not do this. Not part of Phoenix.
//
//   apt-get install -y liburing-dev
//   cc -O2 -o sendfile1cork sendfile1cork.c -luring && ./sendfile1cork PORT FILE
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <liburing.h>
#include <stdint.h>

static int lfd, ffd;
static off_t fsize;
static char head[512];
static int headlen;

static int zero = 0, one1 = 1;
// prep_sockopt: IORING_OP_URING_CMD SOCKET_URING_OP_SETSOCKOPT (Linux 6.7), raw offsets.
static void prep_sockopt(struct io_uring_sqe *sqe, int fd, int level, int optname, int *val) {
  if (!sqe) { fprintf(stderr, "sendfile1cork: submission queue full\n"); exit(1); }
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = 46; /* IORING_OP_URING_CMD */
  sqe->fd = fd;
  uint8_t *b = (uint8_t *)sqe;
  *(uint32_t *)(b + 8) = 3; /* cmd_op = SOCKET_URING_OP_SETSOCKOPT */
  *(uint32_t *)(b + 16) = level;
  *(uint32_t *)(b + 20) = optname;
  *(uint32_t *)(b + 44) = sizeof(int);
  *(uint64_t *)(b + 48) = (uint64_t)(uintptr_t)val;
}

static void *loop(void *arg) {
  (void)arg;
  struct io_uring ring;
  if (io_uring_queue_init(1024, &ring, 0)) { perror("io_uring"); exit(1); }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  static __thread char buf[8192];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    int pending = 0;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) continue;
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
        struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        continue;
      }
      ssize_t m = read(fd, buf, sizeof buf);
      if (m <= 0) {
        if (m == 0) close(fd);
        continue;
      }
      int answered = 0;
      for (char *p = buf, *end = buf + m; p < end;) {
        char *e = memmem(p, end - p, "\r\n\r\n", 4);
        if (!e) break;
        send(fd, head, headlen, MSG_MORE);
        off_t off = 0;
        while (off < fsize && sendfile(fd, ffd, &off, fsize - off) > 0) {
        }
        p = e + 4;
        answered = 1;
      }
      if (answered) {
        struct io_uring_sqe *u = io_uring_get_sqe(&ring);
        prep_sockopt(u, fd, IPPROTO_TCP, TCP_CORK, &zero);
        u->flags |= IOSQE_IO_LINK;
        struct io_uring_sqe *c = io_uring_get_sqe(&ring);
        prep_sockopt(c, fd, IPPROTO_TCP, TCP_CORK, &one1);
        pending += 2;
      }
    }
    if (pending) {
      io_uring_submit(&ring);
      struct io_uring_cqe *cqe;
      unsigned head, seen = 0;
      io_uring_for_each_cqe(&ring, head, cqe) {
        if (cqe->res < 0 && cqe->res != -ECANCELED) { fprintf(stderr, "sockopt: %d\n", cqe->res); exit(1); }
        seen++;
      }
      io_uring_cq_advance(&ring, seen);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sendfile1 PORT FILE [THREADS]\n");
    return 2;
  }
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096)) {
    perror("sendfile1: listen");
    return 1;
  }
  ffd = open(argv[2], O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (ffd < 0 || fstat(ffd, &st)) {
    perror("sendfile1: open");
    return 1;
  }
  fsize = st.st_size;
  headlen = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n"
                     "Cache-Control: public, max-age=31536000, immutable\r\n"
                     "Content-Encoding: gzip\r\nContent-Length: %lld\r\n"
                     "Content-Type: text/javascript; charset=utf-8\r\n"
                     "Etag: \"0123456789abcdef0123456789abcdef\"\r\nVary: Accept-Encoding\r\n\r\n",
                     (long long)fsize);
  pthread_t t;
  for (int i = 1; i < threads; i++) pthread_create(&t, NULL, loop, NULL);
  loop(NULL);
}
