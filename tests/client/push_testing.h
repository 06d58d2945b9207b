// Helpers shared by the Producer and raftlog-push tests: a cluster's leader,
// and the events a node's committed log holds.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "process_cluster.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog::testing {

// The leader all running nodes agree on, waiting up to deadline; 0 if none.
inline core::NodeId WaitForLeader(ProcessCluster& c,
                                  std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  core::NodeId leader = 0;
  ProcessCluster::wait_for([&] { return (leader = c.agreed_leader()) != 0; }, deadline);
  return leader;
}

// An event as a node's committed log holds it.
struct LoggedEvent {
  core::LogIndex index = 0;
  wire::EventRecord record;
};

// One producer's events in node id's committed log, by seq: every place
// each appears (exactly-once means exactly one each).
inline std::map<uint64_t, std::vector<LoggedEvent>> EventsOf(ProcessCluster& c, core::NodeId id,
                                                             const std::string& producer) {
  std::map<uint64_t, std::vector<LoggedEvent>> out;
  std::vector<core::Entry> entries;
  Status s = c.fetch_all(id, &entries);
  EXPECT_TRUE(s.ok()) << s.ToString();
  for (const core::Entry& e : entries) {
    if (e.type != core::EntryType::kCommand) continue;
    LoggedEvent event{e.index, {}};
    s = wire::DecodeEventRecord(e.data.data(), e.data.size(), wire::DecodeLimits(), &event.record);
    EXPECT_TRUE(s.ok()) << "entry " << e.index << ": " << s.ToString();
    if (event.record.producer == producer) out[event.record.seq].push_back(std::move(event));
  }
  return out;
}

// Waits until node id's committed log holds at least count events of producer.
inline bool WaitForEvents(ProcessCluster& c, core::NodeId id, const std::string& producer,
                          size_t count, std::chrono::milliseconds deadline) {
  return ProcessCluster::wait_for([&] { return EventsOf(c, id, producer).size() >= count; },
                                  deadline);
}

}  // namespace raftlog::testing
