// Poller: one thread's wait on every socket of a node. Whoever runs the
// loop owns it (raftlogd's main loop; a ZmqTransport makes its own when it
// is given none): each socket registers with what to do when it is
// readable, and wait() sleeps until one is, a wake() arrives, or the
// timeout passes, then runs the handlers of the sockets that are readable.
//
// Not thread-safe, except wake().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>
#include <zmq.hpp>

#include "raftlog/status.h"

namespace raftlog::net {

class Poller {
 public:
  // IOError if the wake-up descriptor cannot be made.
  static Status Create(std::unique_ptr<Poller>* out);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Polls `socket` in wait() and calls on_readable when it has input. The
  // socket must outlive its registration; remove() ends it. Handlers must
  // not add or remove sockets.
  void add(zmq::socket_t* socket, std::function<void()> on_readable);
  void remove(const zmq::socket_t* socket);
  // Waits up to timeout, then calls the handler of each readable socket,
  // in the order they were added. Ok on a signal (EINTR): the caller looks
  // at its flags and comes back.
  Status wait(std::chrono::milliseconds timeout);
  // Makes a wait() in progress, or the next one, return at once. Safe from
  // any thread and from a signal handler.
  void wake();

 private:
  Poller() = default;
  struct Entry {
    zmq::socket_t* socket;
    std::function<void()> on_readable;
  };
  std::vector<Entry> entries_;
  std::vector<zmq::pollitem_t> items_;
  int wake_fd_ = -1;  // eventfd
};

}  // namespace raftlog::net
