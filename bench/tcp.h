// Plain TCP for the peers' load generators (etcd's HTTP gateway, NATS's
// text protocol): connect, send all, and a read buffer that hands out
// complete lines and byte runs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace raftlog::bench {

// Connects to "host:port" (IPv4), with TCP_NODELAY: these are small
// request/reply exchanges. Returns the fd, or -1 with *error set.
int ConnectTcp(const std::string& host_port, std::string* error);
void SetNonBlocking(int fd);
// Writes all of data, polling when the socket is full. False on error.
bool SendAll(int fd, std::string_view data);

// Bytes received and not yet consumed.
class ReadBuffer {
 public:
  // Reads what the socket has (one read()). Returns bytes read, 0 on EOF,
  // -1 on error, -2 if it would block.
  long fill(int fd);
  std::string_view data() const { return std::string_view(buf_).substr(pos_); }
  void consume(size_t n);
  // The next line without its \r\n, or nullopt-like false if incomplete.
  bool line(std::string_view* out);

 private:
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace raftlog::bench
