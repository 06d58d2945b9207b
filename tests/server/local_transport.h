// An in-process Transport for tests: nodes of one LocalNetwork deliver to
// each other through mutex-guarded inboxes. Links can be cut.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "raftlog/transport.h"

namespace raftlog::testing {

class LocalNetwork {
 public:
  std::unique_ptr<Transport> join(core::NodeId id);
  void cut(core::NodeId a, core::NodeId b);
  void heal();

 private:
  friend class LocalTransport;
  struct Inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<core::Message> messages;
    bool woken = false;
  };
  void deliver(const core::Message& m);
  std::shared_ptr<Inbox> inbox(core::NodeId id);

  std::mutex mu_;
  std::map<core::NodeId, std::shared_ptr<Inbox>> inboxes_;
  std::set<std::pair<core::NodeId, core::NodeId>> cut_;
};

class LocalTransport : public Transport {
 public:
  LocalTransport(LocalNetwork* net, core::NodeId id) : net_(net), inbox_(net->inbox(id)) {}
  void send(const core::Message& m) override { net_->deliver(m); }
  Status receive(std::chrono::milliseconds timeout, std::vector<core::Message>* out) override;
  void wake() override;

 private:
  LocalNetwork* net_;
  std::shared_ptr<LocalNetwork::Inbox> inbox_;
};

}  // namespace raftlog::testing
