#include "raftlog/replicated_log.h"

#include <algorithm>
#include <deque>

#include "server/persister.h"
#include "storage/crc32c.h"

namespace raftlog {

namespace {

class SteadyClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
};

}  // namespace

class ReplicatedLog::Impl {
 public:
  Impl(const ReplicatedLogOptions& options, std::unique_ptr<storage::LogStore> store,
       std::unique_ptr<Transport> transport, const core::HardState& hs,
       core::LogIndex snapshot_index)
      : options_(options), store_(std::move(store)), transport_(std::move(transport)) {
    core::Config cfg = options_.core;
    cfg.applied = options_.resume_from_commit ? hs.commit : 0;
    // The application starts from the snapshot (SnapshotLoaded): what it
    // covers is not delivered again.
    cfg.applied = std::max(cfg.applied, snapshot_index);
    raft_ = std::make_unique<core::Raft>(cfg, store_.get(), hs, options_.members);
    clock_ = options_.clock != nullptr ? options_.clock : &steady_clock_;
    writer_ = options_.writer;
    if (writer_ == nullptr) {
      Transport* t = transport_.get();
      persister_ = std::make_unique<server::Persister>(store_.get(), [t] { t->wake(); });
      writer_ = persister_.get();
    }
    next_tick_ = clock_->now() + options_.tick_interval;
  }

  Status run_once(std::chrono::milliseconds max_wait);
  std::chrono::milliseconds next_wait(std::chrono::milliseconds max_wait);
  void drain_ready();
  void finish_writes();
  void snapshot_received(const SnapshotWritten& w);
  void local_written(const Status& status);
  struct LocalOp;
  Status compact_core_then_store(LocalOp& op);
  // install_snapshot, save_snapshot and compact.
  Status submit_local(core::LogIndex new_head, std::optional<std::string> snapshot,
                      core::LogIndex compact_to);

  ReplicatedLogOptions options_;
  std::unique_ptr<storage::LogStore> store_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<core::Raft> raft_;
  // Declared after store_ and transport_: destroyed first, so the storage
  // thread finishes its writes while both still exist.
  std::unique_ptr<server::Persister> persister_;
  LogWriter* writer_;  // persister_, or the one given
  SteadyClock steady_clock_;
  Clock* clock_;
  std::chrono::steady_clock::time_point next_tick_;
  std::deque<Event> events_;
  std::vector<core::Message> inbox_;
  Status error_;
  // The local snapshot and compaction with the writer (one at a time).
  // The store drops entries only once the core no longer reads them (it
  // reads entries it released from memory back from the store): the core
  // learns the new head first (on_log_compacted), then the compaction goes
  // to the writer; after a snapshot, once the snapshot is durable.
  struct LocalOp {
    std::optional<core::SnapshotHead> saved;
    std::optional<std::pair<core::LogIndex, core::Term>> compact;
    bool compact_submitted = false;
  };
  std::optional<LocalOp> local_op_;
  bool installing_remote_ = false;  // a leader's snapshot's last piece is
};

namespace {

// The whole data of the store's snapshot `head`, CRC checked.
Status LoadSnapshotData(const storage::LogStore& store, const core::SnapshotHead& head,
                        std::string* data) {
  Status s = store.snapshot_data(head, 0, head.size, data);
  if (!s.ok()) return s;
  if (data->size() != head.size || storage::Crc32c(data->data(), data->size()) != head.crc) {
    return Status::Corruption("snapshot " + std::to_string(head.index) +
                              ": its data does not match its size and CRC");
  }
  return Status::Ok();
}

}  // namespace

std::chrono::milliseconds ReplicatedLog::Impl::next_wait(std::chrono::milliseconds max_wait) {
  // Work already queued (a proposal made since the last turn) must not wait.
  if (raft_->has_ready()) return std::chrono::milliseconds(0);
  // Rounded up: a wait cut short of the tick would only spin.
  auto until_tick = std::chrono::ceil<std::chrono::milliseconds>(next_tick_ - clock_->now());
  return std::clamp(until_tick, std::chrono::milliseconds(0), max_wait);
}

Status ReplicatedLog::Impl::run_once(std::chrono::milliseconds max_wait) {
  if (!error_.ok()) return error_;
  const auto wait = next_wait(max_wait);

  inbox_.clear();
  Status s = transport_->receive(wait, &inbox_);
  if (!s.ok()) return error_ = s;
  for (const core::Message& m : inbox_) {
    // A message the core refuses (misaddressed) is dropped; the core stays up.
    (void)raft_->step(m);
  }
  finish_writes();

  const auto now = clock_->now();
  int ticks = 0;
  while (now >= next_tick_ && ticks < 1000) {
    raft_->tick();
    next_tick_ += options_.tick_interval;
    ++ticks;
  }
  if (now >= next_tick_) next_tick_ = now + options_.tick_interval;  // far behind: skip ahead

  drain_ready();
  if (!raft_->status().ok()) return error_ = raft_->status();
  return error_;
}

void ReplicatedLog::Impl::finish_writes() {
  std::vector<LogWriteDone> done;
  writer_->take_done(&done);
  for (LogWriteDone& d : done) {
    if (!d.status.ok()) {
      // Nothing that depended on this write may go out: stop the node.
      if (error_.ok()) error_ = d.status;
      return;
    }
    for (const core::Message& m : d.after_persist) transport_->send(m);
    if (d.last_entry) raft_->on_persisted(d.last_entry->first, d.last_entry->second);
    if (d.received) snapshot_received(*d.received);
    if (d.local) local_written(*d.local);
  }
}

void ReplicatedLog::Impl::local_written(const Status& status) {
  LocalOp op = local_op_.value_or(LocalOp{});
  local_op_.reset();
  // The head and the data were checked when the write was submitted: only
  // a bug makes the store refuse them. Stop rather than go on half-done.
  Status s = status;
  if (s.ok() && op.compact && !op.compact_submitted && !installing_remote_) {
    // The snapshot is durable: now the compaction (install_snapshot). Not
    // while a leader's snapshot is being installed: it is past this one
    // (above the commit index) and replaces the log, which the core must
    // not read meanwhile, and a compaction behind it would be refused.
    s = compact_core_then_store(op);
    if (s.ok()) return;
  }
  if (!s.ok()) {
    if (error_.ok()) error_ = s;
    return;
  }
  if (op.saved) events_.emplace_back(SnapshotInstalled{*op.saved});
}

Status ReplicatedLog::Impl::compact_core_then_store(LocalOp& op) {
  Status s = raft_->on_log_compacted(op.compact->first, op.compact->second);
  if (!s.ok()) return s;
  LogWrite w;
  w.sync = true;
  w.compact_to = op.compact;
  op.compact_submitted = true;
  local_op_ = op;
  writer_->submit(std::move(w));
  return Status::Ok();
}

void ReplicatedLog::Impl::snapshot_received(const SnapshotWritten& w) {
  installing_remote_ = false;
  if (!w.status.ok()) {
    // Damaged in transit, or a piece that did not fit: the leader starts over.
    raft_->on_snapshot_failed(w.head);
    return;
  }
  std::string data;
  Status s = LoadSnapshotData(*store_, w.head, &data);
  if (!s.ok()) {
    if (error_.ok()) error_ = s;
    return;
  }
  raft_->on_snapshot_installed(w.head);
  events_.emplace_back(SnapshotLoaded{w.head, std::move(data)});
}

void ReplicatedLog::Impl::drain_ready() {
  // A few Readies per turn: replaying a long log after a restart must not
  // queue all of it as events at once (the next turn does not wait).
  for (int i = 0; i < 4 && error_.ok() && raft_->has_ready(); ++i) {
    core::Ready ready = raft_->take_ready();
    for (const core::Message& m : ready.messages) transport_->send(m);
    if (ready.hard_state || !ready.entries.empty() || !ready.messages_after_persist.empty() ||
        !ready.snapshot_chunks.empty()) {
      LogWrite w;
      w.hard_state = ready.hard_state;
      w.entries = std::move(ready.entries);
      w.after_persist = std::move(ready.messages_after_persist);
      w.sync = ready.must_sync;
      w.snapshot_chunks = std::move(ready.snapshot_chunks);
      if (!w.snapshot_chunks.empty() && w.snapshot_chunks.back().done) installing_remote_ = true;
      writer_->submit(std::move(w));
    }
    for (core::Event& e : ready.events) {
      if (const auto* c = std::get_if<core::ConfigChanged>(&e);
          c != nullptr && c->aborted.empty()) {
        transport_->set_members(c->config);
      }
      std::visit([&](auto& ev) { events_.emplace_back(std::move(ev)); }, e);
    }
    for (core::ReadState& rs : ready.read_states) events_.emplace_back(rs);
    for (core::Entry& e : ready.committed) {
      core::LogIndex index = e.index;
      events_.emplace_back(Committed{index, std::move(e)});
    }
  }
}

// ---------------------------------------------------------------------------

Status ReplicatedLog::Open(const ReplicatedLogOptions& options,
                           std::unique_ptr<storage::LogStore> store,
                           std::unique_ptr<Transport> transport,
                           std::unique_ptr<ReplicatedLog>* out) {
  if (!store || !transport)
    return Status::InvalidInput("ReplicatedLog needs a store and a transport");
  if (options.tick_interval.count() <= 0) return Status::InvalidInput("tick_interval must be > 0");
  Status s = options.core.validate();
  if (!s.ok()) return s;
  if (options.members.voters.empty() && !options.join) {
    return Status::InvalidInput("no cluster members given (a node that joins a cluster sets join)");
  }
  core::HardState hs;
  s = store->load_hard_state(&hs);
  if (!s.ok()) return s;
  // The snapshot the store holds is where this node's state starts.
  std::optional<SnapshotLoaded> loaded;
  storage::SnapshotMeta meta;
  s = store->load_snapshot(&meta);
  if (s.ok()) {
    // The log may go on below the snapshot: save_snapshot keeps it (a
    // retained tail), and a crash between install_snapshot's save and its
    // compaction leaves it too. Either way it is the application's to
    // compact, not the start's.
    loaded.emplace();
    loaded->head = meta.head();
    s = LoadSnapshotData(*store, loaded->head, &loaded->snapshot);
  } else if (s.code() == Status::Code::kNotFound) {
    s = Status::Ok();
  }
  if (!s.ok()) return s;
  auto impl = std::make_unique<Impl>(options, std::move(store), std::move(transport), hs,
                                     loaded ? loaded->head.index : 0);
  s = impl->raft_->status();
  if (!s.ok()) return s;
  impl->transport_->set_members(impl->raft_->cluster_config());
  if (loaded) impl->events_.emplace_front(std::move(*loaded));
  out->reset(new ReplicatedLog(std::move(impl)));
  return Status::Ok();
}

ReplicatedLog::ReplicatedLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReplicatedLog::~ReplicatedLog() = default;

Status ReplicatedLog::run_once(std::chrono::milliseconds max_wait) {
  return impl_->run_once(max_wait);
}

std::chrono::milliseconds ReplicatedLog::next_wait(std::chrono::milliseconds max_wait) const {
  return impl_->next_wait(max_wait);
}

bool ReplicatedLog::next_event(Event* event) {
  if (impl_->events_.empty()) return false;
  *event = std::move(impl_->events_.front());
  impl_->events_.pop_front();
  return true;
}

Status ReplicatedLog::propose_command(std::string command, core::ProposalId* id) {
  if (!impl_->error_.ok()) return impl_->error_;
  if (command.size() > impl_->options_.max_command_bytes) {
    return Status::InvalidInput(
        "a command of " + std::to_string(command.size()) + " bytes is over the limit of " +
        std::to_string(impl_->options_.max_command_bytes) + "; no node could take it");
  }
  return impl_->raft_->propose_command(std::move(command), id);
}

Status ReplicatedLog::propose_config(const std::vector<core::NodeId>& voters,
                                     const std::vector<core::NodeId>& learners,
                                     core::ProposalId* id) {
  core::ClusterConfig target;
  target.voters = voters;
  target.learners = learners;
  target.context = impl_->raft_->cluster_config().context;
  return propose_config(target, id);
}

Status ReplicatedLog::propose_config(const core::ClusterConfig& target, core::ProposalId* id) {
  if (!impl_->error_.ok()) return impl_->error_;
  return impl_->raft_->propose_config(target, id);
}

core::ConfigChange ReplicatedLog::config_change() const {
  return impl_->raft_->config_change();
}

Status ReplicatedLog::transfer_leadership(core::NodeId target) {
  if (!impl_->error_.ok()) return impl_->error_;
  return impl_->raft_->transfer_leadership(target);
}

core::NodeId ReplicatedLog::transfer_target() const {
  return impl_->raft_->transfer_target();
}

Status ReplicatedLog::read_index(uint64_t ctx) {
  if (!impl_->error_.ok()) return impl_->error_;
  return impl_->raft_->read_index(ctx);
}

Status ReplicatedLog::heartbeat(uint64_t* seq) {
  return impl_->raft_->heartbeat(seq);
}
uint64_t ReplicatedLog::last_heartbeat_ack() const {
  return impl_->raft_->last_heartbeat_ack();
}

Status ReplicatedLog::Impl::submit_local(core::LogIndex new_head,
                                         std::optional<std::string> snapshot,
                                         core::LogIndex compact_to) {
  if (!error_.ok()) return error_;
  if (local_op_ || installing_remote_) {
    return Status::Busy("a snapshot is being installed; try again once it is");
  }
  const core::LogIndex head = store_->head_index();
  const core::LogIndex applied = raft_->applied_index();
  const std::string what =
      (snapshot ? "snapshot at " : "compaction to ") + std::to_string(new_head);
  if (new_head <= head) {
    return Status::InvalidInput(what + ": not above the log head " + std::to_string(head));
  }
  if (new_head > applied) {
    return Status::InvalidInput(what + ": above the applied index " + std::to_string(applied));
  }
  if (!snapshot) {
    // Only entries a snapshot covers may go.
    storage::SnapshotMeta meta;
    Status s = store_->load_snapshot(&meta);
    if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
    const core::LogIndex covered = s.ok() ? meta.last_index : 0;
    if (new_head > covered) {
      return Status::InvalidInput(what + ": beyond the snapshot at " + std::to_string(covered) +
                                  "; only entries a snapshot covers may go");
    }
  }
  std::vector<core::Entry> at;
  Status s = raft_->entries(new_head, new_head + 1, 0, &at);
  if (!s.ok()) return s;
  const core::Term term = at.front().term;
  LogWrite w;
  LocalOp op;
  if (snapshot) {
    const std::string& data = *snapshot;
    const uint32_t crc = storage::Crc32c(data.data(), data.size());
    // The configuration in force as of new_head, not today's: a follower
    // that installs it and then the log after it must meet each change
    // where it happened.
    op.saved = core::SnapshotHead{new_head, term, raft_->config_at(new_head), data.size(), crc};
    w.local_snapshot = LocalSnapshot{*op.saved, std::move(*snapshot)};
  }
  if (compact_to > 0) {
    if (compact_to != new_head) {
      at.clear();
      s = raft_->entries(compact_to, compact_to + 1, 0, &at);
      if (!s.ok()) return s;
    }
    op.compact = std::make_pair(compact_to, at.front().term);
  }
  // A compaction alone: the store's snapshot covers it, durable already.
  if (!snapshot) return compact_core_then_store(op);
  writer_->submit(std::move(w));
  local_op_ = op;
  return Status::Ok();
}

Status ReplicatedLog::install_snapshot(core::LogIndex new_head, std::string snapshot) {
  return impl_->submit_local(new_head, std::move(snapshot), new_head);
}

Status ReplicatedLog::save_snapshot(core::LogIndex new_head, std::string snapshot) {
  return impl_->submit_local(new_head, std::move(snapshot), 0);
}

Status ReplicatedLog::compact(core::LogIndex new_head) {
  return impl_->submit_local(new_head, std::nullopt, new_head);
}

Status ReplicatedLog::last_snapshot(core::SnapshotHead* head) const {
  return impl_->store_->snapshot(head);
}

bool ReplicatedLog::is_snapshot_installing() const {
  return impl_->local_op_.has_value() || impl_->installing_remote_;
}

Status ReplicatedLog::start_election() {
  if (!impl_->error_.ok()) return impl_->error_;
  core::Raft& r = *impl_->raft_;
  // A live leader is not deposed by an election (check-quorum): it is
  // asked to hand over instead.
  if (r.role() == core::Role::kFollower && r.leader() != core::kNoNode) {
    return r.transfer_leadership(r.id());
  }
  return r.start_election();
}

LocalNode ReplicatedLog::local_node() const {
  const core::Raft& r = *impl_->raft_;
  return LocalNode{r.id(), r.role(), core::Ballot{r.term(), r.voted_for()}, r.leader()};
}

LocalHistory ReplicatedLog::local_history() const {
  const core::Raft& r = *impl_->raft_;
  return LocalHistory{impl_->store_->head_index(), r.last_index(), r.persisted_index(),
                      r.commit_index(), r.applied_index()};
}

const core::ClusterConfig& ReplicatedLog::cluster_config() const {
  return impl_->raft_->cluster_config();
}
std::vector<core::PeerProgress> ReplicatedLog::progress() const {
  return impl_->raft_->progress();
}
Status ReplicatedLog::entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                              std::vector<core::Entry>* out) const {
  return impl_->raft_->entries(lo, hi, max_bytes, out);
}
Status ReplicatedLog::status() const {
  return impl_->error_;
}
Status ReplicatedLog::committed_entries(core::LogIndex lo, core::LogIndex hi, size_t max_bytes,
                                        std::vector<core::Entry>* out) const {
  const LocalHistory h = local_history();
  hi = std::min(hi, std::min(h.committed, h.persisted) + 1);
  if (lo >= hi) return Status::Ok();
  return impl_->store_->entries(lo, hi, max_bytes, out);
}

}  // namespace raftlog
