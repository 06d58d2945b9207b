#include "tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace raftlog::bench {

int ConnectTcp(const std::string& host_port, std::string* error) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    *error = "not host:port: " + host_port;
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    *error = "not an IPv4 address: " + host_port;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = "connect " + host_port + ": " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 1000);
    } else {
      return false;
    }
  }
  return true;
}

long ReadBuffer::fill(int fd) {
  // Compact first so the buffer does not grow without bound.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + 65536);
  ssize_t n = read(fd, buf_.data() + old, 65536);
  buf_.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
  if (n < 0) return (errno == EAGAIN || errno == EINTR) ? -2 : -1;
  return n;
}

// Only moves the read position: views handed out stay valid until the next
// fill(), which compacts.
void ReadBuffer::consume(size_t n) {
  pos_ += n;
}

bool ReadBuffer::line(std::string_view* out) {
  std::string_view d = data();
  size_t end = d.find("\r\n");
  if (end == std::string_view::npos) return false;
  *out = d.substr(0, end);
  consume(end + 2);
  return true;
}

}  // namespace raftlog::bench
