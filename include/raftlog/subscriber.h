// raftlog::Subscriber: every committed event of a raftlog cluster, each
// exactly once and in log order, as docs/protocol.md ("Gap-free
// subscription") describes.
//
// A Subscriber listens to the PUB stream of one or more nodes (or of a
// broker), and fills whatever the stream lost (a slow subscriber past the
// high-water mark, a reconnect, a start from an old index) by fetching the
// missing range from any node's client endpoint. It delivers the events of
// the topics asked for; the others are read and skipped, so that a gap in
// them is noticed too.
//
// Not thread-safe: one thread uses a Subscriber.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog {

struct SubscriberOptions {
  // PUB endpoints of the nodes (or a broker's XPUB endpoint). The same event
  // from several nodes is delivered once.
  std::vector<std::string> pub_endpoints;
  // Client endpoints of the nodes: where missing ranges are fetched from.
  std::vector<std::string> client_endpoints;
  // Topic prefixes to deliver; empty delivers every topic. Reserved topics
  // (_raftlog.) are never delivered.
  std::vector<std::string> topics;

  enum class Start {
    kLatest,        // with the live stream: events committed from about now on
    kFrom,          // with the event at index `from` (or the first one after it)
    kPositionFile,  // after the position recorded in position_file; when the
                    // file does not exist yet: as kFrom if from > 0, else kLatest
  };
  Start start = Start::kLatest;
  core::LogIndex from = 1;

  // If set, the position (see Subscriber::position) is written to this file
  // (a temporary file renamed over it) at least every position_interval
  // while events flow, and by close(). With kPositionFile a restarted
  // subscriber resumes there: after a close() with no gap and no duplicate;
  // after a crash with events since the last write delivered again.
  std::string position_file;
  std::chrono::milliseconds position_interval{1000};
  bool position_fsync = true;  // fsync the file (and its directory) on each write

  // ZMQ_RCVHWM of the SUB socket: messages queued before the publisher
  // drops. Small values make gaps (and their filling) frequent. 0 keeps
  // libzmq's default.
  int rcvhwm = 0;
  // Per fetch request: entries asked for, and how long one node has to answer.
  uint64_t fetch_max_count = 1000;
  std::chrono::milliseconds fetch_timeout{1000};
};

// One committed event (docs/protocol.md, "Event records").
struct ReceivedEvent {
  core::LogIndex index = 0;
  core::Term term = 0;
  std::string topic;
  std::string payload;
  std::string producer;  // empty when pushed without one
  uint64_t seq = 0;      // 0 without producer
  uint64_t timestamp_ms = 0;
  bool operator==(const ReceivedEvent&) const = default;
};

// What a Subscriber has done so far, for operators and tests.
struct SubscriberStats {
  uint64_t live_events = 0;     // events taken from the PUB stream
  uint64_t duplicates = 0;      // live events dropped: seen already (other node, fetch overlap)
  uint64_t heartbeats = 0;      // heartbeats received
  uint64_t gaps = 0;            // times the stream showed missed events (prev_index, heartbeat)
  uint64_t fetch_requests = 0;  // fetch requests sent, failed ones included
  uint64_t fetch_answers = 0;   // fetch requests a node replied to (with any code)
  uint64_t fetched_entries = 0;
};

class Subscriber {
 public:
  // Checks the options, reads the position file (kPositionFile) and
  // connects. InvalidInput for bad options or an unreadable position file.
  static Status Open(SubscriberOptions options, std::unique_ptr<Subscriber>* out);
  ~Subscriber();  // close()s
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // The next event, waiting up to `wait` for it. Returns:
  // - ok with *out set;
  // - Busy when no event came within `wait` (also while no node answers a
  //   needed fetch), or at once when a signal interrupted the wait (also
  //   in the middle of a fetch): call again;
  // - NotFound when the next events were compacted away on every node that
  //   answered; the message names the earliest index still held, e.g.
  //   "index 5 was compacted; the earliest index held is 100";
  // - Corruption when a fetched entry is not a valid event record.
  // After NotFound or Corruption every later call returns the same error.
  Status next(ReceivedEvent* out, std::chrono::milliseconds wait);

  // Every Command entry up to this index has been returned by next() or
  // skipped (other topics); the next event has a higher index. This is what
  // the position file holds.
  core::LogIndex position() const;

  // After next() returned NotFound because the next events were compacted
  // away: the earliest index the nodes still hold (0 if none said). A
  // reader that accepts the gap opens a new Subscriber from there
  // (raftlog-sub --skip-compacted).
  core::LogIndex earliest_held() const;

  const SubscriberStats& stats() const;

  // Writes the position file (if any) and closes the sockets. Idempotent.
  Status close();

 private:
  class Impl;
  explicit Subscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftlog
