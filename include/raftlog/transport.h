// Transport: how a ReplicatedLog exchanges Raft messages with its peers.
//
// Raft tolerates loss, duplication and reordering, so send() never blocks
// and may drop (a full queue, an unreachable peer); it must never forge or
// corrupt a message. raftlogd's transport is ZeroMQ (src/net); tests plug in
// an in-process one.
#pragma once

#include <chrono>
#include <vector>

#include "raftlog/core/message.h"
#include "raftlog/status.h"

namespace raftlog {

class Transport {
 public:
  virtual ~Transport() = default;

  // Queues m for m.to. Called from the loop thread only.
  virtual void send(const core::Message& m) = 0;

  // Waits up to timeout for input, then appends every message that has
  // arrived to *out. May return early with nothing (after wake()). Called
  // from the loop thread only. An error here stops the node.
  virtual Status receive(std::chrono::milliseconds timeout, std::vector<core::Message>* out) = 0;

  // Makes a receive() in progress, or the next one, return at once.
  // Safe from any thread and from a signal handler's thread.
  virtual void wake() = 0;

  // The configuration in force changed (and at start): a transport that
  // learns its peers from it (their addresses in config.context) connects
  // to new members and drops removed ones. Called from the loop thread.
  virtual void set_members(const core::ClusterConfig& config) { (void)config; }
};

}  // namespace raftlog
