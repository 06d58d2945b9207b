// DecodeLimits: what a decoder accepts before it rejects a frame.
//
// Every field bounds memory or work that a peer or client could otherwise
// make a receiver spend. The defaults suit raftlogd; docs/protocol.md states
// them as the protocol's limits. A frame beyond any limit is rejected with
// Status::Corruption before, or while, it is parsed; nothing else happens.
#pragma once

#include <cstddef>

namespace raftlog::wire {

struct DecodeLimits {
  // Bytes of one whole frame (one ZeroMQ message part).
  size_t max_frame_bytes = size_t{64} << 20;
  // Entries in one AppendEntries.
  size_t max_entries = 100000;
  // Bytes of one msgpack bin value: an entry's payload, a binary client value.
  size_t max_entry_bytes = size_t{16} << 20;
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
