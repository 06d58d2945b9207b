#include "storage/coding.h"

#include <cstring>

#include "storage/crc32c.h"
#include "storage/log_rules.h"

namespace raftlog::storage {
namespace {

// Version 2 added a configuration's context; version 1 records (no
// context) are still read.
constexpr uint8_t kFormatVersion = 2;
constexpr uint8_t kOldestVersion = 1;
constexpr size_t kHeaderSize = 5;  // crc32c + version

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutIds(std::string* out, const std::vector<core::NodeId>& ids) {
  PutVarint(out, ids.size());
  for (core::NodeId id : ids) PutVarint(out, id);
}

void PutConfig(std::string* out, const core::ClusterConfig& c) {
  PutIds(out, c.voters);
  PutIds(out, c.voters_outgoing);
  PutIds(out, c.learners);
  PutVarint(out, c.context.size());
  out->append(c.context);
}

// Starts a record at the end of *out: room for the CRC, then the version.
// Returns where it starts, for Seal.
size_t Begin(std::string* out) {
  const size_t start = out->size();
  out->append(4, '\0');
  out->push_back(static_cast<char>(kFormatVersion));
  return start;
}

// Ends the record that starts at start: the CRC over everything after it.
void Seal(std::string* out, size_t start) {
  uint32_t crc = Crc32c(out->data() + start + 4, out->size() - start - 4);
  for (int i = 0; i < 4; ++i) (*out)[start + i] = static_cast<char>(crc >> (8 * i));
}

// Reads a body; any read past the end or malformed varint makes ok false.
class Reader {
 public:
  explicit Reader(std::string_view in, uint8_t version = kFormatVersion)
      : in_(in), version_(version) {}
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) break;
      auto byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= uint64_t{byte & 0x7Fu} << shift;
      if (!(byte & 0x80)) return v;
    }
    ok_ = false;
    return 0;
  }
  uint8_t byte() {
    if (in_.empty()) {
      ok_ = false;
      return 0;
    }
    auto b = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return b;
  }
  std::string_view bytes(uint64_t n) {
    if (n > in_.size()) {
      ok_ = false;
      return {};
    }
    std::string_view b = in_.substr(0, n);
    in_.remove_prefix(n);
    return b;
  }
  void ids(std::vector<core::NodeId>* out) {
    uint64_t n = varint();
    if (n > in_.size()) ok_ = false;  // each id takes at least a byte
    for (uint64_t i = 0; ok_ && i < n; ++i) out->push_back(varint());
  }
  void config(core::ClusterConfig* c) {
    ids(&c->voters);
    ids(&c->voters_outgoing);
    ids(&c->learners);
    if (version_ >= 2) c->context = std::string(bytes(varint()));
  }

 private:
  std::string_view in_;
  uint8_t version_;
  bool ok_ = true;
};

// Checks header and CRC; *body is what follows.
Status Open(std::string_view record, const std::string& what, std::string_view* body) {
  if (record.size() < kHeaderSize) return Status::Corruption(what + ": record truncated");
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= uint32_t{static_cast<uint8_t>(record[i])} << (8 * i);
  if (Crc32c(record.data() + 4, record.size() - 4) != stored) {
    return Status::Corruption(what + ": checksum mismatch");
  }
  if (const auto v = static_cast<uint8_t>(record[4]); v < kOldestVersion || v > kFormatVersion) {
    return Status::Corruption(what + ": unknown format version " +
                              std::to_string(static_cast<uint8_t>(record[4])));
  }
  *body = record.substr(kHeaderSize);
  return Status::Ok();
}

Status Finish(const Reader& r, const std::string& what) {
  if (!r.ok() || !r.done()) return Status::Corruption(what + ": malformed record");
  return Status::Ok();
}

}  // namespace

std::string EntryKey(core::LogIndex index) {
  std::string key(kEntryKeySize, kEntryPrefix);
  for (int i = 0; i < 8; ++i) key[1 + i] = static_cast<char>(index >> (8 * (7 - i)));
  return key;
}

std::string ConfigKey(core::LogIndex index) {
  std::string key = EntryKey(index);
  key[0] = kConfigPrefix;
  return key;
}

bool ParseConfigKey(std::string_view key, core::LogIndex* index) {
  if (key.size() != kEntryKeySize || key[0] != kConfigPrefix) return false;
  core::LogIndex v = 0;
  for (size_t i = 1; i < kEntryKeySize; ++i) v = (v << 8) | static_cast<uint8_t>(key[i]);
  *index = v;
  return true;
}

bool ParseEntryKey(std::string_view key, core::LogIndex* index) {
  if (key.size() != kEntryKeySize || key[0] != kEntryPrefix) return false;
  core::LogIndex v = 0;
  for (size_t i = 1; i < kEntryKeySize; ++i) v = (v << 8) | static_cast<uint8_t>(key[i]);
  *index = v;
  return true;
}

void EncodeEntry(const core::Entry& e, std::string* out) {
  out->clear();
  AppendEntryRecord(e, out);
}

void AppendEntryRecord(const core::Entry& e, std::string* out) {
  const size_t start = Begin(out);
  PutVarint(out, e.index);
  PutVarint(out, e.term);
  out->push_back(static_cast<char>(e.type));
  PutVarint(out, e.data.size());
  out->append(e.data);
  PutConfig(out, e.config);
  Seal(out, start);
}

Status NextEntryRecord(std::string_view* run, core::LogIndex key_index, std::string_view* record,
                       core::LogIndex* index) {
  // The body's own structure says where it ends: index, term, type, the
  // payload with its length, three id lists with their counts (and, from
  // version 2 on, the configuration's context with its length).
  if (run->size() < kHeaderSize) {
    return Status::Corruption("entries through " + std::to_string(key_index) +
                              ": record truncated");
  }
  Reader r(run->substr(kHeaderSize), static_cast<uint8_t>((*run)[4]));
  *index = r.varint();
  r.varint();
  r.byte();
  r.bytes(r.varint());
  core::ClusterConfig config;
  r.config(&config);
  if (!r.ok()) {
    return Status::Corruption("entries through " + std::to_string(key_index) +
                              ": malformed record");
  }
  const size_t size = run->size() - r.remaining();
  *record = run->substr(0, size);
  run->remove_prefix(size);
  return Status::Ok();
}

void EncodeHardState(const core::HardState& hs, std::string* out) {
  out->clear();
  const size_t start = Begin(out);
  PutVarint(out, hs.term);
  PutVarint(out, hs.voted_for);
  PutVarint(out, hs.commit);
  Seal(out, start);
}

void EncodeLogMeta(const LogMeta& meta, std::string* out) {
  out->clear();
  const size_t start = Begin(out);
  PutVarint(out, meta.head_index);
  PutVarint(out, meta.head_term);
  Seal(out, start);
}

void EncodeSnapshotMeta(const SnapshotMeta& meta, std::string* out) {
  out->clear();
  const size_t start = Begin(out);
  PutVarint(out, meta.last_index);
  PutVarint(out, meta.last_term);
  PutConfig(out, meta.config);
  PutVarint(out, meta.size);
  PutVarint(out, meta.crc);
  Seal(out, start);
}

Status DecodeEntry(std::string_view record, core::LogIndex key_index, core::Entry* e) {
  const std::string what = EntryContext(key_index);
  std::string_view body;
  Status s = Open(record, what, &body);
  if (!s.ok()) return s;
  Reader r(body, static_cast<uint8_t>(record[4]));
  core::Entry out;
  out.index = r.varint();
  out.term = r.varint();
  uint8_t type = r.byte();
  out.data = r.bytes(r.varint());
  r.config(&out.config);
  s = Finish(r, what);
  if (!s.ok()) return s;
  if (type > static_cast<uint8_t>(core::EntryType::kCommand)) {
    return Status::Corruption(what + ": unknown entry type " + std::to_string(type));
  }
  out.type = static_cast<core::EntryType>(type);
  if (out.index != key_index) {
    return Status::Corruption(what + ": record holds entry " + std::to_string(out.index));
  }
  *e = std::move(out);
  return Status::Ok();
}

Status DecodeHardState(std::string_view record, core::HardState* hs) {
  std::string_view body;
  Status s = Open(record, "hard state", &body);
  if (!s.ok()) return s;
  Reader r(body, static_cast<uint8_t>(record[4]));
  core::HardState out;
  out.term = r.varint();
  out.voted_for = r.varint();
  out.commit = r.varint();
  s = Finish(r, "hard state");
  if (s.ok()) *hs = out;
  return s;
}

Status DecodeLogMeta(std::string_view record, LogMeta* meta) {
  std::string_view body;
  Status s = Open(record, "log metadata", &body);
  if (!s.ok()) return s;
  Reader r(body, static_cast<uint8_t>(record[4]));
  LogMeta out;
  out.head_index = r.varint();
  out.head_term = r.varint();
  s = Finish(r, "log metadata");
  if (s.ok()) *meta = out;
  return s;
}

Status DecodeSnapshotMeta(std::string_view record, SnapshotMeta* meta) {
  std::string_view body;
  Status s = Open(record, "snapshot metadata", &body);
  if (!s.ok()) return s;
  Reader r(body, static_cast<uint8_t>(record[4]));
  SnapshotMeta out;
  out.last_index = r.varint();
  out.last_term = r.varint();
  r.config(&out.config);
  out.size = r.varint();
  const uint64_t crc = r.varint();
  out.crc = static_cast<uint32_t>(crc);
  s = Finish(r, "snapshot metadata");
  if (s.ok() && crc > UINT32_MAX) s = Status::Corruption("snapshot metadata: CRC out of range");
  if (s.ok()) *meta = std::move(out);
  return s;
}

}  // namespace raftlog::storage
