#include "raftlog/wire/event_ops.h"

#include <cstdint>

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
using detail::ValueReader;

constexpr const char* kRecord = "event record";
constexpr const char* kPublished = "published event";
constexpr const char* kHeartbeat = "heartbeat";
constexpr const char* kRequest = "client request";
constexpr const char* kReply = "client reply";

void PackStr(Packer& pk, std::string_view v) {
  pk.pack_str(static_cast<uint32_t>(v.size()));
  pk.pack_str_body(v.data(), static_cast<uint32_t>(v.size()));
}

void PackBin(Packer& pk, std::string_view v) {
  pk.pack_bin(static_cast<uint32_t>(v.size()));
  pk.pack_bin_body(v.data(), static_cast<uint32_t>(v.size()));
}

// The client envelope's first three elements: [version, request_id, word]
// (word: the op of a request, the code of a reply); the map follows.
void PackHead(Packer& pk, uint64_t request_id, std::string_view word) {
  pk.pack_array(4);
  pk.pack_uint64(kClientVersion);
  pk.pack_uint64(request_id);
  PackStr(pk, word);
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

// ---- client frames with a typed map: push, push_batch and their replies ----

// A reader of the value at `at`, one that ValueReader::ScanMap has checked:
// the typed reads below only decide whether it is of the type a rule wants.
Reader ValueAt(const char* at, const char* data, size_t size) {
  return Reader(at, static_cast<size_t>(data + size - at));
}

// Where a push result's values start; nullptr for a key not there.
struct ResultKeys {
  const char* index = nullptr;
  const char* term = nullptr;
  const char* duplicate = nullptr;

  void Note(std::string_view key, const char* at) {
    if (key == "index") index = at;
    if (key == "term") term = at;
    if (key == "duplicate") duplicate = at;
  }
};

// A push result's rules: index and term required, duplicate optional,
// other keys ignored.
Status ReadPushResult(const ResultKeys& keys, const char* data, size_t size,
                      const std::string& what, PushResult* out) {
  *out = PushResult();
  if (keys.index == nullptr || !ValueAt(keys.index, data, size).uint(&out->index) ||
      keys.term == nullptr || !ValueAt(keys.term, data, size).uint(&out->term)) {
    return Status::Corruption(what + ": 'index' and 'term' (uint) are required");
  }
  if (keys.duplicate != nullptr && !ValueAt(keys.duplicate, data, size).boolean(&out->duplicate)) {
    return Status::Corruption(what + ": 'duplicate' must be a bool");
  }
  return Status::Ok();
}

// The head of a reply that should be an ok one.
Status ReadOkHead(Reader& r, const DecodeLimits& limits, const char* what, uint64_t* request_id) {
  std::string_view code;
  Status s = detail::ReadHead(r, limits, kReply, "code", request_id, &code);
  if (s.ok() && code != kOk) {
    s = Status::Corruption(std::string(what) + ": expected code 'ok', got '" + std::string(code) +
                           "'");
  }
  return s;
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

Value::Map EncodePushResult(const PushResult& r) {
  return {{"index", Value::Uint(r.index)},
          {"term", Value::Uint(r.term)},
          {"duplicate", Value::Bool(r.duplicate)}};
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

Status DecodePushRequest(const char* data, size_t size, const DecodeLimits& limits,
                         PushRequestView* out) {
  *out = PushRequestView();
  Reader r(data, size);
  std::string_view op;
  Status s = detail::ReadHead(r, limits, kRequest, "op", &out->request_id, &op);
  if (!s.ok()) return s;
  out->append = op == kAppendOp;
  if (!out->append && op != kPushOp) {
    return Status::InvalidInput("client request: op '" + std::string(op) + "' is not " + kPushOp +
                                " or " + kAppendOp);
  }
  const char* topic = nullptr;
  const char* payload = nullptr;
  const char* producer = nullptr;
  const char* seq = nullptr;
  ValueReader values(&r, limits);
  const bool scanned = values.ScanMap(2, [&](std::string_view key, const char* at) {
    if (key == "topic") topic = at;
    if (key == "payload") payload = at;
    if (key == "producer") producer = at;
    if (key == "seq") seq = at;
  });
  if (!scanned) return values.Error(kRequest, "args");
  s = detail::ReadEnd(r, kRequest);
  if (!s.ok()) return s;

  // A well-formed request: now the op's rules. Other keys are ignored
  // (append's only key is payload).
  auto at = [data, size](const char* v) { return ValueAt(v, data, size); };
  if (out->append) {
    if (payload == nullptr) return Status::InvalidInput("append: missing 'payload'");
    if (!at(payload).payload(&out->payload, SIZE_MAX, SIZE_MAX)) {
      return Status::InvalidInput("append: 'payload' must be bin or str");
    }
    out->topic = "default";
    return Status::Ok();
  }
  if (topic == nullptr || !at(topic).str(&out->topic)) {
    return Status::InvalidInput("push: 'topic' (str) is required");
  }
  if (payload == nullptr || !at(payload).payload(&out->payload, SIZE_MAX, SIZE_MAX)) {
    return Status::InvalidInput("push: 'payload' (bin) is required");
  }
  s = CheckTopic(out->topic);
  if (!s.ok()) return Status::InvalidInput("push: " + s.message());
  if (producer == nullptr) {
    if (seq != nullptr) return Status::InvalidInput("push: 'seq' without 'producer'");
    return Status::Ok();
  }
  if (!at(producer).str(&out->producer) || !ValidProducer(out->producer)) {
    return Status::InvalidInput("push: 'producer' must be a str of 1.." +
                                std::to_string(kMaxProducerBytes) + " bytes");
  }
  if (seq == nullptr || !at(seq).uint(&out->seq) || out->seq == 0) {
    return Status::InvalidInput("push: 'seq' (uint >= 1) is required with 'producer'");
  }
  return Status::Ok();
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

Status DecodePushReply(const char* data, size_t size, const DecodeLimits& limits,
                       uint64_t* request_id, PushResult* out) {
  Reader r(data, size);
  Status s = ReadOkHead(r, limits, "push reply", request_id);
  if (!s.ok()) return s;
  ResultKeys keys;
  ValueReader values(&r, limits);
  if (!values.ScanMap(2, [&keys](std::string_view key, const char* at) { keys.Note(key, at); })) {
    return values.Error(kReply, "body");
  }
  s = detail::ReadEnd(r, kReply);
  if (!s.ok()) return s;
  return ReadPushResult(keys, data, size, "push reply", out);
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

Value::Map EncodePushBatchResult(const std::vector<PushResult>& results) {
  Value::Array a;
  a.reserve(results.size());
  for (const PushResult& r : results) a.push_back(Value::MakeMap(EncodePushResult(r)));
  return {{"results", Value::MakeArray(std::move(a))}};
}

Status DecodePushBatchRequest(const char* data, size_t size, const DecodeLimits& limits,
                              uint64_t* request_id, std::string_view* producer,
                              std::vector<PushEventView>* events) {
  events->clear();
  *producer = {};
  Reader r(data, size);
  std::string_view op;
  Status s = detail::ReadHead(r, limits, kRequest, "op", request_id, &op);
  if (!s.ok()) return s;
  if (op != kPushBatchOp) {
    return Status::InvalidInput("client request: op '" + std::string(op) + "' is not " +
                                kPushBatchOp);
  }
  const char* producer_at = nullptr;
  const char* events_at = nullptr;
  ValueReader values(&r, limits);
  const bool scanned = values.ScanMap(2, [&](std::string_view key, const char* at) {
    if (key == "producer") producer_at = at;
    if (key == "events") events_at = at;
  });
  if (!scanned) return values.Error(kRequest, "args");
  s = detail::ReadEnd(r, kRequest);
  if (!s.ok()) return s;

  // A well-formed request: now push_batch's rules, each event's in order.
  auto at = [data, size](const char* v) { return ValueAt(v, data, size); };
  if (producer_at != nullptr && (!at(producer_at).str(producer) || !ValidProducer(*producer))) {
    return Status::InvalidInput("push_batch: 'producer' must be a str of 1.." +
                                std::to_string(kMaxProducerBytes) + " bytes");
  }
  // Absent: an empty reader, which reads no array.
  Reader list = events_at != nullptr ? at(events_at) : Reader(nullptr, 0);
  uint32_t count = 0;
  if (!list.array(&count) || count == 0 || count > kMaxBatchEvents) {
    return Status::InvalidInput("push_batch: 'events' (an array of 1.." +
                                std::to_string(kMaxBatchEvents) + " maps) is required");
  }
  events->resize(count);
  ValueReader items(&list, limits);
  for (uint32_t i = 0; i < count; ++i) {
    auto what = [i] { return "push_batch: events[" + std::to_string(i) + "]"; };
    if (list.peek() != detail::Type::kMap) return Status::InvalidInput(what() + ": expected a map");
    const char* topic = nullptr;
    const char* payload = nullptr;
    const char* seq = nullptr;
    // Checked with the whole request above: this only finds the keys.
    const bool found = items.ScanMap(4, [&](std::string_view key, const char* v) {
      if (key == "topic") topic = v;
      if (key == "payload") payload = v;
      if (key == "seq") seq = v;
    });
    if (!found) return items.Error(kRequest, "args.events[" + std::to_string(i) + "]");
    PushEventView& e = (*events)[i];
    if (topic == nullptr || !at(topic).str(&e.topic)) {
      return Status::InvalidInput(what() + ": 'topic' (str) is required");
    }
    if (payload == nullptr || !at(payload).payload(&e.payload, SIZE_MAX, SIZE_MAX)) {
      return Status::InvalidInput(what() + ": 'payload' (bin) is required");
    }
    if (seq != nullptr && !at(seq).uint(&e.seq)) {
      return Status::InvalidInput(what() + ": 'seq' must be a uint");
    }
    s = CheckBatchEvent(what(), e.topic, producer_at != nullptr, seq != nullptr, e.seq);
    if (!s.ok()) return s;
  }
  return Status::Ok();
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

Status DecodePushBatchReply(const char* data, size_t size, const DecodeLimits& limits,
                            uint64_t* request_id, std::vector<PushResult>* results) {
  results->clear();
  Reader r(data, size);
  Status s = ReadOkHead(r, limits, "push_batch reply", request_id);
  if (!s.ok()) return s;
  const char* results_at = nullptr;
  ValueReader values(&r, limits);
  const bool scanned = values.ScanMap(2, [&](std::string_view key, const char* at) {
    if (key == "results") results_at = at;
  });
  if (!scanned) return values.Error(kReply, "body");
  s = detail::ReadEnd(r, kReply);
  if (!s.ok()) return s;

  Status missing = Status::Corruption("push_batch reply: 'results' (array) is required");
  if (results_at == nullptr) return missing;
  Reader list = ValueAt(results_at, data, size);
  uint32_t count = 0;
  if (!list.array(&count)) return missing;
  results->resize(count);
  ValueReader items(&list, limits);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string what = "push_batch reply: results[" + std::to_string(i) + "]";
    if (list.peek() != detail::Type::kMap) return Status::Corruption(what + ": expected a map");
    ResultKeys keys;
    // Checked with the whole reply above: this only finds the keys.
    if (!items.ScanMap(4, [&keys](std::string_view key, const char* at) { keys.Note(key, at); })) {
      return items.Error(kReply, "body.results[" + std::to_string(i) + "]");
    }
    s = ReadPushResult(keys, data, size, what, &(*results)[i]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
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
