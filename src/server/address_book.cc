#include "server/address_book.h"

#include "raftlog/wire/client_codec.h"
#include "raftlog/wire/value.h"
#include "wire/msgpack_reader.h"

namespace raftlog::server {

namespace {

// A context is small (a few endpoints per member); these bound what a
// damaged one can make the decoder allocate.
constexpr uint32_t kMaxMembers = 4096;
constexpr size_t kMaxEndpointBytes = 1024;

}  // namespace

std::string EncodeAddressBook(const AddressBook& book) {
  using wire::Value;
  Value::Array members;
  members.reserve(book.size());
  for (const auto& [id, m] : book) {
    members.push_back(
        Value::MakeArray({Value::Uint(id), Value::Str(m.peer_endpoint),
                          Value::Str(m.client_endpoint), Value::Str(m.pub_endpoint)}));
  }
  std::string out;
  wire::EncodeValue(
      Value::MakeArray({Value::Uint(kAddressBookVersion), Value::MakeArray(std::move(members))}),
      &out);
  return out;
}

Status DecodeAddressBook(std::string_view context, AddressBook* out) {
  out->clear();
  if (context.empty()) return Status::Ok();
  wire::detail::Reader r(context.data(), context.size());
  auto bad = [&](const std::string& what) {
    out->clear();
    return Status::Corruption("address book: " + what +
                              (r.ok() ? std::string() : " (" + r.error() + ")"));
  };
  uint32_t n = 0;
  if (!r.array(&n) || n != 2) return bad("expected an array [version, members]");
  uint64_t version = 0;
  if (!r.uint(&version)) return bad("bad version");
  if (version != kAddressBookVersion) {
    out->clear();
    return Status::NotSupported("address book: unsupported version " + std::to_string(version));
  }
  uint32_t count = 0;
  if (!r.array(&count, kMaxMembers)) return bad("bad member list");
  core::NodeId previous = core::kNoNode;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string where = "member " + std::to_string(i);
    uint32_t fields = 0;
    if (!r.array(&fields) || fields != 4) return bad(where + ": expected [id, peer, client, pub]");
    Member m;
    std::string_view peer, client, pub;
    if (!r.uint(&m.id) || !r.str(&peer, kMaxEndpointBytes) || !r.str(&client, kMaxEndpointBytes) ||
        !r.str(&pub, kMaxEndpointBytes)) {
      return bad(where + ": expected [id, peer, client, pub]");
    }
    if (m.id == core::kNoNode) return bad(where + ": id 0");
    if (m.id <= previous) return bad(where + ": ids not ascending (" + std::to_string(m.id) + ")");
    if (peer.empty() || client.empty()) {
      return bad("member " + std::to_string(m.id) + ": empty peer or client endpoint");
    }
    previous = m.id;
    m.peer_endpoint = peer;
    m.client_endpoint = client;
    m.pub_endpoint = pub;
    out->emplace(m.id, std::move(m));
  }
  if (!r.at_end()) return bad("trailing bytes");
  return Status::Ok();
}

}  // namespace raftlog::server
