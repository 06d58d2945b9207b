// DecodeLimits: what a decoder accepts before it rejects a frame.
//
// Every field bounds memory or work that a peer or client could otherwise
// make a receiver spend. The defaults suit raftlogd; docs/protocol.md states
// them as the protocol's limits. A frame beyond any limit is rejected with
// Status::Corruption before, or while, it is parsed; nothing else happens.
//
// The sizes are derived from one number, the largest event payload, so
// that whatever a leader accepts every follower accepts: an entry is a
// payload plus its event record's envelope, and a peer frame must hold the
// largest entry (or the largest batch, max-bytes-per-msg) plus the
// AppendEntries around it. MinPeerFrameBytes says how large that is.
#pragma once

#include <algorithm>
#include <cstddef>

namespace raftlog::wire {

// The largest event payload the protocol allows (push, push_batch, append).
// A node may be configured for less (raftlogd's max-payload-bytes).
inline constexpr size_t kMaxPayloadBytes = size_t{16} << 20;
// raftlogd's default, as Kafka's and NATS's: events of 1 MiB.
inline constexpr size_t kDefaultPayloadBytes = size_t{1} << 20;
// What an event record adds to its payload, at most: the array, version,
// topic (<= 1024 bytes), producer (<= 256), seq, timestamp and the bin
// header (1,314 bytes; tests/wire pins the bound).
inline constexpr size_t kMaxEventEnvelopeBytes = 2048;
// The largest log entry's data: the largest payload in its event record.
inline constexpr size_t EntryBytesFor(size_t max_payload_bytes) {
  return max_payload_bytes + kMaxEventEnvelopeBytes;
}
inline constexpr size_t kMaxEntryBytes = EntryBytesFor(kMaxPayloadBytes);
// An AppendEntries beyond its entries' core::Entry::byte_size() total: the
// message array and its nine numbers (tests/wire pins the bound).
inline constexpr size_t kAppendEntriesOverheadBytes = 128;

// The smallest max-frame-bytes a node may run with: an AppendEntries of
// max_bytes_per_msg of entries, or of one entry of max_entry_bytes, fits.
inline constexpr size_t MinPeerFrameBytes(size_t max_bytes_per_msg, size_t max_entry_bytes) {
  // byte_size() counts 48 bytes and 9 per configuration member on top of
  // an entry's data, at least what its encoding takes beyond the data
  // (configuration entries carry no data).
  return std::max(max_bytes_per_msg, max_entry_bytes + 48) + kAppendEntriesOverheadBytes;
}

struct DecodeLimits {
  // Bytes of one whole frame (one ZeroMQ message part).
  size_t max_frame_bytes = size_t{64} << 20;
  // Entries in one AppendEntries.
  size_t max_entries = 100000;
  // Bytes of one msgpack bin value: a log entry's data, a binary client value.
  size_t max_entry_bytes = kMaxEntryBytes;
  // Bytes of one event's payload in a push, push_batch or append request
  // (a node sets its configured limit).
  size_t max_payload_bytes = kMaxPayloadBytes;
  // Node ids in each of a configuration's three lists.
  size_t max_config_nodes = 1024;
  // Bytes of one msgpack str value (client frames; peer frames carry none).
  size_t max_string_bytes = size_t{1} << 20;
  // Elements of one array or pairs of one map in a client frame.
  size_t max_container_length = 100000;
  // Nesting of arrays and maps in a client frame, the outer array counting 1.
  // (Peer frames have a fixed shape, nested at most 5 deep.)
  size_t max_depth = 8;
};

}  // namespace raftlog::wire
