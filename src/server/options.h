// raftlogd's configuration: every option is a command-line flag and a key
// of the INI file given with --config (flags win). See README.md.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "raftlog/core/raft.h"
#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "server/address_book.h"
#include "server/snapshotter.h"

namespace raftlog::server {

struct ServerOptions {
  core::NodeId id = core::kNoNode;
  // The whole cluster, this node included: the members a new cluster
  // starts with. With `join`, only this node (its own endpoints).
  std::vector<Member> members;
  // Start knowing no members and wait to be added by the cluster's leader
  // (raftlog-ctl add-node); the configuration in the log then names them.
  bool join = false;
  std::string data_dir;
  int tick_ms = 50;
  // Every Raft setting, each with its own option (the core's names with
  // dashes); id and random_seed are set by raftlogd. The defaults are the
  // core's, except the election and heartbeat ticks (1 s and 100 ms at
  // 50 ms a tick).
  core::Config raft = DefaultRaft();
  size_t max_frame_bytes = size_t{64} << 20;
  size_t max_payload_bytes = size_t{1} << 20;            // wire::kDefaultPayloadBytes
  uint64_t producer_window = 1024;                       // wire::kMinProducerWindow
  uint64_t producer_expiry_s = uint64_t{7} * 24 * 3600;  // idle producers forgotten after; 0: never
  int send_hwm = 10000;
  std::string pub_connect;  // a broker's XSUB endpoint to publish to as well
  int pub_hwm = 100000;     // messages queued per subscriber before the PUB drops
  std::string log_level = "info";
  // Snapshots and retention (docs/snapshots.md).
  RetentionOptions retention;
  uint64_t snapshot_bytes_per_second = 0;  // per follower; 0: no limit

  static core::Config DefaultRaft() {
    core::Config c;
    c.election_ticks = 20;
    c.heartbeat_ticks = 2;
    return c;
  }
  const Member* self() const;
  const Member* member(core::NodeId id) const;
};

// What parsing decided: run with the options, or exit (after --help, or on
// an error, whose message is in status).
struct ParseResult {
  enum class Action { kRun, kExitOk, kExitError } action = Action::kRun;
  Status status;
  std::string output;  // --help text
};

ParseResult ParseOptions(int argc, const char* const* argv, ServerOptions* out);

// A duration: a number and a unit, ms, s, m, h or d ("90s", "12h", "7d");
// a number alone is seconds. InvalidInput saying what is wrong.
Status ParseDuration(const std::string& text, uint64_t* ms);

// "ID=PEER_ENDPOINT,CLIENT_ENDPOINT[,PUB_ENDPOINT]", e.g.
// "1=tcp://127.0.0.1:7001,tcp://127.0.0.1:7101,tcp://127.0.0.1:7201".
// Each endpoint must pass CheckEndpoint (other nodes and clients connect to
// it, so no wildcard port); a fourth field is an error.
Status ParseMember(const std::string& text, Member* out);

// Where an endpoint is used: connected to (an address others reach) or
// only bound (then a wildcard port "*" is allowed).
enum class EndpointUse { kConnect, kBind };

// Checks an endpoint given to raftlogd or a tool: tcp://HOST:PORT with a
// non-empty HOST and PORT 1..65535 ("*" too for kBind), or ipc://PATH with a
// non-empty PATH. inproc:// is refused: no other process can reach it.
// InvalidInput saying what is wrong.
Status CheckEndpoint(const std::string& endpoint, EndpointUse use = EndpointUse::kConnect);

// Boost.Program_options reads "-1" into an unsigned option as 2^64-1. This
// refuses a negative value for any option of desc that parsed holds with an
// unsigned type (InvalidInput naming the option). Call it on each
// parsed_options before storing it.
Status RefuseNegativeUnsigned(const boost::program_options::options_description& desc,
                              const boost::program_options::parsed_options& parsed);

}  // namespace raftlog::server
