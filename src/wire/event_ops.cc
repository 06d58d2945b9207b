#include "raftlog/wire/event_ops.h"

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/log_ops.h"
#include "wire/client_frame.h"
#include "wire/msgpack_reader.h"
#include "wire/msgpack_util.h"

namespace raftlog::wire {

namespace {

using detail::Packer;
using detail::Reader;
using detail::StringSink;

constexpr const char* kRecord = "event record";
constexpr const char* kPublished = "published event";
constexpr const char* kHeartbeat = "heartbeat";

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

// ---- fixed-shape frames: an event record, a PUB message body ----

// The start of one: within the frame limit, an array; *n its length.
Status ReadRow(Reader& r, const DecodeLimits& limits, const char* what, uint32_t* n) {
  if (r.remaining() > limits.max_frame_bytes) {
    return Status::Corruption(std::string(what) + ": frame of " + std::to_string(r.remaining()) +
                              " bytes exceeds the limit of " +
                              std::to_string(limits.max_frame_bytes));
  }
  if (!r.array(n)) return Status::Corruption(std::string(what) + ": " + r.error());
  return Status::Ok();
}

Status WrongLength(const char* what, uint32_t want, uint32_t n) {
  return Status::Corruption(std::string(what) + ": expected an array of " + std::to_string(want) +
                            ", got " + std::to_string(n) + " elements");
}

// The field r failed to read.
Status FieldError(const char* what, const char* field, const Reader& r) {
  return Status::Corruption(std::string(what) + " field '" + field + "': " + r.error());
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

Status DecodeEventRecord(const char* data, size_t size, const DecodeLimits& limits,
                         EventRecordView* out) {
  Reader r(data, size);
  uint32_t n = 0;
  Status s = ReadRow(r, limits, kRecord, &n);
  if (!s.ok()) return s;
  // The version first: one this node does not speak is refused as such,
  // whatever follows.
  uint64_t version = 0;
  if (n > 0 && !r.uint(&version)) return FieldError(kRecord, "version", r);
  if (n > 0 && version != kEventRecordVersion) {
    return Status::NotSupported("event record: unsupported version " + std::to_string(version));
  }
  if (n != 6) return WrongLength(kRecord, 6, n);
  if (!r.str(&out->topic, limits.max_string_bytes)) return FieldError(kRecord, "topic", r);
  if (!r.str(&out->producer, limits.max_string_bytes)) return FieldError(kRecord, "producer", r);
  if (!r.uint(&out->seq)) return FieldError(kRecord, "seq", r);
  if (!r.uint(&out->timestamp_ms)) return FieldError(kRecord, "timestamp", r);
  if (!r.payload(&out->payload, limits.max_string_bytes, limits.max_entry_bytes)) {
    return FieldError(kRecord, "payload", r);
  }
  return detail::ReadEnd(r, kRecord);
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

Status DecodePublishedEvent(const char* data, size_t size, const DecodeLimits& limits,
                            PublishedEventView* out) {
  Reader r(data, size);
  uint32_t n = 0;
  Status s = ReadRow(r, limits, kPublished, &n);
  if (!s.ok()) return s;
  if (n != 7) return WrongLength(kPublished, 7, n);
  if (!r.uint(&out->index)) return FieldError(kPublished, "index", r);
  if (!r.uint(&out->term)) return FieldError(kPublished, "term", r);
  if (!r.uint(&out->timestamp_ms)) return FieldError(kPublished, "timestamp", r);
  if (!r.payload(&out->payload, limits.max_string_bytes, limits.max_entry_bytes)) {
    return FieldError(kPublished, "payload", r);
  }
  if (!r.str(&out->producer, limits.max_string_bytes)) return FieldError(kPublished, "producer", r);
  if (!r.uint(&out->seq)) return FieldError(kPublished, "seq", r);
  if (!r.uint(&out->prev_index)) return FieldError(kPublished, "prev_index", r);
  s = detail::ReadEnd(r, kPublished);
  if (s.ok() && out->prev_index >= out->index) {
    return Status::Corruption("published event: prev_index must be below index");
  }
  return s;
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
  Reader r(data, size);
  uint32_t n = 0;
  Status s = ReadRow(r, limits, kHeartbeat, &n);
  if (!s.ok()) return s;
  if (n != 3) return WrongLength(kHeartbeat, 3, n);
  if (!r.uint(&out->last_index)) return FieldError(kHeartbeat, "last_index", r);
  if (!r.uint(&out->commit_index)) return FieldError(kHeartbeat, "commit_index", r);
  if (!r.uint(&out->node)) return FieldError(kHeartbeat, "node", r);
  return detail::ReadEnd(r, kHeartbeat);
}

}  // namespace raftlog::wire
