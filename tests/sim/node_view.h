// NodeView: what the Checker reads of one simulated node, whichever runtime
// drives its core: the core mode's own (Node, node.h) or raftlogd's
// ReplicatedLog in the whole-node mode (SimNode, world.cc).
#pragma once

#include <cstdint>

#include "log_view.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::sim {

class NodeView {
 public:
  virtual ~NodeView() = default;

  virtual core::NodeId id() const = 0;
  virtual bool up() const = 0;
  // Bumped by every crash.
  virtual uint64_t incarnation() const = 0;
  // The log as the runtime has been told it (every Ready's entries as soon
  // as the Ready is taken, durable or not); after a crash, what reached the
  // disk. Compacted through its snapshot's head, if it has one.
  virtual const LogView& log() const = 0;
  // The last index applied in this life (after a restart: the log head,
  // 0 in a log never compacted, as the log is applied again from there;
  // after a snapshot is installed: its index).
  virtual core::LogIndex applied() const = 0;
  // The commit index in the durable hard state (what a restart starts from).
  virtual core::LogIndex durable_commit() const = 0;
  // Whether the node's disk holds the entry (index, term), or a snapshot
  // covering index. The default reads log(), durable or not: a runtime that
  // knows its disk says exactly.
  virtual bool durably_holds(core::LogIndex index, core::Term term) const {
    return index <= log().head_index() || log().term_at(index) == term;
  }

  // The core's state; only while up().
  virtual bool ok() const = 0;  // status().ok(), without building a Status
  virtual Status status() const = 0;
  virtual core::Term term() const = 0;
  virtual core::Role role() const = 0;
  virtual core::LogIndex commit_index() const = 0;
  virtual uint64_t last_heartbeat_ack() const = 0;
};

}  // namespace raftlog::sim
