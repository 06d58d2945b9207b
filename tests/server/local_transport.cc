#include "local_transport.h"

namespace raftlog::testing {

std::shared_ptr<LocalNetwork::Inbox> LocalNetwork::inbox(core::NodeId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& box = inboxes_[id];
  if (!box) box = std::make_shared<Inbox>();
  return box;
}

std::unique_ptr<Transport> LocalNetwork::join(core::NodeId id) {
  return std::make_unique<LocalTransport>(this, id);
}

void LocalNetwork::cut(core::NodeId a, core::NodeId b) {
  std::lock_guard<std::mutex> lock(mu_);
  cut_.insert({a, b});
  cut_.insert({b, a});
}

void LocalNetwork::heal() {
  std::lock_guard<std::mutex> lock(mu_);
  cut_.clear();
}

void LocalNetwork::deliver(const core::Message& m) {
  std::shared_ptr<Inbox> box;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cut_.count({m.from, m.to})) return;
    auto it = inboxes_.find(m.to);
    if (it == inboxes_.end()) return;
    box = it->second;
  }
  {
    std::lock_guard<std::mutex> lock(box->mu);
    box->messages.push_back(m);
  }
  box->cv.notify_one();
}

Status LocalTransport::receive(std::chrono::milliseconds timeout, std::vector<core::Message>* out) {
  std::unique_lock<std::mutex> lock(inbox_->mu);
  inbox_->cv.wait_for(lock, timeout, [&] { return inbox_->woken || !inbox_->messages.empty(); });
  inbox_->woken = false;
  for (core::Message& m : inbox_->messages) out->push_back(std::move(m));
  inbox_->messages.clear();
  return Status::Ok();
}

void LocalTransport::wake() {
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    inbox_->woken = true;
  }
  inbox_->cv.notify_one();
}

}  // namespace raftlog::testing
