// EventApplier: what a raftlogd node does with each committed entry, in log
// order: decode its event record, record (producer, seq) in the producer
// table, and publish it. After a restart the node re-applies its log from
// the head to rebuild the table, but publishes only entries committed after
// it came back (publish_after); subscribers fetch older ones.
#pragma once

#include "raftlog/replicated_log.h"
#include "server/producer_table.h"
#include "server/publisher.h"

namespace raftlog::server {

struct ApplierCounters {
  uint64_t events_applied = 0;
  uint64_t duplicates_skipped = 0;  // a (producer, seq) committed twice (never expected)
  uint64_t undecodable = 0;         // Command entries that hold no event record
};

class EventApplier {
 public:
  EventApplier(ProducerTable* table, Publisher* publisher, core::LogIndex publish_after)
      : table_(table), publisher_(publisher), publish_after_(publish_after) {}

  void apply(const Committed& committed);
  // The index of the last event applied (a Command entry holding a new
  // event record), 0 if none.
  core::LogIndex last_command_index() const { return last_command_; }
  const ApplierCounters& counters() const { return counters_; }

 private:
  ProducerTable* table_;
  Publisher* publisher_;
  core::LogIndex publish_after_;
  core::LogIndex last_command_ = 0;
  ApplierCounters counters_;
  wire::DecodeLimits limits_;
};

}  // namespace raftlog::server
