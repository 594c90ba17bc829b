/*
 * tun-helper NAME: attaches to the existing Linux TUN interface NAME
 * (IFF_TUN | IFF_NO_PI) and relays its packets to and from Node over
 * stdin/stdout, each packet a frame of a 2-byte big-endian length and the
 * bytes. Node cannot make the TUNSETIFF ioctl itself; everything else lives
 * in src/link/tun-node.ts.
 *
 * On success the first thing written to stdout is one empty frame (length 0),
 * "ready". On failure: one line on stderr, "tun-helper: STEP errno-name message",
 * and exit status 3. The helper ends when stdin closes or its parent dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_PACKET 65535
#define OUT_BATCH (256 * 1024)
#define IN_BUF (256 * 1024)

/* The errno names Node's side maps to a fix; anything else is reported by number. */
static const char *errno_name(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    default: return "EIO";
  }
}

static void fail(const char *step) {
  int e = errno;
  fprintf(stderr, "tun-helper: %s %s %s (errno %d)\n", step, errno_name(e), strerror(e), e);
  exit(3);
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) >= IFNAMSIZ) {
    errno = EINVAL;
    fail("usage");
  }
  /* Never outlive Node, even when it is killed without closing our stdin. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 0;
  signal(SIGPIPE, SIG_IGN);
  /* TUNSETIFF creates a missing interface when it may: attach only to one the administrator made. */
  if (if_nametoindex(argv[1]) == 0) {
    errno = ENODEV;
    fail("interface");
  }
  int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0) fail("open");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(tun, TUNSETIFF, &ifr) < 0) fail("attach");
  if (fcntl(tun, F_SETFL, O_NONBLOCK) < 0) fail("fcntl");

  static unsigned char out[OUT_BATCH + 2 + MAX_PACKET];
  static unsigned char in[IN_BUF + 2 + MAX_PACKET];
  size_t in_len = 0;
  out[0] = out[1] = 0;
  if (write_all(1, out, 2) < 0) return 0;

  struct pollfd fds[2] = {{.fd = tun, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (fds[0].revents & POLLIN) {
      /* Drain what the kernel has queued into one write: one pipe write per batch, not per packet. */
      size_t n = 0;
      while (n < OUT_BATCH) {
        ssize_t r = read(tun, out + n + 2, MAX_PACKET);
        if (r < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) break;
          fail("read");
        }
        out[n] = (unsigned char)(r >> 8);
        out[n + 1] = (unsigned char)r;
        n += 2 + (size_t)r;
      }
      if (n > 0 && write_all(1, out, n) < 0) return 0;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(0, in + in_len, IN_BUF - in_len);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return 0;
      in_len += (size_t)r;
      size_t at = 0;
      while (in_len - at >= 2) {
        size_t len = ((size_t)in[at] << 8) | in[at + 1];
        if (in_len - at - 2 < len) break;
        /* A full device queue or a bad packet drops this one packet, as a NIC would; the stack retransmits. */
        if (len > 0 && write(tun, in + at + 2, len) < 0 && errno != EAGAIN && errno != EINVAL && errno != EINTR && errno != ENOBUFS && errno != EIO)
          fail("write");
        at += 2 + len;
      }
      memmove(in, in + at, in_len - at);
      in_len -= at;
    }
  }
}
