// StreamTracker: the rules of a gap-free subscription (docs/protocol.md,
// "Gap-free subscription"), without sockets or time. It takes what the PUB
// stream carries and what fetch returns, and says what to deliver and what
// to fetch: an event whose prev_index shows a missed Command entry, or a
// heartbeat naming an index not seen, starts a fetch through that index;
// live events that overlap what was fetched (or came from another node) are
// dropped. Subscriber wraps it with sockets, a fetch client and a position
// file; the whole-node simulator drives the same object with its simulated
// stream and the real nodes' fetch replies.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/subscriber.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {

class StreamTracker {
 public:
  // topics: the prefixes to deliver (empty: every topic but the reserved ones).
  explicit StreamTracker(std::vector<std::string> topics) : topics_(std::move(topics)) {}

  // Starts after `position` (every Command entry up to it was taken): the
  // first thing to do is fetch from position + 1 until a node has nothing
  // more. Without a call, the first live message sets the start (the
  // stream's "latest").
  void start_after(core::LogIndex position);
  bool started() const { return started_; }

  // One PUB message. A malformed one is ignored: if it hid an event, the
  // next event's prev_index or the next heartbeat shows the gap.
  void on_message(std::string_view topic, std::string_view body);

  // Whether entries must be fetched before the live stream goes on, and
  // from where.
  bool fetching() const { return fetching_; }
  core::LogIndex fetch_from() const { return last_ + 1; }
  // Fetch at least through `target` (0: until a node has nothing more).
  void begin_fetch(core::LogIndex target);
  // One node's fetch reply from fetch_from(). Ok: taken (the fetch may be
  // over). Busy: that node has not committed what another one published;
  // ask another. InvalidInput: the page is misnumbered; ask another.
  // Corruption: a fetched Command entry is not an event record (no node
  // can do better).
  Status take_page(const wire::FetchResult& page);

  // Events to deliver, in log order.
  std::deque<ReceivedEvent>& ready() { return ready_; }
  // Every Command entry up to this index was delivered (popped from
  // ready()) or skipped; Subscriber::position().
  core::LogIndex position() const { return ready_.empty() ? last_ : ready_.front().index - 1; }
  SubscriberStats& stats() { return stats_; }
  const SubscriberStats& stats() const { return stats_; }

 private:
  void on_heartbeat(const wire::PublishedHeartbeat& hb);
  void on_event(std::string_view topic, const wire::PublishedEventView& ev);
  bool wanted(std::string_view topic) const;

  std::vector<std::string> topics_;
  wire::DecodeLimits limits_;
  // Every Command entry with an index <= last_ has been queued in ready_ or
  // skipped. last_ may be the index of a Noop or Config entry: fetched pages
  // cover every entry type.
  core::LogIndex last_ = 0;
  // False only while a "latest" start waits for its first live message.
  bool started_ = false;
  // While fetching_, pages are fetched from last_ + 1 until last_ reaches
  // fetch_target_ (0: until a node has nothing more to give).
  bool fetching_ = false;
  core::LogIndex fetch_target_ = 0;
  std::deque<ReceivedEvent> ready_;
  SubscriberStats stats_;
};

}  // namespace raftlog
