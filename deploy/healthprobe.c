/*
 * The containers' health check without starting a node process (a node start costs ~40 % of a core
 * when compose probes every container every second): GET http://127.0.0.1:PORT/PATH and exit 0 when
 * the answer is HTTP 200 and, with a third argument, its body contains that text. With a fourth
 * argument, that file must exist too (deploy/host.mjs writes its ready file once every service is
 * ready and its gRPC ports are bound). Static, no libraries; built by deploy/context.mjs and
 * .ci/docker.sh with the machine's gcc.
 *
 *   healthprobe PORT [PATH] [BODY-TEXT] [READY-FILE]
 *   healthprobe 9100 /healthz '"status":"ok"' /tmp/xensim-host-ready
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: healthprobe PORT [PATH] [BODY-TEXT] [READY-FILE]\n");
    return 2;
  }
  const char *path = argc > 2 ? argv[2] : "/healthz";
  const char *want = argc > 3 && argv[3][0] != '\0' ? argv[3] : NULL;
  if (argc > 4 && access(argv[4], F_OK) != 0) {
    fprintf(stderr, "unhealthy: %s missing (not ready yet)\n", argv[4]);
    return 1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;
  struct timeval tv = {2, 500000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("unhealthy: connect");
    return 1;
  }
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  if (n <= 0 || n >= (int)sizeof req || write(fd, req, (size_t)n) != n) return 1;
  static char buf[65536];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
    if (r <= 0) break;
    len += (size_t)r;
    if (len == sizeof buf - 1) break;
  }
  close(fd);
  buf[len] = '\0';
  if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200", 4) != 0) {
    fprintf(stderr, "unhealthy: %.200s\n", buf);
    return 1;
  }
  char *body = strstr(buf, "\r\n\r\n");
  if (want && (!body || !strstr(body, want))) {
    fprintf(stderr, "unhealthy: %.300s\n", body ? body + 4 : buf);
    return 1;
  }
  return 0;
}
