// The event layer of the protocol (docs/protocol.md, "Event records", "Op
// push", "The PUB stream"): what a Command entry holds, the push op's
// bodies, and the two PUB message kinds. Decoders are strict, never throw,
// and return Corruption naming what and where.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/wire/limits.h"
#include "raftlog/wire/value.h"

namespace raftlog::wire {

inline constexpr uint64_t kEventRecordVersion = 1;
inline constexpr size_t kMaxTopicBytes = 1024;
inline constexpr size_t kMaxProducerBytes = 256;
// Topics with this prefix are the cluster's own (heartbeats).
inline constexpr const char* kReservedTopicPrefix = "_raftlog.";
inline constexpr const char* kHeartbeatTopic = "_raftlog.heartbeat";
// The sequence numbers a node remembers per producer (its producer-window):
// at least kMinProducerWindow, so a producer with at most that many events
// in flight can always be told whether a retry landed; at most
// kMaxProducerWindow.
inline constexpr uint64_t kMinProducerWindow = 1024;
inline constexpr uint64_t kMaxProducerWindow = 65536;

// What a Command entry written by raftlogd holds.
struct EventRecord {
  std::string topic;
  std::string producer;  // empty: pushed without exactly-once
  uint64_t seq = 0;      // 0 without producer
  uint64_t timestamp_ms = 0;
  std::string payload;
  bool operator==(const EventRecord&) const = default;
};

// The same record as views: into the frame it was decoded from, or into
// the strings it is about to be encoded from.
struct EventRecordView {
  std::string_view topic;
  std::string_view producer;
  uint64_t seq = 0;
  uint64_t timestamp_ms = 0;
  std::string_view payload;
};

void EncodeEventRecord(const EventRecordView& record, std::string* out);
void EncodeEventRecord(const EventRecord& record, std::string* out);
// The view form allocates nothing; its views point into data. NotSupported
// for another version, whatever follows it.
Status DecodeEventRecord(const char* data, size_t size, const DecodeLimits& limits,
                         EventRecordView* out);
Status DecodeEventRecord(const char* data, size_t size, const DecodeLimits& limits,
                         EventRecord* out);

// InvalidInput unless topic is 1..kMaxTopicBytes and not reserved.
Status CheckTopic(std::string_view topic);
// InvalidInput for a payload over limits.max_payload_bytes, saying so.
Status CheckPayloadSize(size_t size, const DecodeLimits& limits);

// op "push".
inline constexpr const char* kPushOp = "push";

struct PushArgs {
  std::string topic;
  std::string payload;
  std::string producer;  // empty: none
  uint64_t seq = 0;
};
Value::Map EncodePushArgs(const PushArgs& args);
// Checks the rules too (topic, producer length, seq present and >= 1 with a
// producer): InvalidInput for a rule, Corruption for a wrong type.
Status DecodePushArgs(const Value::Map& args, PushArgs* out);

struct PushResult {
  core::LogIndex index = 0;
  core::Term term = 0;
  bool duplicate = false;
};
Value::Map EncodePushResult(const PushResult& result);
Status DecodePushResult(const Value::Map& body, PushResult* out);

// The hot path of a node's client endpoint. A push (or append) request as
// views into its frame: append carries only a payload, and its topic is
// "default".
struct PushRequestView {
  uint64_t request_id = 0;
  bool append = false;
  std::string_view topic;
  std::string_view payload;
  std::string_view producer;  // empty: none
  uint64_t seq = 0;
};
// Decodes a well-formed push or append request that follows every rule,
// without allocating. False for anything else, a bad one included: the
// caller then decodes the frame with DecodeRequest and the op's own decoder,
// which accept the same requests and say what is wrong with the others.
bool DecodePushRequest(const char* data, size_t size, const DecodeLimits& limits,
                       PushRequestView* out);
// The request DecodePushRequest reads, as EncodeRequest would write it
// (a push; append is for the general encoder).
void EncodePushRequest(const PushRequestView& push, std::string* out);
// The ok reply to a push ({index, term, duplicate}) or, with
// with_duplicate false, to an append ({index, term}), as EncodeReply would
// write it.
void EncodePushReply(uint64_t request_id, const PushResult& result, bool with_duplicate,
                     std::string* out);
// Reads an ok reply to a push without allocating. False for anything else
// (another code, extra keys, a bad reply): DecodeReply and DecodePushResult
// then say what it is.
bool DecodePushReply(const char* data, size_t size, uint64_t* request_id, PushResult* out);

// op "push_batch": several events in one request, one reply once all of
// them are committed (docs/protocol.md, "Op push_batch").
inline constexpr const char* kPushBatchOp = "push_batch";
inline constexpr size_t kMaxBatchEvents = 1024;

struct PushBatchEvent {
  std::string topic;
  std::string payload;
  uint64_t seq = 0;  // with the batch's producer
};
struct PushBatchArgs {
  std::string producer;  // empty: none
  std::vector<PushBatchEvent> events;
};
Value::Map EncodePushBatchArgs(const PushBatchArgs& args);
// Checks every event against push's rules: InvalidInput for a rule,
// Corruption for a wrong type.
Status DecodePushBatchArgs(const Value::Map& args, PushBatchArgs* out);
Value::Map EncodePushBatchResult(const std::vector<PushResult>& results);
Status DecodePushBatchResult(const Value::Map& body, std::vector<PushResult>* out);

// The hot path, as for push: views into the frame, *events reused.
struct PushEventView {
  std::string_view topic;
  std::string_view payload;
  uint64_t seq = 0;
};
// False for anything but a well-formed batch that follows every rule: the
// caller then uses DecodeRequest and DecodePushBatchArgs, which say why.
bool DecodePushBatchRequest(const char* data, size_t size, const DecodeLimits& limits,
                            uint64_t* request_id, std::string_view* producer,
                            std::vector<PushEventView>* events);
void EncodePushBatchRequest(uint64_t request_id, std::string_view producer,
                            const std::vector<PushEventView>& events, std::string* out);
void EncodePushBatchReply(uint64_t request_id, const std::vector<PushResult>& results,
                          std::string* out);
// An ok reply to a push_batch; false for anything else.
bool DecodePushBatchReply(const char* data, size_t size, uint64_t* request_id,
                          std::vector<PushResult>* results);

// Frame 2 of a PUB message for a committed event (frame 1 is its topic).
struct PublishedEvent {
  core::LogIndex index = 0;
  core::Term term = 0;
  uint64_t timestamp_ms = 0;
  std::string payload;
  std::string producer;
  uint64_t seq = 0;
  core::LogIndex prev_index = 0;  // the previous Command entry's index, 0 if none
  bool operator==(const PublishedEvent&) const = default;
};
// PublishedEvent with its strings as views.
struct PublishedEventView {
  core::LogIndex index = 0;
  core::Term term = 0;
  uint64_t timestamp_ms = 0;
  std::string_view payload;
  std::string_view producer;
  uint64_t seq = 0;
  core::LogIndex prev_index = 0;
};
void EncodePublishedEvent(const PublishedEventView& event, std::string* out);
void EncodePublishedEvent(const PublishedEvent& event, std::string* out);
// Without allocating; the views point into data. The owning form decodes
// through it.
Status DecodePublishedEvent(const char* data, size_t size, const DecodeLimits& limits,
                            PublishedEventView* out);
Status DecodePublishedEvent(const char* data, size_t size, const DecodeLimits& limits,
                            PublishedEvent* out);

// Frame 2 of a PUB message on kHeartbeatTopic.
struct PublishedHeartbeat {
  core::LogIndex last_index = 0;  // last Command entry published, 0 if none
  core::LogIndex commit_index = 0;
  core::NodeId node = 0;
  bool operator==(const PublishedHeartbeat&) const = default;
};
void EncodePublishedHeartbeat(const PublishedHeartbeat& heartbeat, std::string* out);
Status DecodePublishedHeartbeat(const char* data, size_t size, const DecodeLimits& limits,
                                PublishedHeartbeat* out);

}  // namespace raftlog::wire
