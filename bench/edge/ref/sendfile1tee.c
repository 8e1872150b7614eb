// sendfile1tee.c — sendfile1.c with the body (TEE=1), or the whole answer
// (TEE=3), taken from pipes that hold references to the file's page-cache
// pages, as the edge's h1.FilePipe and answer pipes do (docs/edge.md):
//   TEE unset  send(head, MSG_MORE) + sendfile(file)            (sendfile1.c)
//   TEE=1      send(head, MSG_MORE) + tee(file pipe) + splice
//   TEE=2      write(head) into the loop's pipe + tee(file pipe) + splice
//   TEE=3      tee(answer pipe: head + file pages) + splice
// Measured in bench/edge/RESULTS-edge.md (session 21). One thread only with
// TEE set (the loop's pipe is shared). Not part of Phoenix.
//
//   cc -O2 -o sendfile1tee sendfile1tee.c -lpthread && TEE=3 ./sendfile1tee PORT FILE
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
static int mode;
static int pa[2], pb[2], pt[2];

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
        if (mode == 3) {
          ssize_t tot = headlen + fsize;
          ssize_t t = tee(pt[0], pb[1], tot, 0);
          if (t != tot) { perror("tee3"); exit(1); }
          ssize_t left = t;
          while (left > 0) { ssize_t s = splice(pb[0], NULL, fd, NULL, left, 0); if (s <= 0) { perror("splice"); exit(1);} left -= s; }
          p = e + 4;
          continue;
        }
        if (mode == 2) {
          if (write(pb[1], head, headlen) != headlen) { perror("w"); exit(1); }
        } else send(fd, head, headlen, MSG_MORE);
        if (mode >= 1) {
          ssize_t t = tee(pa[0], pb[1], fsize, 0);
          if (t != fsize) { perror("tee"); exit(1); }
          ssize_t left = t + (mode == 2 ? headlen : 0);
          while (left > 0) { ssize_t s = splice(pb[0], NULL, fd, NULL, left, 0); if (s <= 0) { perror("splice"); exit(1);} left -= s; }
        } else {
        off_t off = 0;
        while (off < fsize && sendfile(fd, ffd, &off, fsize - off) > 0) {
        }
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
  mode = getenv("TEE") ? atoi(getenv("TEE")) : 0;
  if (mode) {
    if (pipe2(pa, O_CLOEXEC) || pipe2(pb, O_CLOEXEC)) { perror("pipe"); return 1; }
    fcntl(pa[1], F_SETPIPE_SZ, 1<<20); fcntl(pb[1], F_SETPIPE_SZ, 1<<20);
    loff_t o = 0; ssize_t got = 0;
    while (got < fsize) { ssize_t s = splice(ffd, &o, pa[1], NULL, fsize-got, 0); if (s<=0){perror("fill");return 1;} got += s; }
  }
  if (mode == 3) {
    if (pipe2(pt, O_CLOEXEC)) return 1;
    fcntl(pt[1], F_SETPIPE_SZ, 1<<20);
    if (write(pt[1], head, headlen) != headlen) return 1;
    if (tee(pa[0], pt[1], fsize, 0) != fsize) { perror("tee fill"); return 1; }
  }
  pthread_t t;
  for (int i = 1; i < threads; i++) pthread_create(&t, NULL, loop, NULL);
  loop(NULL);
}
