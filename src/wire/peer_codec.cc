// Peer messages: [version, type, term, from, to, body fields...], see
// docs/protocol.md. Encoding packs straight into the output string; decoding
// parses with msgpack-c under limits, then checks every element's type.

#include "raftlog/wire/peer_codec.h"

#include <algorithm>
#include <iterator>
#include <variant>

#include "wire/msgpack_util.h"

namespace raftlog::wire {

namespace {

using core::Entry;
using core::EntryType;
using msgpack::object;
using msgpack::type::object_type;

constexpr size_t kHeaderFields = 5;  // version, type, term, from, to
constexpr size_t kNoEntry = SIZE_MAX;
// The deepest a valid frame nests: message, entries, entry, config, id list.
constexpr size_t kPeerDepth = 5;

// Fields after the header, indexed by core::MessageType:
//   1 RequestVote: last_log_index, last_log_term, pre_vote, transfer
//   2 RequestVoteReply: granted, pre_vote
//   3 AppendEntries: prev_log_index, prev_log_term, leader_commit, seq, entries
//   4 AppendEntriesReply: success, match_index, hint_index, hint_term, seq
//   5 InstallSnapshot: snapshot_index, snapshot_term, config, size, crc,
//     offset, data, done, seq
//   6 InstallSnapshotReply: snapshot_index, next_offset, installed,
//     match_index, seq
//   7 TimeoutNow: (none)
//   8 TransferRequest: (none)
//   9 ReadIndexRequest: ctx
//  10 ReadIndexReply: ctx, index, ok
// A config is [voters, voters_outgoing, learners, context]; a decoder
// takes the three lists alone too (an empty context), as sent before
// membership change.
constexpr size_t kBodyFields[] = {0, 4, 2, 5, 5, 9, 5, 0, 0, 1, 3};
static_assert(std::size(kBodyFields) == std::variant_size_v<core::Message::Body> + 1);

size_t BodyFields(core::MessageType type) {
  return kBodyFields[static_cast<size_t>(type)];
}

// ---- encoding ----

void PackConfig(detail::Packer& pk, const core::ClusterConfig& c) {
  pk.pack_array(4);
  for (const auto* ids : {&c.voters, &c.voters_outgoing, &c.learners}) {
    pk.pack_array(static_cast<uint32_t>(ids->size()));
    for (core::NodeId id : *ids) pk.pack_uint64(id);
  }
  pk.pack_bin(static_cast<uint32_t>(c.context.size()));
  pk.pack_bin_body(c.context.data(), static_cast<uint32_t>(c.context.size()));
}

void PackEntry(detail::Packer& pk, const Entry& e) {
  const bool config = e.type == EntryType::kConfig;
  pk.pack_array(config ? 5 : 4);
  pk.pack_uint64(e.index);
  pk.pack_uint64(e.term);
  pk.pack_uint8(static_cast<uint8_t>(e.type));
  pk.pack_bin(static_cast<uint32_t>(e.data.size()));
  pk.pack_bin_body(e.data.data(), static_cast<uint32_t>(e.data.size()));
  if (config) PackConfig(pk, e.config);
}

void PackBody(detail::Packer& pk, const core::RequestVote& b) {
  pk.pack_uint64(b.last_log_index);
  pk.pack_uint64(b.last_log_term);
  pk.pack(b.pre_vote);
  pk.pack(b.transfer);
}

void PackBody(detail::Packer& pk, const core::RequestVoteReply& b) {
  pk.pack(b.granted);
  pk.pack(b.pre_vote);
}

void PackBody(detail::Packer& pk, const core::AppendEntries& b) {
  pk.pack_uint64(b.prev_log_index);
  pk.pack_uint64(b.prev_log_term);
  pk.pack_uint64(b.leader_commit);
  pk.pack_uint64(b.seq);
  pk.pack_array(static_cast<uint32_t>(b.entries.size()));
  for (const Entry& e : b.entries) PackEntry(pk, e);
}

void PackBody(detail::Packer& pk, const core::AppendEntriesReply& b) {
  pk.pack(b.success);
  pk.pack_uint64(b.match_index);
  pk.pack_uint64(b.hint_index);
  pk.pack_uint64(b.hint_term);
  pk.pack_uint64(b.seq);
}

void PackBody(detail::Packer& pk, const core::InstallSnapshot& b) {
  pk.pack_uint64(b.snapshot.index);
  pk.pack_uint64(b.snapshot.term);
  PackConfig(pk, b.snapshot.config);
  pk.pack_uint64(b.snapshot.size);
  pk.pack_uint32(b.snapshot.crc);
  pk.pack_uint64(b.offset);
  pk.pack_bin(static_cast<uint32_t>(b.data.size()));
  pk.pack_bin_body(b.data.data(), static_cast<uint32_t>(b.data.size()));
  pk.pack(b.done);
  pk.pack_uint64(b.seq);
}

void PackBody(detail::Packer& pk, const core::InstallSnapshotReply& b) {
  pk.pack_uint64(b.snapshot_index);
  pk.pack_uint64(b.next_offset);
  pk.pack(b.installed);
  pk.pack_uint64(b.match_index);
  pk.pack_uint64(b.seq);
}

void PackBody(detail::Packer&, const core::TimeoutNow&) {}
void PackBody(detail::Packer&, const core::TransferRequest&) {}

void PackBody(detail::Packer& pk, const core::ReadIndexRequest& b) {
  pk.pack_uint64(b.ctx);
}

void PackBody(detail::Packer& pk, const core::ReadIndexReply& b) {
  pk.pack_uint64(b.ctx);
  pk.pack_uint64(b.index);
  pk.pack(b.ok);
}

// ---- decoding ----

// Where in the frame a check failed; turned into text only on failure, so
// the success path builds no strings.
struct Where {
  core::MessageType type{};
  bool type_known = false;
  size_t entry = kNoEntry;

  Status Fail(const char* field, const std::string& what) const {
    std::string msg = "peer message: ";
    msg += type_known ? core::MessageTypeName(type) : "header";
    if (entry != kNoEntry) msg += " entry " + std::to_string(entry);
    msg += std::string(" field '") + field + "': " + what;
    return Status::Corruption(std::move(msg));
  }
  Status WrongType(const char* field, const char* expected, const object& o) const {
    return Fail(field, std::string("expected ") + expected + ", got " + detail::TypeName(o.type));
  }
};

Status GetUint(const object& o, const Where& w, const char* field, uint64_t* v) {
  if (o.type != object_type::POSITIVE_INTEGER) return w.WrongType(field, "uint", o);
  *v = o.via.u64;
  return Status::Ok();
}

// Node ids are positive; 0 means nobody and is never a sender or receiver.
Status GetNodeId(const object& o, const Where& w, const char* field, core::NodeId* v) {
  Status s = GetUint(o, w, field, v);
  if (s.ok() && *v == core::kNoNode) return w.Fail(field, "node id 0");
  return s;
}

Status GetBool(const object& o, const Where& w, const char* field, bool* v) {
  if (o.type != object_type::BOOLEAN) return w.WrongType(field, "bool", o);
  *v = o.via.boolean;
  return Status::Ok();
}

Status GetArray(const object& o, const Where& w, const char* field, size_t max_size) {
  if (o.type != object_type::ARRAY) return w.WrongType(field, "array", o);
  if (o.via.array.size > max_size) {
    return w.Fail(field, std::to_string(o.via.array.size) + " elements exceed the limit of " +
                             std::to_string(max_size));
  }
  return Status::Ok();
}

Status GetIds(const object& o, const Where& w, const char* field, const DecodeLimits& limits,
              std::vector<core::NodeId>* ids) {
  Status s = GetArray(o, w, field, limits.max_config_nodes);
  if (!s.ok()) return s;
  ids->resize(o.via.array.size);
  for (uint32_t i = 0; i < o.via.array.size && s.ok(); ++i) {
    s = GetNodeId(o.via.array.ptr[i], w, field, &(*ids)[i]);
  }
  return s;
}

Status GetConfig(const object& o, const Where& w, const DecodeLimits& limits,
                 core::ClusterConfig* c) {
  Status s = GetArray(o, w, "config", 4);
  if (!s.ok()) return s;
  if (o.via.array.size != 3 && o.via.array.size != 4) {
    return w.Fail("config", "expected 3 lists and a context, got " +
                                std::to_string(o.via.array.size) + " fields");
  }
  const object* lists = o.via.array.ptr;
  s = GetIds(lists[0], w, "voters", limits, &c->voters);
  if (s.ok()) s = GetIds(lists[1], w, "voters_outgoing", limits, &c->voters_outgoing);
  if (s.ok()) s = GetIds(lists[2], w, "learners", limits, &c->learners);
  if (!s.ok() || o.via.array.size == 3) return s;
  const object& context = lists[3];
  if (context.type != object_type::BIN) return w.WrongType("context", "bin", context);
  c->context.assign(context.via.bin.ptr, context.via.bin.size);
  return s;
}

Status GetEntry(const object& o, const Where& w, const DecodeLimits& limits, Entry* e) {
  if (o.type != object_type::ARRAY) return w.WrongType("entry", "array", o);
  const uint32_t n = o.via.array.size;
  const object* f = o.via.array.ptr;
  if (n < 4) return w.Fail("entry", "expected 4 or 5 fields, got " + std::to_string(n));
  Status s = GetUint(f[0], w, "index", &e->index);
  if (s.ok()) s = GetUint(f[1], w, "term", &e->term);
  uint64_t type = 0;
  if (s.ok()) s = GetUint(f[2], w, "type", &type);
  if (!s.ok()) return s;
  if (type > static_cast<uint64_t>(EntryType::kCommand)) {
    return w.Fail("type", "unknown entry type " + std::to_string(type));
  }
  e->type = static_cast<EntryType>(type);
  const size_t want = e->type == EntryType::kConfig ? 5 : 4;
  if (n != want) {
    return w.Fail("entry", std::string("a ") + core::EntryTypeName(e->type) + " entry has " +
                               std::to_string(want) + " fields, got " + std::to_string(n));
  }
  if (f[3].type != object_type::BIN) return w.WrongType("data", "bin", f[3]);
  // The unpack limit already bounds bin sizes; this names the entry.
  if (f[3].via.bin.size > limits.max_entry_bytes) {
    return w.Fail("data", std::to_string(f[3].via.bin.size) + " bytes exceed the limit of " +
                              std::to_string(limits.max_entry_bytes));
  }
  e->data.assign(f[3].via.bin.ptr, f[3].via.bin.size);
  if (n == 4) return Status::Ok();
  return GetConfig(f[4], w, limits, &e->config);
}

// f points at the body fields, whose count the caller has checked.
Status GetBody(const object* f, const Where& w, const DecodeLimits&, core::RequestVote* b) {
  Status s = GetUint(f[0], w, "last_log_index", &b->last_log_index);
  if (s.ok()) s = GetUint(f[1], w, "last_log_term", &b->last_log_term);
  if (s.ok()) s = GetBool(f[2], w, "pre_vote", &b->pre_vote);
  if (s.ok()) s = GetBool(f[3], w, "transfer", &b->transfer);
  return s;
}

Status GetBody(const object* f, const Where& w, const DecodeLimits&, core::RequestVoteReply* b) {
  Status s = GetBool(f[0], w, "granted", &b->granted);
  if (s.ok()) s = GetBool(f[1], w, "pre_vote", &b->pre_vote);
  return s;
}

Status GetBody(const object* f, const Where& w, const DecodeLimits& limits,
               core::AppendEntries* b) {
  Status s = GetUint(f[0], w, "prev_log_index", &b->prev_log_index);
  if (s.ok()) s = GetUint(f[1], w, "prev_log_term", &b->prev_log_term);
  if (s.ok()) s = GetUint(f[2], w, "leader_commit", &b->leader_commit);
  if (s.ok()) s = GetUint(f[3], w, "seq", &b->seq);
  if (s.ok()) s = GetArray(f[4], w, "entries", limits.max_entries);
  if (!s.ok()) return s;
  const object& entries = f[4];
  b->entries.resize(entries.via.array.size);
  Where at = w;
  for (uint32_t i = 0; i < entries.via.array.size && s.ok(); ++i) {
    at.entry = i;
    s = GetEntry(entries.via.array.ptr[i], at, limits, &b->entries[i]);
  }
  return s;
}

Status GetBody(const object* f, const Where& w, const DecodeLimits&, core::AppendEntriesReply* b) {
  Status s = GetBool(f[0], w, "success", &b->success);
  if (s.ok()) s = GetUint(f[1], w, "match_index", &b->match_index);
  if (s.ok()) s = GetUint(f[2], w, "hint_index", &b->hint_index);
  if (s.ok()) s = GetUint(f[3], w, "hint_term", &b->hint_term);
  if (s.ok()) s = GetUint(f[4], w, "seq", &b->seq);
  return s;
}

Status GetBody(const object* f, const Where& w, const DecodeLimits& limits,
               core::InstallSnapshot* b) {
  Status s = GetUint(f[0], w, "snapshot_index", &b->snapshot.index);
  if (s.ok()) s = GetUint(f[1], w, "snapshot_term", &b->snapshot.term);
  if (s.ok()) s = GetConfig(f[2], w, limits, &b->snapshot.config);
  if (s.ok()) s = GetUint(f[3], w, "size", &b->snapshot.size);
  uint64_t crc = 0;
  if (s.ok()) s = GetUint(f[4], w, "crc", &crc);
  if (s.ok() && crc > UINT32_MAX) s = w.Fail("crc", "more than 32 bits");
  b->snapshot.crc = static_cast<uint32_t>(crc);
  if (s.ok()) s = GetUint(f[5], w, "offset", &b->offset);
  if (!s.ok()) return s;
  if (f[6].type != object_type::BIN) return w.WrongType("data", "bin", f[6]);
  if (f[6].via.bin.size > limits.max_entry_bytes) {
    return w.Fail("data", std::to_string(f[6].via.bin.size) + " bytes exceed the limit of " +
                              std::to_string(limits.max_entry_bytes));
  }
  b->data.assign(f[6].via.bin.ptr, f[6].via.bin.size);
  s = GetBool(f[7], w, "done", &b->done);
  if (s.ok()) s = GetUint(f[8], w, "seq", &b->seq);
  if (s.ok() && (b->offset > b->snapshot.size || b->data.size() > b->snapshot.size - b->offset)) {
    s = w.Fail("data", "past the snapshot's size " + std::to_string(b->snapshot.size));
  }
  return s;
}

Status GetBody(const object* f, const Where& w, const DecodeLimits&,
               core::InstallSnapshotReply* b) {
  Status s = GetUint(f[0], w, "snapshot_index", &b->snapshot_index);
  if (s.ok()) s = GetUint(f[1], w, "next_offset", &b->next_offset);
  if (s.ok()) s = GetBool(f[2], w, "installed", &b->installed);
  if (s.ok()) s = GetUint(f[3], w, "match_index", &b->match_index);
  if (s.ok()) s = GetUint(f[4], w, "seq", &b->seq);
  return s;
}

Status GetBody(const object*, const Where&, const DecodeLimits&, core::TimeoutNow*) {
  return Status::Ok();
}
Status GetBody(const object*, const Where&, const DecodeLimits&, core::TransferRequest*) {
  return Status::Ok();
}

Status GetBody(const object* f, const Where& w, const DecodeLimits&, core::ReadIndexRequest* b) {
  return GetUint(f[0], w, "ctx", &b->ctx);
}

Status GetBody(const object* f, const Where& w, const DecodeLimits&, core::ReadIndexReply* b) {
  Status s = GetUint(f[0], w, "ctx", &b->ctx);
  if (s.ok()) s = GetUint(f[1], w, "index", &b->index);
  if (s.ok()) s = GetBool(f[2], w, "ok", &b->ok);
  return s;
}

msgpack::unpack_limit PeerUnpackLimit(const DecodeLimits& limits) {
  const size_t array = std::max({limits.max_entries, limits.max_config_nodes, size_t{16}});
  // No maps, strs or exts in a peer frame: their limit 0 rejects any but empty ones.
  return msgpack::unpack_limit(array, /*map=*/0, /*str=*/0, limits.max_entry_bytes, /*ext=*/0,
                               kPeerDepth);
}

Status UnsupportedVersion(uint64_t version) {
  return Status::NotSupported("peer message: unsupported version " + std::to_string(version) +
                              " (this node speaks " + std::to_string(kPeerVersion) + ")");
}

}  // namespace

void EncodeMessage(const core::Message& m, std::string* out) {
  if (const auto* ae = std::get_if<core::AppendEntries>(&m.body)) {
    size_t bytes = 64;
    for (const Entry& e : ae->entries) bytes += e.byte_size();
    out->reserve(out->size() + bytes);
  }
  detail::StringSink sink(out);
  detail::Packer pk(sink);
  pk.pack_array(static_cast<uint32_t>(kHeaderFields + BodyFields(m.type())));
  pk.pack_uint64(kPeerVersion);
  pk.pack_uint8(static_cast<uint8_t>(m.type()));
  pk.pack_uint64(m.term);
  pk.pack_uint64(m.from);
  pk.pack_uint64(m.to);
  std::visit([&pk](const auto& body) { PackBody(pk, body); }, m.body);
}

std::string EncodeMessage(const core::Message& m) {
  std::string out;
  EncodeMessage(m, &out);
  return out;
}

Status DecodeMessage(const char* data, size_t size, const DecodeLimits& limits,
                     core::Message* out) {
  if (size > limits.max_frame_bytes) {
    return Status::Corruption("peer message: frame of " + std::to_string(size) +
                              " bytes exceeds the limit of " +
                              std::to_string(limits.max_frame_bytes));
  }
  uint64_t version = 0;
  if (detail::PeekVersion(data, size, &version) && version != kPeerVersion) {
    return UnsupportedVersion(version);
  }
  msgpack::object_handle handle;
  Status s = detail::Unpack(data, size, PeerUnpackLimit(limits), "peer message", &handle);
  if (!s.ok()) return s;

  const object& root = handle.get();
  Where w;
  if (root.type != object_type::ARRAY) return w.WrongType("message", "array", root);
  const uint32_t n = root.via.array.size;
  const object* f = root.via.array.ptr;
  if (n < kHeaderFields) {
    return w.Fail("message", "expected at least " + std::to_string(kHeaderFields) +
                                 " fields, got " + std::to_string(n));
  }
  s = GetUint(f[0], w, "version", &version);
  if (!s.ok()) return s;
  if (version != kPeerVersion) return UnsupportedVersion(version);
  uint64_t type = 0;
  s = GetUint(f[1], w, "type", &type);
  if (!s.ok()) return s;
  if (type < 1 || type > std::variant_size_v<core::Message::Body>) {
    return w.Fail("type", "unknown message type " + std::to_string(type));
  }
  w.type = static_cast<core::MessageType>(type);
  w.type_known = true;
  const size_t want = kHeaderFields + BodyFields(w.type);
  if (n != want) {
    return w.Fail("message",
                  "expected " + std::to_string(want) + " fields, got " + std::to_string(n));
  }
  s = GetUint(f[2], w, "term", &out->term);
  if (s.ok()) s = GetNodeId(f[3], w, "from", &out->from);
  if (s.ok()) s = GetNodeId(f[4], w, "to", &out->to);
  if (!s.ok()) return s;
  switch (w.type) {
    case core::MessageType::kRequestVote:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::RequestVote>());
    case core::MessageType::kRequestVoteReply:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::RequestVoteReply>());
    case core::MessageType::kAppendEntries:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::AppendEntries>());
    case core::MessageType::kAppendEntriesReply:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::AppendEntriesReply>());
    case core::MessageType::kInstallSnapshot:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::InstallSnapshot>());
    case core::MessageType::kInstallSnapshotReply:
      return GetBody(f + kHeaderFields, w, limits,
                     &out->body.emplace<core::InstallSnapshotReply>());
    case core::MessageType::kTimeoutNow:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::TimeoutNow>());
    case core::MessageType::kTransferRequest:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::TransferRequest>());
    case core::MessageType::kReadIndexRequest:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::ReadIndexRequest>());
    case core::MessageType::kReadIndexReply:
      return GetBody(f + kHeaderFields, w, limits, &out->body.emplace<core::ReadIndexReply>());
  }
  return w.Fail("type", "unknown message type " + std::to_string(type));
}

}  // namespace raftlog::wire
