#include "server/event_machine.h"

#include <algorithm>
#include <limits>

#include "server/log.h"
#include "wire/msgpack_reader.h"
#include "wire/msgpack_util.h"

// Deliberate bugs, one per promise of the event layer, each compiled into a
// simulator build of its own (tests/sim/CMakeLists.txt) that must catch it:
//   RAFTLOG_BUG_RETRY_SKIPS_LOG_CHECK     a new leader takes retries before it
//                                         has applied its log
//   RAFTLOG_BUG_ACK_BEFORE_COMMIT         a push is acked once proposed
//   RAFTLOG_BUG_PUBLISH_BEFORE_DURABLE    a leader publishes what it proposes
//   RAFTLOG_BUG_FETCH_PAST_COMMIT         fetch reads the log past the commit
//   RAFTLOG_BUG_EXPIRED_RETRY_TAKEN_AS_NEW  a retry from an expired producer
//                                         is appended as new
//   RAFTLOG_BUG_RESTORE_WITHOUT_PRODUCERS  restoring a snapshot forgets the
//                                         producer table

namespace raftlog::server {

EventMachine::EventMachine(ReplicatedLog* log, EventSink* events, AckSink* acks,
                           const EventMachineOptions& options)
    : log_(log),
      events_(events),
      acks_(acks),
      limits_(options.limits),
      producers_(options.producer_window, options.producer_expiry_ms),
      publish_after_(options.publish_after),
      producer_expiry_ms_(options.producer_expiry_ms) {}

// --- The rule ---------------------------------------------------------------

bool EventMachine::is_event(const core::Entry& e, wire::EventRecordView* record) const {
  if (e.type != core::EntryType::kCommand) return false;
  if (!wire::DecodeEventRecord(e.data.data(), e.data.size(), limits_, record).ok()) return false;
  if (record->producer.empty()) return true;
  ProducerTable::Where where;
  return producers_.find(record->producer, record->seq, &where) == ProducerTable::Found::kNew;
}

void EventMachine::apply(const Committed& c) {
  applied_ = c.index;
  if (c.entry.type != core::EntryType::kCommand) return;
  wire::EventRecordView record;  // views into c.entry.data
  Status s = wire::DecodeEventRecord(c.entry.data.data(), c.entry.data.size(), limits_, &record);
  // Log time moves with the records' timestamps (never back: a new leader's
  // clock may be behind), the same on every node.
  if (s.ok()) log_time_ms_ = std::max(log_time_ms_, record.timestamp_ms);
  // is_event()'s rule, recording the (producer, seq) as it goes.
  const bool event = s.ok() && (record.producer.empty() ||
                                producers_.record(record.producer, record.seq,
                                                  {c.index, c.entry.term}, log_time_ms_));
  if (s.ok()) producers_.expire(log_time_ms_);
  if (!event) {
    not_events_.insert(c.index);
    if (!s.ok()) {
      // Only raftlogd writes entries, so this is damage or a foreign writer:
      // the entry stays in the log but is not an event.
      ++counters_.undecodable;
      RAFTLOG_LOG(kError) << "entry " << c.index << " holds no event record: " << s.ToString();
    } else {
      ++counters_.duplicates_skipped;
      RAFTLOG_LOG(kWarn) << "entry " << c.index << " repeats producer '" << record.producer
                         << "' seq " << record.seq << " (or is below its window): not an event";
    }
    return;
  }
  // prev_index chains the events: entries that are not events stay out of
  // the chain (the same on every node).
  const core::LogIndex prev = last_event_;
  last_event_ = c.index;
  ++counters_.events_applied;
  if (c.index <= publish_after_) return;
  ++counters_.events_published;
  events_->publish(record.topic,
                   wire::PublishedEventView{c.index, c.entry.term, record.timestamp_ms,
                                            record.payload, record.producer, record.seq, prev});
}

Status EventMachine::fetch(core::LogIndex from, uint64_t max_count, uint64_t max_bytes,
                           wire::FetchResult* out) const {
  const LocalHistory h = log_->local_history();
  if (from <= h.head) {
    return Status::NotFound("index " + std::to_string(from) +
                            " was compacted; the earliest index held is " +
                            std::to_string(h.head + 1));
  }
  out->commit_index = h.committed;
  out->head_index = h.head;
  out->entries.clear();
  const core::LogIndex end = max_count > std::numeric_limits<core::LogIndex>::max() - from
                                 ? std::numeric_limits<core::LogIndex>::max()
                                 : from + max_count;
#ifdef RAFTLOG_BUG_FETCH_PAST_COMMIT
  // The bug: the local log as it stands, committed or not.
  Status s = log_->entries(from, std::min(end, h.last + 1), max_bytes, &out->entries);
#else
  // Only what this node has applied: there the rule is known for every entry.
  Status s = log_->committed_entries(from, std::min(end, applied_ + 1), max_bytes, &out->entries);
#endif
  if (!s.ok()) return s;
  for (core::Entry& e : out->entries) {
    if (e.type == core::EntryType::kCommand && not_events_.count(e.index) > 0) {
      e.type = core::EntryType::kNoop;
      e.data.clear();
    }
  }
  return Status::Ok();
}

// --- Pushes -----------------------------------------------------------------

namespace {

// A (producer, seq) below the producer table's window.
Status TooOld(std::string_view producer, uint64_t seq) {
  return Status::InvalidInput("seq " + std::to_string(seq) +
                              " is older than the window remembered for producer '" +
                              std::string(producer) + "'; its outcome cannot be told");
}

}  // namespace

Status EventMachine::check_not_too_old(std::string_view producer, uint64_t seq) const {
  ProducerTable::Where where;
  if (!producer.empty() &&
      producers_.find(producer, seq, &where) == ProducerTable::Found::kTooOld) {
    return TooOld(producer, seq);
  }
  return Status::Ok();
}

void EventMachine::push(ReplyTo to, std::string_view topic, std::string_view payload,
                        std::string_view producer, uint64_t seq, uint64_t timestamp_ms) {
  const LocalNode self = log_->local_node();
  if (self.role != core::Role::kLeader) {
    acks_->failed(to, Status::NotLeader(self.leader));
    return;
  }
  Waiter waiter{std::move(to), false};
  if (!producer.empty()) {
#ifndef RAFTLOG_BUG_RETRY_SKIPS_LOG_CHECK
    // A leader never appends a (producer, seq) its log holds. The table and
    // the inherited-entry scan (on_became_leader) together cover the whole
    // log only once everything committed at the election has been applied:
    // until then a retry of an entry in that gap would look new and be
    // appended a second time. The producer retries Busy.
    if (applied_ < retries_known_from_) {
      acks_->failed(waiter.to, Status::Busy("the leader is still applying its log (applied " +
                                            std::to_string(applied_) + " of " +
                                            std::to_string(retries_known_from_) +
                                            "); pushes with a producer are taken once it has"));
      return;
    }
#endif
    // Exactly-once: a (producer, seq) already committed, or still in flight
    // in this leader's log, is answered with the original's index.
    ProducerTable::Where where;
    switch (producers_.find(producer, seq, &where)) {
      case ProducerTable::Found::kSeen:
        acks_->acked(waiter.to, {where.index, where.term, true});
        return;
      case ProducerTable::Found::kTooOld:
        acks_->failed(waiter.to, TooOld(producer, seq));
        return;
      case ProducerTable::Found::kNew:
        break;
    }
    auto in = inflight_.find(std::pair<std::string_view, uint64_t>(producer, seq));
#ifndef RAFTLOG_BUG_EXPIRED_RETRY_TAKEN_AS_NEW
    // Every push may be a retry (a producer never reuses a seq): one the
    // table cannot tell about any more is refused, never appended twice.
    if (in == inflight_.end() && producers_.lost_outcome(producer, seq)) {
      acks_->failed(
          waiter.to,
          Status::InvalidInput(
              "producer '" + std::string(producer) + "' expired (idle for more than " +
              std::to_string(producer_expiry_ms_ / 1000) + " s of log time): whether its seq " +
              std::to_string(seq) + " was committed cannot be told; it is not appended again"));
      return;
    }
#endif
    if (in != inflight_.end()) {
      waiter.duplicate = true;
      if (Pending* p = find_pending(in->second); p != nullptr) {
        if (p->first) {
          p->more.push_back(std::move(waiter));
        } else {
          p->first = std::move(waiter);
        }
        return;
      }
    }
  }
  record_.clear();
  wire::EncodeEventRecord(wire::EventRecordView{topic, producer, seq, timestamp_ms, payload},
                          &record_);
  core::ProposalId id;
  Status s = log_->propose_command(record_, &id);
  if (!s.ok()) {
    acks_->failed(waiter.to, s);
    return;
  }
#ifdef RAFTLOG_BUG_PUBLISH_BEFORE_DURABLE
  // The bug: a "fast" stream that shows a push before it is durable (or committed).
  ++counters_.events_published;
  events_->publish(topic, wire::PublishedEventView{id.index, id.term, timestamp_ms, payload,
                                                   producer, seq, last_event_});
#endif
#ifdef RAFTLOG_BUG_ACK_BEFORE_COMMIT
  // The bug: the ack goes out once the entry is proposed.
  acks_->acked(waiter.to, {id.index, id.term, false});
  return;
#endif
  add_pending(id.index, id.term, producer, seq).first = std::move(waiter);
}

EventMachine::Pending& EventMachine::add_pending(core::LogIndex index, core::Term term,
                                                 std::string_view producer, uint64_t seq) {
  auto at = pending_.end();
  if (!pending_.empty() && pending_.back().index >= index) {
    // Not expected (indexes grow), but keep the order if it happens.
    at = std::lower_bound(pending_.begin(), pending_.end(), index,
                          [](const Pending& p, core::LogIndex i) { return p.index < i; });
    if (at != pending_.end() && at->index == index) at = pending_.erase(at);
  }
  Pending& p = *pending_.insert(at, Pending{index, term, std::string(producer), seq, {}, {}});
  if (!producer.empty()) inflight_[{std::string(producer), seq}] = index;
  return p;
}

EventMachine::Pending* EventMachine::find_pending(core::LogIndex index) {
  auto at = std::lower_bound(pending_.begin(), pending_.end(), index,
                             [](const Pending& p, core::LogIndex i) { return p.index < i; });
  return at != pending_.end() && at->index == index ? &*at : nullptr;
}

// --- Log events -------------------------------------------------------------

void EventMachine::on_event(const Event& event) {
  if (const auto* c = std::get_if<Committed>(&event)) {
    // The table first: a waiter answered below, or a retry arriving next,
    // must find what just committed. An entry at or below applied_ is one a
    // restored snapshot holds already (the log replays from its own head).
    if (c->index > applied_) apply(*c);
    settle(*c);
  } else if (const auto* r = std::get_if<core::RoleChanged>(&event)) {
    if (r->role == core::Role::kLeader) {
      on_became_leader();
    } else {
      fail_pending("leadership lost");
    }
  }
}

void EventMachine::on_became_leader() {
  // Events this leader inherited uncommitted: a retry of one of them must
  // wait for it, not append it again. Entries up to the commit index reach
  // the producer table as they are applied; push() holds pushes with a
  // producer back until they have.
  const LocalHistory h = log_->local_history();
  retries_known_from_ = h.committed;
  // (Past applied_ too: a restored snapshot may be ahead of the commit
  // index this node knows, and what it holds is in the table.)
  for (core::LogIndex next = std::max(h.committed, applied_) + 1; next <= h.last;) {
    std::vector<core::Entry> entries;
    Status s = log_->entries(next, h.last + 1, 4 << 20, &entries);
    if (!s.ok() || entries.empty()) {
      RAFTLOG_LOG(kError) << "cannot read the uncommitted log from " << next << ": "
                          << s.ToString();
      return;
    }
    for (const core::Entry& e : entries) {
      wire::EventRecordView r;
      if (e.type == core::EntryType::kCommand &&
          wire::DecodeEventRecord(e.data.data(), e.data.size(), limits_, &r).ok() &&
          !r.producer.empty()) {
        add_pending(e.index, e.term, r.producer, r.seq);
      }
    }
    next = entries.back().index + 1;
  }
}

void EventMachine::settle(const Committed& c) {
  while (!pending_.empty() && pending_.front().index <= c.index) {
    Pending& p = pending_.front();
    const bool landed = p.index == c.index && c.entry.term == p.term;
    ProducerTable::Where where{c.index, c.entry.term};
    bool duplicate_entry = false;
    if (landed && !p.producer.empty()) {
      // Normally this entry is the one the table recorded; if the log held
      // the same (producer, seq) earlier, that earlier one is the event.
      ProducerTable::Where original;
      if (producers_.find(p.producer, p.seq, &original) == ProducerTable::Found::kSeen &&
          original.index != c.index) {
        where = original;
        duplicate_entry = true;
      }
    }
    auto reply = [&](const Waiter& w) {
      if (!landed) {
        // Another leader's entry took the index: this push was dropped.
        acks_->failed(w.to, Status::InconsistentState(
                                "the push was dropped by a leader change; it was not committed"));
        return;
      }
      acks_->acked(w.to, {where.index, where.term, w.duplicate || duplicate_entry});
    };
    if (p.first) reply(*p.first);
    for (const Waiter& w : p.more) reply(w);
    if (!p.producer.empty()) {
      auto in = inflight_.find(std::pair<std::string_view, uint64_t>(p.producer, p.seq));
      if (in != inflight_.end()) inflight_.erase(in);
    }
    pending_.pop_front();
  }
}

void EventMachine::fail_pending(const std::string& why) {
  const core::NodeId leader = log_->local_node().leader;
  for (const Pending& p : pending_) {
    // The entry may still commit under the next leader: the outcome is unknown.
    const Status lost = Status::NotLeader(leader, why + " before index " + std::to_string(p.index) +
                                                      " committed; its outcome is unknown");
    if (p.first) acks_->failed(p.first->to, lost);
    for (const Waiter& w : p.more) acks_->failed(w.to, lost);
  }
  pending_.clear();
  inflight_.clear();
  retries_known_from_ = 0;  // a follower redirects (not_leader), it does not say busy
}

// --- Snapshots ----------------------------------------------------------------
//
// [version, applied, last_event, log_time_ms, [not_event...],
//  [events_applied, duplicates_skipped, undecodable], table]
// not_event: the indexes of the entries that are no events, ascending;
// table: ProducerTable::encode()'s array, the last thing in the bytes.

namespace {

constexpr const char* kSnapshot = "event snapshot";
constexpr uint32_t kSnapshotFields = 7;

Status BadSnapshot(const std::string& why) {
  return Status::Corruption(std::string(kSnapshot) + ": " + why);
}

}  // namespace

std::string EventMachine::snapshot() const {
  std::string out;
  // About what the table takes (docs/snapshots.md), to grow the string once.
  out.reserve(64 + 9 * not_events_.size() + 6 * producers_.slots() +
              48 * (producers_.producers() + producers_.forgotten()));
  wire::detail::StringSink sink(&out);
  wire::detail::Packer pk(sink);
  pk.pack_array(kSnapshotFields);
  pk.pack_uint64(kSnapshotVersion);
  pk.pack_uint64(applied_);
  pk.pack_uint64(last_event_);
  pk.pack_uint64(log_time_ms_);
  pk.pack_array(static_cast<uint32_t>(not_events_.size()));
  for (core::LogIndex i : not_events_) pk.pack_uint64(i);
  pk.pack_array(3);
  pk.pack_uint64(counters_.events_applied);
  pk.pack_uint64(counters_.duplicates_skipped);
  pk.pack_uint64(counters_.undecodable);
  producers_.encode(&out);
  return out;
}

Status EventMachine::restore(core::LogIndex head, std::string_view bytes) {
  if (head < applied_) {
    return Status::InvalidInput("cannot restore a snapshot at index " + std::to_string(head) +
                                ": this node has applied up to " + std::to_string(applied_) +
                                " already, and its state does not go back");
  }
  wire::detail::Reader r(bytes.data(), bytes.size());
  uint32_t fields = 0;
  uint64_t version = 0;
  if (!r.array(&fields) || fields == 0 || !r.uint(&version)) {
    return BadSnapshot(r.ok() ? "an empty array" : r.error());
  }
  if (version != kSnapshotVersion) {
    return Status::NotSupported(std::string(kSnapshot) + ": version " + std::to_string(version) +
                                " (this build reads version " + std::to_string(kSnapshotVersion) +
                                ")");
  }
  if (fields != kSnapshotFields) {
    return BadSnapshot("version " + std::to_string(kSnapshotVersion) + " has " +
                       std::to_string(kSnapshotFields) + " elements, not " +
                       std::to_string(fields));
  }
  core::LogIndex applied = 0;
  core::LogIndex last_event = 0;
  uint64_t log_time_ms = 0;
  if (!r.uint(&applied) || !r.uint(&last_event) || !r.uint(&log_time_ms)) {
    return BadSnapshot(r.error());
  }
  if (applied != head) {
    return Status::InvalidInput(std::string(kSnapshot) + " is of index " + std::to_string(applied) +
                                ", not of index " + std::to_string(head) + " it is restored at");
  }
  if (last_event > applied) {
    return BadSnapshot("its last event " + std::to_string(last_event) + " is past its index " +
                       std::to_string(applied));
  }
  // Each index takes a byte at least: the count is bounded before the set grows.
  uint32_t count = 0;
  if (!r.array(&count, r.remaining())) return BadSnapshot("not events: " + r.error());
  std::set<core::LogIndex> not_events;
  for (uint32_t i = 0; i < count; ++i) {
    core::LogIndex index = 0;
    if (!r.uint(&index)) return BadSnapshot("not events: " + r.error());
    if (index == 0 || index > applied || index == last_event ||
        (!not_events.empty() && index <= *not_events.rbegin())) {
      return BadSnapshot("not events: index " + std::to_string(index) +
                         " is out of order, past the snapshot's index or its last event");
    }
    not_events.insert(not_events.end(), index);
  }
  EventCounters counters = counters_;
  uint32_t n = 0;
  if (!r.array(&n) || n != 3) {
    return BadSnapshot("counters: " +
                       (r.ok() ? std::to_string(n) + " elements, not 3" : r.error()));
  }
  if (!r.uint(&counters.events_applied) || !r.uint(&counters.duplicates_skipped) ||
      !r.uint(&counters.undecodable)) {
    return BadSnapshot("counters: " + r.error());
  }
  // The rest is the table (Decode refuses anything after it).
  ProducerTable table(producers_.window(), producer_expiry_ms_);
  Status s = ProducerTable::Decode(std::string_view(r.position(), r.remaining()),
                                   producers_.window(), producer_expiry_ms_, &table);
  if (!s.ok()) return s;

  // The waiters' entries may or may not be in the snapshot, or commit
  // later: their outcome is unknown here.
  fail_pending("this node installed a snapshot up to index " + std::to_string(head));
#ifdef RAFTLOG_BUG_RESTORE_WITHOUT_PRODUCERS
  table = ProducerTable(producers_.window(), producer_expiry_ms_);
#endif
  producers_ = std::move(table);
  applied_ = head;
  last_event_ = last_event;
  log_time_ms_ = log_time_ms;
  not_events_ = std::move(not_events);
  counters_ = counters;
  RAFTLOG_LOG(kInfo) << "restored the event layer at index " << head << ": "
                     << producers_.producers() << " producers, last event " << last_event_
                     << ", log time " << log_time_ms_ << " ms";
  // Not expected (a leader installs no snapshot), but then it waits on its
  // uncommitted entries as a new leader does.
  if (log_->local_node().role == core::Role::kLeader) on_became_leader();
  return Status::Ok();
}

}  // namespace raftlog::server
