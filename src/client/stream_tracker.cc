#include "client/stream_tracker.h"

#include <algorithm>

namespace raftlog {

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

void StreamTracker::start_after(core::LogIndex position) {
  started_ = true;
  last_ = position;
  begin_fetch(0);
}

bool StreamTracker::wanted(std::string_view topic) const {
  if (StartsWith(topic, wire::kReservedTopicPrefix)) return false;
  if (topics_.empty()) return true;
  return std::any_of(topics_.begin(), topics_.end(),
                     [&](const std::string& prefix) { return StartsWith(topic, prefix); });
}

void StreamTracker::begin_fetch(core::LogIndex target) {
  if (fetching_) {
    // Already catching up: go at least as far as the newest evidence says.
    if (fetch_target_ != 0) fetch_target_ = std::max(fetch_target_, target);
    return;
  }
  fetching_ = true;
  fetch_target_ = target;
}

void StreamTracker::on_message(std::string_view topic, std::string_view body) {
  if (topic == wire::kHeartbeatTopic) {
    wire::PublishedHeartbeat hb;
    if (wire::DecodePublishedHeartbeat(body.data(), body.size(), limits_, &hb).ok()) {
      on_heartbeat(hb);
    }
    return;
  }
  if (StartsWith(topic, wire::kReservedTopicPrefix)) return;
  wire::PublishedEventView ev;  // views into body
  if (wire::DecodePublishedEvent(body.data(), body.size(), limits_, &ev).ok()) on_event(topic, ev);
}

void StreamTracker::on_heartbeat(const wire::PublishedHeartbeat& hb) {
  ++stats_.heartbeats;
  if (!started_) {
    started_ = true;
    last_ = hb.last_index;
    return;
  }
  // The node published up to last_index and we saw less: the tail was lost.
  if (hb.last_index > last_) {
    ++stats_.gaps;
    begin_fetch(hb.last_index);
  }
}

void StreamTracker::on_event(std::string_view topic, const wire::PublishedEventView& ev) {
  if (!started_) {
    started_ = true;
    last_ = ev.prev_index;
  }
  if (ev.index <= last_) {
    ++stats_.duplicates;  // from another node, or fetched already
    return;
  }
  if (fetching_ || ev.prev_index > last_) {
    // A Command entry in (last_, ev.index) was missed: fetch through ev.
    ++stats_.gaps;
    begin_fetch(ev.index);
    return;
  }
  ++stats_.live_events;
  // prev_index <= last_ < index: no Command entry lies between.
  last_ = ev.index;
  if (!wanted(topic)) return;
  ready_.push_back(ReceivedEvent{ev.index, ev.term, std::string(topic), std::string(ev.payload),
                                 std::string(ev.producer), ev.seq, ev.timestamp_ms});
}

Status StreamTracker::take_page(const wire::FetchResult& page) {
  const core::LogIndex from = last_ + 1;
  for (size_t i = 0; i < page.entries.size(); ++i) {
    if (page.entries[i].index != from + i) {
      return Status::InvalidInput("fetch from " + std::to_string(from) + " returned entry " +
                                  std::to_string(page.entries[i].index) + " at position " +
                                  std::to_string(i));
    }
  }
  if (page.entries.empty()) {
    if (fetch_target_ == 0) {
      fetching_ = false;  // caught up with this node; the live stream goes on
      return Status::Ok();
    }
    return Status::Busy("it has committed only up to " + std::to_string(page.commit_index));
  }
  stats_.fetched_entries += page.entries.size();
  for (const core::Entry& e : page.entries) {
    if (e.type == core::EntryType::kCommand) {
      wire::EventRecord rec;
      Status s = wire::DecodeEventRecord(e.data.data(), e.data.size(), limits_, &rec);
      if (!s.ok()) {
        return Status::Corruption("entry " + std::to_string(e.index) +
                                  " is not an event record: " + s.message());
      }
      if (wanted(rec.topic)) {
        ready_.push_back(ReceivedEvent{e.index, e.term, std::move(rec.topic),
                                       std::move(rec.payload), std::move(rec.producer), rec.seq,
                                       rec.timestamp_ms});
      }
    }
    last_ = e.index;
  }
  if (fetch_target_ != 0 && last_ >= fetch_target_) fetching_ = false;
  return Status::Ok();
}

}  // namespace raftlog
