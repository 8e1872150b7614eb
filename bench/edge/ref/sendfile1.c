// sendfile1.c — the floor for a single-threaded static server: one epoll
// loop that answers every request head on a keep-alive connection with one
// fixed file (headers like the edge's js-gz answer, MSG_MORE, sendfile).
// No routing, no parsing beyond the blank line, no Date, no error paths
// worth the name (it assumes the socket takes the whole answer, true for the
// bench's 38 KB file on loopback): it exists only so bench/edge/run.sh (STEPS=ref) can show what
// any one-thread epoll+sendfile design gets on this machine next to nginx's
// two workers. Not part of Phoenix.
//
//   cc -O2 -o sendfile1 sendfile1.c && ./sendfile1 PORT FILE [THREADS]
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

static int lfd, ffd;
static off_t fsize;
static char head[512];
static int headlen;

static void *loop(void *arg) {
  (void)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  static __thread char buf[8192];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) continue;
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        continue;
      }
      ssize_t m = read(fd, buf, sizeof buf);
      if (m <= 0) {
        if (m == 0) close(fd);
        continue;
      }
      for (char *p = buf, *end = buf + m; p < end;) {
        char *e = memmem(p, end - p, "\r\n\r\n", 4);
        if (!e) break;
        send(fd, head, headlen, MSG_MORE);
        off_t off = 0;
        while (off < fsize && sendfile(fd, ffd, &off, fsize - off) > 0) {
        }
        p = e + 4;
      }
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
