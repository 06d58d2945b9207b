#include "raftlog/wire/event_ops.h"

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/log_ops.h"
#include "wire/msgpack_reader.h"
#include "wire/msgpack_util.h"

namespace raftlog::wire {

namespace {

using detail::Packer;
using detail::Reader;
using detail::StringSink;

void PackStr(Packer& pk, std::string_view v) {
  pk.pack_str(static_cast<uint32_t>(v.size()));
  pk.pack_str_body(v.data(), static_cast<uint32_t>(v.size()));
}

void PackBin(Packer& pk, std::string_view v) {
  pk.pack_bin(static_cast<uint32_t>(v.size()));
  pk.pack_bin_body(v.data(), static_cast<uint32_t>(v.size()));
}

// A bin (or lenient str) payload within the limit for its type.
bool ReadPayload(Reader& r, const DecodeLimits& limits, std::string_view* v) {
  return r.payload(v, limits.max_string_bytes, limits.max_entry_bytes);
}

bool ReadStr(Reader& r, const DecodeLimits& limits, std::string_view* v) {
  return r.str(v, limits.max_string_bytes);
}

// The client envelope's first three elements: [version, request_id, word]
// (word: the op of a request, the code of a reply); the map follows.
void PackHead(Packer& pk, uint64_t request_id, std::string_view word) {
  pk.pack_array(4);
  pk.pack_uint64(kClientVersion);
  pk.pack_uint64(request_id);
  PackStr(pk, word);
}

bool ReadHead(Reader& r, uint64_t* request_id, std::string_view* word) {
  uint32_t n = 0;
  uint64_t version = 0;
  return r.array(&n) && n == 4 && r.uint(&version) && version == kClientVersion &&
         r.uint(request_id) && r.str(word);
}

// push's reply body, with or without `duplicate` (append's).
void PackPushResult(Packer& pk, const PushResult& result, bool with_duplicate) {
  pk.pack_map(with_duplicate ? 3 : 2);
  PackStr(pk, "index");
  pk.pack_uint64(result.index);
  PackStr(pk, "term");
  pk.pack_uint64(result.term);
  if (with_duplicate) {
    PackStr(pk, "duplicate");
    pk.pack(result.duplicate);
  }
}

// A push reply body: each key once, no other key, index and term required.
bool ReadPushResult(Reader& r, PushResult* out) {
  *out = PushResult();
  uint32_t keys = 0;
  if (!r.map(&keys)) return false;
  bool index = false, term = false, duplicate = false;
  for (uint32_t i = 0; i < keys; ++i) {
    std::string_view key;
    if (!r.str(&key)) return false;
    bool read = false;
    if (key == "index" && !index) {
      read = index = r.uint(&out->index);
    } else if (key == "term" && !term) {
      read = term = r.uint(&out->term);
    } else if (key == "duplicate" && !duplicate) {
      read = duplicate = r.boolean(&out->duplicate);
    }
    if (!read) return false;
  }
  return index && term;
}

bool ValidProducer(std::string_view producer) {
  return !producer.empty() && producer.size() <= kMaxProducerBytes;
}

// push's seq rule: a seq >= 1 with a producer, none without.
bool ValidSeq(bool producer, bool has_seq, uint64_t seq) {
  return producer ? has_seq && seq >= 1 : !has_seq;
}

// A frame a view decoder refused: the tree decoder's error says what is
// wrong. (The two accept the same frames; tests/wire holds them to it.)
Status Refused(const Status& tree, const char* what) {
  if (!tree.ok()) return tree;
  return Status::Corruption(std::string(what) + ": accepted by the tree decoder only");
}

msgpack::unpack_limit Limit(const DecodeLimits& l) {
  // Flat arrays of scalars: no maps, depth 1.
  return msgpack::unpack_limit(16, 0, l.max_string_bytes, l.max_entry_bytes, 0, 2);
}

// Reads a fixed-shape array of scalars, checking each element's type.
class Row {
 public:
  Row(const msgpack::object& o, size_t n, std::string what) : what_(std::move(what)) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != n) {
      status_ = Status::Corruption(what_ + ": expected an array of " + std::to_string(n));
    } else {
      items_ = o.via.array.ptr;
    }
  }
  uint64_t Uint(size_t i, const char* name) {
    if (!Check(i, msgpack::type::POSITIVE_INTEGER, name)) return 0;
    return items_[i].via.u64;
  }
  std::string Str(size_t i, const char* name, msgpack::type::object_type type) {
    if (!Check(i, type, name)) return {};
    return std::string(items_[i].via.str.ptr, items_[i].via.str.size);
  }
  std::string Bytes(size_t i, const char* name) {
    // bin is the format; str is accepted for payloads written by lenient clients.
    if (ok() && items_[i].type == msgpack::type::STR) return Str(i, name, msgpack::type::STR);
    return Str(i, name, msgpack::type::BIN);
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  bool Check(size_t i, msgpack::type::object_type type, const char* name) {
    if (!ok()) return false;
    // Non-negative integers are POSITIVE_INTEGER whatever width they were packed in.
    if (items_[i].type != type) {
      status_ =
          Status::Corruption(what_ + " field '" + name + "': expected " + detail::TypeName(type) +
                             ", got " + detail::TypeName(items_[i].type));
      return false;
    }
    return true;
  }
  std::string what_;
  const msgpack::object* items_ = nullptr;
  Status status_;
};

Status Parse(const char* data, size_t size, const DecodeLimits& limits, const char* what,
             msgpack::object_handle* handle) {
  if (size > limits.max_frame_bytes) {
    return Status::Corruption(std::string(what) + ": " + std::to_string(size) +
                              " bytes is over the frame limit");
  }
  return detail::Unpack(data, size, Limit(limits), what, handle);
}

}  // namespace

Status CheckTopic(std::string_view topic) {
  if (topic.empty() || topic.size() > kMaxTopicBytes) {
    return Status::InvalidInput("topic must be 1.." + std::to_string(kMaxTopicBytes) + " bytes");
  }
  if (topic.starts_with(kReservedTopicPrefix)) {
    return Status::InvalidInput(std::string("topics starting with '") + kReservedTopicPrefix +
                                "' are reserved");
  }
  return Status::Ok();
}

Status CheckPayloadSize(size_t size, const DecodeLimits& limits) {
  if (size <= limits.max_payload_bytes) return Status::Ok();
  return Status::InvalidInput("payload of " + std::to_string(size) +
                              " bytes is over the limit of " +
                              std::to_string(limits.max_payload_bytes) + " bytes");
}

void EncodeEventRecord(const EventRecordView& r, std::string* out) {
  out->reserve(out->size() + r.topic.size() + r.producer.size() + r.payload.size() + 40);
  StringSink sink(out);
  Packer pk(sink);
  pk.pack_array(6);
  pk.pack_uint64(kEventRecordVersion);
  PackStr(pk, r.topic);
  PackStr(pk, r.producer);
  pk.pack_uint64(r.seq);
  pk.pack_uint64(r.timestamp_ms);
  PackBin(pk, r.payload);
}

void EncodeEventRecord(const EventRecord& r, std::string* out) {
  EncodeEventRecord(EventRecordView{r.topic, r.producer, r.seq, r.timestamp_ms, r.payload}, out);
}

// Through a msgpack object tree: slow, and its errors say what is wrong.
Status DecodeEventRecordTree(const char* data, size_t size, const DecodeLimits& limits,
                             EventRecord* out) {
  uint64_t version = 0;
  if (detail::PeekVersion(data, size, &version) && version != kEventRecordVersion) {
    return Status::NotSupported("event record: unsupported version " + std::to_string(version));
  }
  msgpack::object_handle h;
  Status s = Parse(data, size, limits, "event record", &h);
  if (!s.ok()) return s;
  Row row(h.get(), 6, "event record");
  // PeekVersion reads only an unsigned version; one packed as a signed int
  // is checked here.
  version = row.Uint(0, "version");
  if (row.ok() && version != kEventRecordVersion) {
    return Status::NotSupported("event record: unsupported version " + std::to_string(version));
  }
  out->topic = row.Str(1, "topic", msgpack::type::STR);
  out->producer = row.Str(2, "producer", msgpack::type::STR);
  out->seq = row.Uint(3, "seq");
  out->timestamp_ms = row.Uint(4, "timestamp");
  out->payload = row.Bytes(5, "payload");
  return row.status();
}

Status DecodeEventRecord(const char* data, size_t size, const DecodeLimits& limits,
                         EventRecordView* out) {
  Reader r(data, size);
  uint32_t n = 0;
  uint64_t version = 0;
  if (size <= limits.max_frame_bytes && r.array(&n) && n == 6 && r.uint(&version) &&
      version == kEventRecordVersion && ReadStr(r, limits, &out->topic) &&
      ReadStr(r, limits, &out->producer) && r.uint(&out->seq) && r.uint(&out->timestamp_ms) &&
      ReadPayload(r, limits, &out->payload) && r.at_end()) {
    return Status::Ok();
  }
  EventRecord record;
  return Refused(DecodeEventRecordTree(data, size, limits, &record), "event record");
}

Status DecodeEventRecord(const char* data, size_t size, const DecodeLimits& limits,
                         EventRecord* out) {
  EventRecordView v;
  Status s = DecodeEventRecord(data, size, limits, &v);
  if (!s.ok()) return s;
  out->topic.assign(v.topic);
  out->producer.assign(v.producer);
  out->seq = v.seq;
  out->timestamp_ms = v.timestamp_ms;
  out->payload.assign(v.payload);
  return Status::Ok();
}

Value::Map EncodePushArgs(const PushArgs& a) {
  Value::Map m = {{"topic", Value::Str(a.topic)}, {"payload", Value::Bin(a.payload)}};
  if (!a.producer.empty()) {
    m.emplace_back("producer", Value::Str(a.producer));
    m.emplace_back("seq", Value::Uint(a.seq));
  }
  return m;
}

Status DecodePushArgs(const Value::Map& args, PushArgs* out) {
  *out = PushArgs();
  const Value* topic = Value::Find(args, "topic");
  const Value* payload = Value::Find(args, "payload");
  const Value* producer = Value::Find(args, "producer");
  const Value* seq = Value::Find(args, "seq");
  if (topic == nullptr || topic->kind() != Value::Kind::kStr) {
    return Status::InvalidInput("push: 'topic' (str) is required");
  }
  if (payload == nullptr ||
      (payload->kind() != Value::Kind::kBin && payload->kind() != Value::Kind::kStr)) {
    return Status::InvalidInput("push: 'payload' (bin) is required");
  }
  out->topic = topic->as_str();
  out->payload = payload->as_str();
  Status s = CheckTopic(out->topic);
  if (!s.ok()) return Status::InvalidInput("push: " + s.message());
  if (producer != nullptr) {
    if (producer->kind() != Value::Kind::kStr || !ValidProducer(producer->as_str())) {
      return Status::InvalidInput("push: 'producer' must be a str of 1.." +
                                  std::to_string(kMaxProducerBytes) + " bytes");
    }
    if (seq == nullptr || seq->kind() != Value::Kind::kUint || seq->as_uint() == 0) {
      return Status::InvalidInput("push: 'seq' (uint >= 1) is required with 'producer'");
    }
    out->producer = producer->as_str();
    out->seq = seq->as_uint();
  } else if (seq != nullptr) {
    return Status::InvalidInput("push: 'seq' without 'producer'");
  }
  return Status::Ok();
}

Value::Map EncodePushResult(const PushResult& r) {
  return {{"index", Value::Uint(r.index)},
          {"term", Value::Uint(r.term)},
          {"duplicate", Value::Bool(r.duplicate)}};
}

Status DecodePushResult(const Value::Map& body, PushResult* out) {
  *out = PushResult();
  const Value* index = Value::Find(body, "index");
  const Value* term = Value::Find(body, "term");
  const Value* dup = Value::Find(body, "duplicate");
  if (index == nullptr || index->kind() != Value::Kind::kUint || term == nullptr ||
      term->kind() != Value::Kind::kUint) {
    return Status::Corruption("push reply: 'index' and 'term' (uint) are required");
  }
  if (dup != nullptr && dup->kind() != Value::Kind::kBool) {
    return Status::Corruption("push reply: 'duplicate' must be a bool");
  }
  out->index = index->as_uint();
  out->term = term->as_uint();
  out->duplicate = dup != nullptr && dup->as_bool();
  return Status::Ok();
}

void EncodePublishedEvent(const PublishedEventView& e, std::string* out) {
  out->reserve(out->size() + e.payload.size() + e.producer.size() + 60);
  StringSink sink(out);
  Packer pk(sink);
  pk.pack_array(7);
  pk.pack_uint64(e.index);
  pk.pack_uint64(e.term);
  pk.pack_uint64(e.timestamp_ms);
  PackBin(pk, e.payload);
  PackStr(pk, e.producer);
  pk.pack_uint64(e.seq);
  pk.pack_uint64(e.prev_index);
}

void EncodePublishedEvent(const PublishedEvent& e, std::string* out) {
  EncodePublishedEvent(PublishedEventView{e.index, e.term, e.timestamp_ms, e.payload, e.producer,
                                          e.seq, e.prev_index},
                       out);
}

namespace {

Status DecodePublishedEventTree(const char* data, size_t size, const DecodeLimits& limits,
                                PublishedEvent* out) {
  msgpack::object_handle h;
  Status s = Parse(data, size, limits, "published event", &h);
  if (!s.ok()) return s;
  Row row(h.get(), 7, "published event");
  out->index = row.Uint(0, "index");
  out->term = row.Uint(1, "term");
  out->timestamp_ms = row.Uint(2, "timestamp");
  out->payload = row.Bytes(3, "payload");
  out->producer = row.Str(4, "producer", msgpack::type::STR);
  out->seq = row.Uint(5, "seq");
  out->prev_index = row.Uint(6, "prev_index");
  if (row.ok() && out->prev_index >= out->index) {
    return Status::Corruption("published event: prev_index must be below index");
  }
  return row.status();
}

}  // namespace

Status DecodePublishedEvent(const char* data, size_t size, const DecodeLimits& limits,
                            PublishedEventView* out) {
  Reader r(data, size);
  uint32_t n = 0;
  if (size <= limits.max_frame_bytes && r.array(&n) && n == 7 && r.uint(&out->index) &&
      r.uint(&out->term) && r.uint(&out->timestamp_ms) && ReadPayload(r, limits, &out->payload) &&
      ReadStr(r, limits, &out->producer) && r.uint(&out->seq) && r.uint(&out->prev_index) &&
      r.at_end() && out->prev_index < out->index) {
    return Status::Ok();
  }
  PublishedEvent event;
  return Refused(DecodePublishedEventTree(data, size, limits, &event), "published event");
}

Status DecodePublishedEvent(const char* data, size_t size, const DecodeLimits& limits,
                            PublishedEvent* out) {
  PublishedEventView v;
  Status s = DecodePublishedEvent(data, size, limits, &v);
  if (!s.ok()) return s;
  *out = PublishedEvent{
      v.index, v.term,      v.timestamp_ms, std::string(v.payload), std::string(v.producer),
      v.seq,   v.prev_index};
  return Status::Ok();
}

bool DecodePushRequest(const char* data, size_t size, const DecodeLimits& limits,
                       PushRequestView* out) {
  *out = PushRequestView();
  Reader r(data, size);
  std::string_view op;
  if (size > limits.max_frame_bytes || !ReadHead(r, &out->request_id, &op)) return false;
  if (op == kAppendOp) {
    out->append = true;
  } else if (op != kPushOp) {
    return false;
  }
  uint32_t keys = 0;
  if (!r.map(&keys) || keys > limits.max_container_length) return false;
  bool topic = false, payload = false, producer = false, seq = false;
  for (uint32_t i = 0; i < keys; ++i) {
    std::string_view key;
    if (!r.str(&key)) return false;
    // Each key once; any other key (allowed, but unusual) takes the slow
    // path, as does anything but payload in an append.
    const bool push_key = !out->append;
    bool read = false;
    if (key == "payload" && !payload) {
      read = payload = ReadPayload(r, limits, &out->payload);
    } else if (push_key && key == "topic" && !topic) {
      read = topic = ReadStr(r, limits, &out->topic);
    } else if (push_key && key == "producer" && !producer) {
      read = producer = ReadStr(r, limits, &out->producer);
    } else if (push_key && key == "seq" && !seq) {
      read = seq = r.uint(&out->seq);
    }
    if (!read) return false;
  }
  if (!r.at_end() || !payload) return false;
  if (out->append) {
    out->topic = "default";
    return true;
  }
  return topic && CheckTopic(out->topic).ok() && (!producer || ValidProducer(out->producer)) &&
         ValidSeq(producer, seq, out->seq);
}

void EncodePushReply(uint64_t request_id, const PushResult& result, bool with_duplicate,
                     std::string* out) {
  StringSink sink(out);
  Packer pk(sink);
  PackHead(pk, request_id, kOk);
  PackPushResult(pk, result, with_duplicate);
}

void EncodePushRequest(const PushRequestView& push, std::string* out) {
  out->reserve(out->size() + push.topic.size() + push.payload.size() + push.producer.size() + 64);
  StringSink sink(out);
  Packer pk(sink);
  PackHead(pk, push.request_id, kPushOp);
  pk.pack_map(push.producer.empty() ? 2 : 4);
  PackStr(pk, "topic");
  PackStr(pk, push.topic);
  PackStr(pk, "payload");
  PackBin(pk, push.payload);
  if (!push.producer.empty()) {
    PackStr(pk, "producer");
    PackStr(pk, push.producer);
    PackStr(pk, "seq");
    pk.pack_uint64(push.seq);
  }
}

bool DecodePushReply(const char* data, size_t size, uint64_t* request_id, PushResult* out) {
  Reader r(data, size);
  std::string_view code;
  return ReadHead(r, request_id, &code) && code == kOk && ReadPushResult(r, out) && r.at_end();
}

namespace {

// push's rules for one event of a batch; "what" names it in the message.
Status CheckBatchEvent(const std::string& what, std::string_view topic, bool producer, bool has_seq,
                       uint64_t seq) {
  Status s = CheckTopic(topic);
  if (!s.ok()) return Status::InvalidInput(what + ": " + s.message());
  if (!ValidSeq(producer, has_seq, seq)) {
    return Status::InvalidInput(what + (producer ? ": 'seq' (uint >= 1) is required with 'producer'"
                                                 : ": 'seq' without 'producer'"));
  }
  return Status::Ok();
}

}  // namespace

Value::Map EncodePushBatchArgs(const PushBatchArgs& args) {
  Value::Array events;
  events.reserve(args.events.size());
  for (const PushBatchEvent& e : args.events) {
    Value::Map m = {{"topic", Value::Str(e.topic)}, {"payload", Value::Bin(e.payload)}};
    if (!args.producer.empty()) m.emplace_back("seq", Value::Uint(e.seq));
    events.push_back(Value::MakeMap(std::move(m)));
  }
  Value::Map m;
  if (!args.producer.empty()) m.emplace_back("producer", Value::Str(args.producer));
  m.emplace_back("events", Value::MakeArray(std::move(events)));
  return m;
}

Status DecodePushBatchArgs(const Value::Map& args, PushBatchArgs* out) {
  *out = PushBatchArgs();
  const Value* producer = Value::Find(args, "producer");
  const Value* events = Value::Find(args, "events");
  if (producer != nullptr) {
    if (producer->kind() != Value::Kind::kStr || !ValidProducer(producer->as_str())) {
      return Status::InvalidInput("push_batch: 'producer' must be a str of 1.." +
                                  std::to_string(kMaxProducerBytes) + " bytes");
    }
    out->producer = producer->as_str();
  }
  if (events == nullptr || events->kind() != Value::Kind::kArray || events->as_array().empty() ||
      events->as_array().size() > kMaxBatchEvents) {
    return Status::InvalidInput("push_batch: 'events' (an array of 1.." +
                                std::to_string(kMaxBatchEvents) + " maps) is required");
  }
  for (size_t i = 0; i < events->as_array().size(); ++i) {
    const Value& e = events->as_array()[i];
    const std::string what = "push_batch: events[" + std::to_string(i) + "]";
    if (e.kind() != Value::Kind::kMap) return Status::InvalidInput(what + ": expected a map");
    const Value* topic = Value::Find(e.as_map(), "topic");
    const Value* payload = Value::Find(e.as_map(), "payload");
    const Value* seq = Value::Find(e.as_map(), "seq");
    if (topic == nullptr || topic->kind() != Value::Kind::kStr) {
      return Status::InvalidInput(what + ": 'topic' (str) is required");
    }
    if (payload == nullptr ||
        (payload->kind() != Value::Kind::kBin && payload->kind() != Value::Kind::kStr)) {
      return Status::InvalidInput(what + ": 'payload' (bin) is required");
    }
    if (seq != nullptr && seq->kind() != Value::Kind::kUint) {
      return Status::InvalidInput(what + ": 'seq' must be a uint");
    }
    Status s = CheckBatchEvent(what, topic->as_str(), producer != nullptr, seq != nullptr,
                               seq != nullptr ? seq->as_uint() : 0);
    if (!s.ok()) return s;
    out->events.push_back({topic->as_str(), payload->as_str(), seq ? seq->as_uint() : 0});
  }
  return Status::Ok();
}

Value::Map EncodePushBatchResult(const std::vector<PushResult>& results) {
  Value::Array a;
  a.reserve(results.size());
  for (const PushResult& r : results) a.push_back(Value::MakeMap(EncodePushResult(r)));
  return {{"results", Value::MakeArray(std::move(a))}};
}

Status DecodePushBatchResult(const Value::Map& body, std::vector<PushResult>* out) {
  out->clear();
  const Value* results = Value::Find(body, "results");
  if (results == nullptr || results->kind() != Value::Kind::kArray) {
    return Status::Corruption("push_batch reply: 'results' (array) is required");
  }
  for (const Value& r : results->as_array()) {
    if (r.kind() != Value::Kind::kMap) {
      return Status::Corruption("push_batch reply: each result must be a map");
    }
    PushResult one;
    Status s = DecodePushResult(r.as_map(), &one);
    if (!s.ok()) return s;
    out->push_back(one);
  }
  return Status::Ok();
}

bool DecodePushBatchRequest(const char* data, size_t size, const DecodeLimits& limits,
                            uint64_t* request_id, std::string_view* producer,
                            std::vector<PushEventView>* events) {
  events->clear();
  *producer = {};
  Reader r(data, size);
  uint32_t keys = 0;
  std::string_view op;
  if (size > limits.max_frame_bytes || !ReadHead(r, request_id, &op) || op != kPushBatchOp ||
      !r.map(&keys) || keys > 2) {
    return false;
  }
  bool has_producer = false, has_events = false;
  for (uint32_t i = 0; i < keys; ++i) {
    std::string_view key;
    if (!r.str(&key)) return false;
    if (key == "producer" && !has_producer && !has_events) {
      has_producer = ReadStr(r, limits, producer) && ValidProducer(*producer);
      if (!has_producer) return false;
    } else if (key == "events" && !has_events) {
      uint32_t count = 0;
      if (!r.array(&count) || count == 0 || count > kMaxBatchEvents ||
          count > limits.max_container_length) {
        return false;
      }
      events->resize(count);
      for (PushEventView& e : *events) {
        uint32_t fields = 0;
        bool topic = false, payload = false, seq = false;
        if (!r.map(&fields) || fields > 3) return false;
        for (uint32_t f = 0; f < fields; ++f) {
          std::string_view name;
          if (!r.str(&name)) return false;
          // Each key once; a failed read (a limit included) refuses the frame.
          bool read = false;
          if (name == "topic" && !topic) {
            read = topic = ReadStr(r, limits, &e.topic);
          } else if (name == "payload" && !payload) {
            read = payload = ReadPayload(r, limits, &e.payload);
          } else if (name == "seq" && !seq) {
            read = seq = r.uint(&e.seq);
          }
          if (!read) return false;
        }
        // (A producer given after the events is left to the slow path.)
        if (!topic || !payload || !ValidSeq(has_producer, seq, e.seq) ||
            !CheckTopic(e.topic).ok()) {
          return false;
        }
      }
      has_events = true;
    } else {
      return false;
    }
  }
  return r.at_end() && has_events;
}

void EncodePushBatchRequest(uint64_t request_id, std::string_view producer,
                            const std::vector<PushEventView>& events, std::string* out) {
  size_t bytes = 64 + producer.size();
  for (const PushEventView& e : events) bytes += e.topic.size() + e.payload.size() + 40;
  out->reserve(out->size() + bytes);
  StringSink sink(out);
  Packer pk(sink);
  PackHead(pk, request_id, kPushBatchOp);
  pk.pack_map(producer.empty() ? 1 : 2);
  if (!producer.empty()) {
    PackStr(pk, "producer");
    PackStr(pk, producer);
  }
  PackStr(pk, "events");
  pk.pack_array(static_cast<uint32_t>(events.size()));
  for (const PushEventView& e : events) {
    pk.pack_map(producer.empty() ? 2 : 3);
    PackStr(pk, "topic");
    PackStr(pk, e.topic);
    PackStr(pk, "payload");
    PackBin(pk, e.payload);
    if (!producer.empty()) {
      PackStr(pk, "seq");
      pk.pack_uint64(e.seq);
    }
  }
}

void EncodePushBatchReply(uint64_t request_id, const std::vector<PushResult>& results,
                          std::string* out) {
  StringSink sink(out);
  Packer pk(sink);
  PackHead(pk, request_id, kOk);
  pk.pack_map(1);
  PackStr(pk, "results");
  pk.pack_array(static_cast<uint32_t>(results.size()));
  for (const PushResult& r : results) PackPushResult(pk, r, true);
}

bool DecodePushBatchReply(const char* data, size_t size, uint64_t* request_id,
                          std::vector<PushResult>* results) {
  results->clear();
  Reader r(data, size);
  uint32_t keys = 0, count = 0;
  std::string_view code, key;
  if (!ReadHead(r, request_id, &code) || code != kOk || !r.map(&keys) || keys != 1 ||
      !r.str(&key) || key != "results" || !r.array(&count) || count > kMaxBatchEvents) {
    return false;
  }
  results->resize(count);
  for (PushResult& one : *results) {
    if (!ReadPushResult(r, &one)) return false;
  }
  return r.at_end();
}

void EncodePublishedHeartbeat(const PublishedHeartbeat& hb, std::string* out) {
  StringSink sink(out);
  Packer pk(sink);
  pk.pack_array(3);
  pk.pack_uint64(hb.last_index);
  pk.pack_uint64(hb.commit_index);
  pk.pack_uint64(hb.node);
}

Status DecodePublishedHeartbeat(const char* data, size_t size, const DecodeLimits& limits,
                                PublishedHeartbeat* out) {
  msgpack::object_handle h;
  Status s = Parse(data, size, limits, "heartbeat", &h);
  if (!s.ok()) return s;
  Row row(h.get(), 3, "heartbeat");
  out->last_index = row.Uint(0, "last_index");
  out->commit_index = row.Uint(1, "commit_index");
  out->node = row.Uint(2, "node");
  return row.status();
}

}  // namespace raftlog::wire
