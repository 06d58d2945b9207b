// The event layer of the protocol (docs/protocol.md, "Event records", "Op
// push", "The PUB stream"): what a Command entry holds, the push op's
// bodies, and the two PUB message kinds. Each format has one decoder, which
// reads the frame without allocating; it is strict, never throws, and
// returns Corruption naming what and where.
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
// The args a push request carries, as EncodeRequest would write them
// (EncodePushRequest writes the same bytes).
Value::Map EncodePushArgs(const PushArgs& args);

struct PushResult {
  core::LogIndex index = 0;
  core::Term term = 0;
  bool duplicate = false;
};
// The body of an ok reply to a push (EncodePushReply writes the same bytes).
Value::Map EncodePushResult(const PushResult& result);

// A push (or append) request as views into its frame: append carries only
// a payload, and its topic is "default".
struct PushRequestView {
  uint64_t request_id = 0;
  bool append = false;
  std::string_view topic;
  std::string_view payload;
  std::string_view producer;  // empty: none
  uint64_t seq = 0;
};
// Decodes a push or append request (PeekHead tells one), without
// allocating: the hot path of a node's client endpoint. A frame that is not
// a well-formed request gets the error DecodeRequest would give
// (Corruption, NotSupported); a well-formed one that breaks a rule of the
// op (topic, producer length, seq present and >= 1 with a producer, a
// field's type) InvalidInput. Keys the op does not know are ignored. On
// failure out->request_id still holds the request id when the frame got
// that far (0 otherwise).
Status DecodePushRequest(const char* data, size_t size, const DecodeLimits& limits,
                         PushRequestView* out);
// The request DecodePushRequest reads, as EncodeRequest would write it
// (a push; append is for the general encoder).
void EncodePushRequest(const PushRequestView& push, std::string* out);
// The ok reply to a push ({index, term, duplicate}) or, with
// with_duplicate false, to an append ({index, term}), as EncodeReply would
// write it.
void EncodePushReply(uint64_t request_id, const PushResult& result, bool with_duplicate,
                     std::string* out);
// Reads an ok reply to a push (or an append: duplicate is then false)
// without allocating. Corruption for another code, a malformed frame, or a
// body without index and term; other keys are ignored.
Status DecodePushReply(const char* data, size_t size, const DecodeLimits& limits,
                       uint64_t* request_id, PushResult* out);

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
// As EncodeRequest would write them (EncodePushBatchRequest writes the same bytes).
Value::Map EncodePushBatchArgs(const PushBatchArgs& args);
// As EncodeReply would write it (EncodePushBatchReply writes the same bytes).
Value::Map EncodePushBatchResult(const std::vector<PushResult>& results);

// The hot path, as for push: views into the frame, *events reused.
struct PushEventView {
  std::string_view topic;
  std::string_view payload;
  uint64_t seq = 0;
};
// Decodes a push_batch request as DecodePushRequest does a push: the
// errors of DecodeRequest for a frame that is not a well-formed request,
// InvalidInput for one that breaks push_batch's rules (every event is held
// to push's). *request_id as out->request_id there.
Status DecodePushBatchRequest(const char* data, size_t size, const DecodeLimits& limits,
                              uint64_t* request_id, std::string_view* producer,
                              std::vector<PushEventView>* events);
void EncodePushBatchRequest(uint64_t request_id, std::string_view producer,
                            const std::vector<PushEventView>& events, std::string* out);
void EncodePushBatchReply(uint64_t request_id, const std::vector<PushResult>& results,
                          std::string* out);
// Reads an ok reply to a push_batch, {results: [push result...]}, as
// DecodePushReply does one to a push.
Status DecodePushBatchReply(const char* data, size_t size, const DecodeLimits& limits,
                            uint64_t* request_id, std::vector<PushResult>* results);

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
