#include "server/event_applier.h"

#include "server/log.h"

namespace raftlog::server {

void EventApplier::apply(const Committed& c) {
  if (c.entry.type != core::EntryType::kCommand) return;
  wire::EventRecordView record;  // views into c.entry.data
  Status s = wire::DecodeEventRecord(c.entry.data.data(), c.entry.data.size(), limits_, &record);
  if (!s.ok()) {
    // Only raftlogd writes entries, so this is damage or a foreign writer:
    // the entry stays in the log but is not an event.
    ++counters_.undecodable;
    RAFTLOG_LOG(kError) << "entry " << c.index << " holds no event record: " << s.ToString();
    return;
  }
  if (!record.producer.empty() &&
      !table_->record(record.producer, record.seq, {c.index, c.entry.term})) {
    ++counters_.duplicates_skipped;
    RAFTLOG_LOG(kWarn) << "entry " << c.index << " repeats producer '" << record.producer
                       << "' seq " << record.seq << "; not published";
    return;
  }
  // prev_index chains the events subscribers can see: entries skipped above
  // are left out of the chain (the same on every node).
  core::LogIndex prev = last_command_;
  last_command_ = c.index;
  ++counters_.events_applied;
  if (c.index <= publish_after_) return;
  publisher_->publish(record.topic,
                      wire::PublishedEventView{c.index, c.entry.term, record.timestamp_ms,
                                               record.payload, record.producer, record.seq, prev});
}

}  // namespace raftlog::server
