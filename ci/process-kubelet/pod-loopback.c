/*
 * Per-pod loopback for the process kubelet (LD_PRELOAD into every pod process).
 *
 * Pods here share the machine's network namespace; each has its own address 127.0.0.N. In a
 * real pod, 0.0.0.0 and 127.0.0.1 mean "this pod": a server listening on 0.0.0.0:8888 is the
 * pod's alone, and a sidecar reaches it at 127.0.0.1:8888. This library gives processes those
 * semantics by rewriting socket addresses:
 *   bind    0.0.0.0 / 127.0.0.1 (and their IPv6 / v4-mapped forms)  -> the pod IP
 *   connect 127.0.0.1:P (and ::1)                                      -> the pod IP, unless P is
 *           one of PROCESS_KUBELET_HOST_PORTS (the API server, which really is on 127.0.0.1)
 * IPv6-only sockets bound to :: or ::1 get a private address fd00:706b::<pod IP> instead
 * (IP_FREEBIND), so two pods' IPv6 listeners never collide; ::1 connects go there too.
 * Configured by PROCESS_KUBELET_POD_IP; without it, nothing is rewritten. Static binaries (Go)
 * do not load it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int (*real_bind)(int, const struct sockaddr *, socklen_t);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int enabled;
static struct in_addr pod_ip;
static unsigned short host_ports[16];
static int n_host_ports;

__attribute__((constructor)) static void init(void) {
  real_bind = dlsym(RTLD_NEXT, "bind");
  real_connect = dlsym(RTLD_NEXT, "connect");
  const char *ip = getenv("PROCESS_KUBELET_POD_IP");
  enabled = ip && inet_pton(AF_INET, ip, &pod_ip) == 1;
  const char *ports = getenv("PROCESS_KUBELET_HOST_PORTS");
  while (ports && *ports && n_host_ports < 16) {
    char *end;
    long p = strtol(ports, &end, 10);
    if (end == ports) break;
    if (p > 0 && p < 65536) host_ports[n_host_ports++] = (unsigned short)p;
    ports = *end == ',' ? end + 1 : end;
  }
}

static int is_host_port(in_port_t port) {
  for (int i = 0; i < n_host_ports; i++)
    if (host_ports[i] == ntohs(port)) return 1;
  return 0;
}

static int is_any_or_localhost4(struct in_addr a) {
  return a.s_addr == htonl(INADDR_ANY) || a.s_addr == htonl(INADDR_LOOPBACK);
}

static int v6only(int fd) {
  int on = 0;
  socklen_t len = sizeof on;
  return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) == 0 && on;
}

static void mapped_pod_ip(struct in6_addr *out) {
  memset(out, 0, sizeof *out);
  out->s6_addr[10] = 0xff;
  out->s6_addr[11] = 0xff;
  memcpy(&out->s6_addr[12], &pod_ip, 4);
}

static void private_v6(struct in6_addr *out) {
  memset(out, 0, sizeof *out);
  out->s6_addr[0] = 0xfd;
  out->s6_addr[2] = 0x70;
  out->s6_addr[3] = 0x6b;
  memcpy(&out->s6_addr[12], &pod_ip, 4);
}

/* Rewrites *in into *out for bind (is_bind) or connect; returns 1 when it changed. */
static int rewrite(int fd, const struct sockaddr *in, socklen_t len, struct sockaddr_storage *out, int is_bind) {
  if (!enabled || !in) return 0;
  if (in->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)in;
    int hit = is_bind ? is_any_or_localhost4(a->sin_addr)
                      : a->sin_addr.s_addr == htonl(INADDR_LOOPBACK) && !is_host_port(a->sin_port);
    if (!hit) return 0;
    memcpy(out, a, sizeof *a);
    ((struct sockaddr_in *)out)->sin_addr = pod_ip;
    return 1;
  }
  if (in->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)in;
    struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      struct in_addr v4;
      memcpy(&v4, &a->sin6_addr.s6_addr[12], 4);
      int hit = is_bind ? is_any_or_localhost4(v4) : v4.s_addr == htonl(INADDR_LOOPBACK) && !is_host_port(a->sin6_port);
      if (!hit) return 0;
      memcpy(o, a, sizeof *a);
      mapped_pod_ip(&o->sin6_addr);
      return 1;
    }
    int hit = is_bind ? IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)
                      : IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) && !is_host_port(a->sin6_port);
    if (!hit) return 0;
    memcpy(o, a, sizeof *a);
    if (v6only(fd)) {
      if (is_bind) {
        int one = 1;
        setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof one);
      }
      private_v6(&o->sin6_addr);
    } else {
      mapped_pod_ip(&o->sin6_addr);
    }
    return 1;
  }
  return 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  struct sockaddr_storage s;
  if (!real_bind) real_bind = dlsym(RTLD_NEXT, "bind"); /* called before our constructor ran */
  if (rewrite(fd, addr, len, &s, 1)) return real_bind(fd, (struct sockaddr *)&s, len);
  return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  struct sockaddr_storage s;
  if (!real_connect) real_connect = dlsym(RTLD_NEXT, "connect");
  if (rewrite(fd, addr, len, &s, 0)) return real_connect(fd, (struct sockaddr *)&s, len);
  return real_connect(fd, addr, len);
}
