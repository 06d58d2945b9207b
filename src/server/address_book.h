// The address book: every member's endpoints, carried in the cluster
// configuration's opaque context (core::ClusterConfig::context), so that a
// node learns where a new member listens from the entry that adds it (or a
// snapshot), with no restart and no config file naming it.
//
// Encoding (docs/protocol.md, "The address book"): a msgpack array
// [1, [[id, peer, client, pub], ...]], entries sorted by id, ids unique and
// positive, endpoints as str (pub may be empty). An empty context means "no
// address book" (a configuration from before this encoding, or of a
// ReplicatedLog user that keeps none).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "raftlog/core/types.h"
#include "raftlog/status.h"

namespace raftlog::server {

struct Member {
  core::NodeId id = core::kNoNode;
  std::string peer_endpoint;    // where its peer ROUTER listens
  std::string client_endpoint;  // where its client ROUTER listens
  std::string pub_endpoint;     // where its PUB socket publishes; may be empty
  bool operator==(const Member&) const = default;
};

using AddressBook = std::map<core::NodeId, Member>;

constexpr uint64_t kAddressBookVersion = 1;

// The context bytes for book.
std::string EncodeAddressBook(const AddressBook& book);
// Reads context into *out (emptied first; an empty context gives an empty
// book). Corruption saying what is wrong ("address book: ..."), never a
// crash, for bytes that are not an address book; NotSupported for another
// version.
Status DecodeAddressBook(std::string_view context, AddressBook* out);

}  // namespace raftlog::server
