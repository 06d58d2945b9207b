// Snapshotter: when raftlogd takes a snapshot of its event layer and how far
// it compacts its log (docs/snapshots.md, "Retention").
//
// Snapshots are the EventMachine's state as of what it applied, saved with
// ReplicatedLog::save_snapshot: every `snapshot_every` applied entries, and
// when asked (raftlog-ctl snapshot). They make a restart quick (the node
// loads the latest and replays only the log after it) and let the log be
// compacted. Compaction (ReplicatedLog::compact) keeps what the retention
// limits say, never beyond the latest snapshot: with no limit set the log
// keeps everything; with several, an entry goes once any of them lets it
// go (as Kafka's retention.ms and retention.bytes do).
//
// Sizes and times are learnt from the entries as they are applied, one mark
// every kMarkEntries entries or kMarkBytes bytes, so the memory stays small
// for any log; compaction therefore lands on a mark, never beyond what a
// limit allows. Entries retained before this start were not applied in this
// life: learn() reads them once (only needed for retain-bytes and
// retain-age).
//
// One thread (the node's loop) uses it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "raftlog/replicated_log.h"
#include "raftlog/status.h"
#include "server/event_machine.h"

namespace raftlog::server {

struct RetentionOptions {
  // Applied entries between automatic snapshots; 0: only when asked.
  uint64_t snapshot_every = 100000;
  // Keep at least the newest this many entries; 0: no such limit.
  uint64_t retain_entries = 0;
  // Keep at most about this many bytes of entries (Entry::byte_size); 0: no limit.
  uint64_t retain_bytes = 0;
  // Keep entries whose log time (event timestamps) is within this many
  // milliseconds of the wall clock; 0: no limit.
  uint64_t retain_age_ms = 0;

  bool limits_set() const { return retain_entries > 0 || retain_bytes > 0 || retain_age_ms > 0; }
};

struct SnapshotCounters {
  uint64_t snapshots = 0;           // saved by this node (automatic and asked for)
  uint64_t compactions = 0;         // compactions done
  uint64_t snapshot_encode_us = 0;  // the last snapshot's encoding time
};

class Snapshotter {
 public:
  static constexpr uint64_t kMarkEntries = 1024;
  static constexpr uint64_t kMarkBytes = 1 << 20;

  // The answer to a request(): the snapshot saved, or why none was.
  using Done = std::function<void(const Status&, const core::SnapshotHead&)>;

  Snapshotter(ReplicatedLog* log, EventMachine* events, const RetentionOptions& options);

  // Reads the entries the log holds up to the snapshot this node started
  // from (they are not applied again), to learn their sizes and times.
  // Only when retain-bytes or retain-age is set; before the first step().
  Status learn();

  // Every ReplicatedLog event, after the EventMachine saw it. A
  // SnapshotLoaded is restored into the EventMachine here; an error means
  // this node cannot go on with that state (another producer window...).
  Status on_event(const Event& event);

  // Once per loop turn: saves a snapshot or compacts when one is due.
  // now_ms: the wall clock, milliseconds since the Unix epoch.
  void step(uint64_t now_ms);

  // Takes a snapshot now (at the applied index), or, if nothing was applied
  // since the last one, answers with that one; `done` runs once it is
  // durable, or failed (one being received from the leader is finished
  // first). Then the log is compacted as far as retention allows, even by
  // less than the usual step.
  void request(Done done);

  const SnapshotCounters& counters() const { return counters_; }
  // The index a step() would compact to now, for tests (0: none).
  core::LogIndex compaction_target(uint64_t now_ms) const;

 private:
  struct Mark {
    core::LogIndex index;
    uint64_t bytes;    // of every entry up to and including index (since marks began)
    uint64_t time_ms;  // log time at index
  };
  void applied(core::LogIndex index, uint64_t bytes, uint64_t time_ms);
  Status save();
  void answer(const Status& status, const core::SnapshotHead& head);

  ReplicatedLog* log_;
  EventMachine* events_;
  RetentionOptions options_;
  std::deque<Mark> marks_;
  uint64_t total_bytes_ = 0;  // of every entry applied (or learnt) so far
  uint64_t last_mark_bytes_ = 0;
  core::LogIndex last_mark_index_ = 0;
  core::LogIndex last_saved_ = 0;  // the latest snapshot's index (saved or loaded)
  bool saving_ = false;            // a save_snapshot is with the writer
  bool compacting_ = false;        // a compact is
  std::vector<Done> waiting_;      // request()s answered when the save is durable
  bool asked_ = false;             // a request() wants a snapshot at the next step
  bool compact_now_ = false;       // ...and then a compaction, whatever its step
  SnapshotCounters counters_;
};

}  // namespace raftlog::server
