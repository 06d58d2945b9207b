#include "net/poller.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace raftlog::net {

Status Poller::Create(std::unique_ptr<Poller>* out) {
  std::unique_ptr<Poller> p(new Poller());
  p->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (p->wake_fd_ < 0) return Status::IOError(std::string("eventfd: ") + std::strerror(errno));
  *out = std::move(p);
  return Status::Ok();
}

Poller::~Poller() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Poller::add(zmq::socket_t* socket, std::function<void()> on_readable) {
  entries_.push_back(Entry{socket, std::move(on_readable)});
}

void Poller::remove(const zmq::socket_t* socket) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.socket == socket; }),
                 entries_.end());
}

void Poller::wake() {
  uint64_t one = 1;
  // Async-signal-safe; a full counter still leaves the fd readable.
  ssize_t n = write(wake_fd_, &one, sizeof(one));
  (void)n;
}

Status Poller::wait(std::chrono::milliseconds timeout) {
  items_.clear();
  items_.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
  for (const Entry& e : entries_) items_.push_back({e.socket->handle(), 0, ZMQ_POLLIN, 0});
  try {
    zmq::poll(items_.data(), items_.size(), timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return Status::Ok();  // a signal: let the loop look at it
    return Status::IOError(std::string("zmq poll: ") + e.what());
  }
  if (items_[0].revents & ZMQ_POLLIN) {
    uint64_t value;
    ssize_t n = read(wake_fd_, &value, sizeof(value));
    (void)n;
  }
  for (size_t i = 0; i + 1 < items_.size(); ++i) {
    if (items_[i + 1].revents & ZMQ_POLLIN) entries_[i].on_readable();
  }
  return Status::Ok();
}

}  // namespace raftlog::net
