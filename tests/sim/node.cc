#include "node.h"

#include <cstring>

#include "storage/crc32c.h"

namespace raftlog::sim {
namespace {

void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

void AppState::apply(const core::Entry& e) {
  const uint64_t h = EntryHash(e);
  hashes_.push_back(h);
  digest_ = ChainHashOf(digest_, h);
}

std::string AppState::encode(core::LogIndex index, core::Term term, uint64_t* digest) const {
  // index, term, then each entry's hash.
  std::string out;
  out.reserve(16 + 8 * index);
  PutU64(&out, index);
  PutU64(&out, term);
  uint64_t d = 0;
  for (core::LogIndex i = 0; i < index; ++i) {
    PutU64(&out, hashes_[i]);
    d = ChainHashOf(d, hashes_[i]);
  }
  *digest = d;
  return out;
}

bool AppState::Decode(const std::string& data, AppState* out, core::Term* term) {
  if (data.size() < 16) return false;
  const uint64_t index = GetU64(data.data());
  if ((data.size() - 16) / 8 != index || (data.size() - 16) % 8 != 0) return false;
  *term = GetU64(data.data() + 8);
  AppState s;
  s.hashes_.reserve(index);
  for (uint64_t i = 0; i < index; ++i) {
    const uint64_t h = GetU64(data.data() + 16 + 8 * i);
    s.hashes_.push_back(h);
    s.digest_ = ChainHashOf(s.digest_, h);
  }
  *out = std::move(s);
  return true;
}

bool Node::has_unpersisted_state() const {
  for (const PendingWrite& w : pending_) {
    if (w.touches_disk()) return true;
  }
  return false;
}

bool Node::stored_state(AppState* state, core::Term* term) const {
  if (storage_.snapshot_head().index == 0) {
    *state = AppState();
    *term = 0;
    return true;
  }
  return AppState::Decode(storage_.snapshot_state(), state, term);
}

void Node::start(uint64_t random_seed) {
  core::Config config = base_;
  config.id = id_;
  config.applied = 0;
  config.random_seed = random_seed;
  raft_ = std::make_unique<core::Raft>(config, &storage_, storage_.hard_state(), members_);
  written_hard_state_ = storage_.hard_state();
  core::Term term = 0;
  if (!stored_state(&app_, &term)) app_ = AppState();  // the checker saw it when it was stored
}

Status Node::take_snapshot(core::LogIndex index, core::SnapshotHead* head) {
  head->index = index;
  head->term = log_.term_at(index);
  head->config = raft_->config_at(index);
  uint64_t digest = 0;
  std::string data = app_.encode(index, head->term, &digest);
  head->size = data.size();
  head->crc = storage::Crc32c(data.data(), data.size());
  // Saved and compacted as one durable step, then the core is told.
  storage_.compact(*head, std::move(data));
  log_.compact(index);
  return raft_->on_log_compacted(head->index, head->term);
}

void Node::install_log(const core::SnapshotHead& head, uint64_t digest) {
  log_.reset(head.index, head.term, digest, {});
}

core::LogIndex Node::crash(bool lose_unsynced) {
  raft_.reset();
  ++incarnation_;
  pending_.clear();
  storage_.crash(lose_unsynced);
  AppState state;
  core::Term term = 0;
  (void)stored_state(&state, &term);
  LogView durable;
  durable.reset(storage_.head_index(), storage_.head_term(), state.digest(), storage_.log());
  const core::LogIndex changed = FirstDifference(log_, durable);
  log_ = std::move(durable);
  written_hard_state_ = storage_.hard_state();
  app_ = AppState();
  return changed;
}

PendingWrite Node::persist_front() {
  PendingWrite w = std::move(pending_.front());
  pending_.pop_front();
  storage_.write(w.hard_state, w.entries, w.must_sync || !w.entries.empty());
  for (const core::SnapshotChunk& c : w.snapshot_chunks) {
    switch (storage_.receive(c)) {
      case SimStorage::Received::kMore:
        break;
      case SimStorage::Received::kInstalled:
        w.installed = c.snapshot;
        break;
      case SimStorage::Received::kFailed:
        w.failed = c.snapshot;
        break;
    }
  }
  return w;
}

}  // namespace raftlog::sim
