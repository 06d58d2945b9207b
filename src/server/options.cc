#include "server/options.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/limits.h"

namespace po = boost::program_options;

namespace raftlog::server {

const Member* ServerOptions::member(core::NodeId node) const {
  for (const Member& m : members) {
    if (m.id == node) return &m;
  }
  return nullptr;
}

const Member* ServerOptions::self() const {
  return member(id);
}

Status ParseMember(const std::string& text, Member* out) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidInput("peer '" + text + "': " + why +
                                " (expected ID=PEER_ENDPOINT,CLIENT_ENDPOINT[,PUB_ENDPOINT])");
  };
  size_t eq = text.find('=');
  if (eq == std::string::npos) return bad("no '='");
  const char* begin = text.data();
  auto [ptr, ec] = std::from_chars(begin, begin + eq, out->id);
  if (ec != std::errc() || ptr != begin + eq || out->id == core::kNoNode) {
    return bad("the id must be a positive integer");
  }
  std::vector<std::string> fields;
  std::string rest = text.substr(eq + 1);
  for (size_t start = 0;;) {
    size_t comma = rest.find(',', start);
    fields.push_back(rest.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (fields.size() < 2) return bad("no client endpoint");
  if (fields.size() > 3) return bad(std::to_string(fields.size()) + " endpoints, at most 3");
  static const char* const kNames[] = {"peer", "client", "pub"};
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty()) return bad(std::string("empty ") + kNames[i] + " endpoint");
    Status s = CheckEndpoint(fields[i]);
    if (!s.ok()) return bad(std::string(kNames[i]) + " endpoint: " + s.message());
  }
  out->peer_endpoint = fields[0];
  out->client_endpoint = fields[1];
  out->pub_endpoint = fields.size() > 2 ? fields[2] : "";
  return Status::Ok();
}

Status CheckEndpoint(const std::string& endpoint, EndpointUse use) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidInput("endpoint '" + endpoint + "': " + why);
  };
  const std::string tcp = "tcp://", ipc = "ipc://";
  if (endpoint.compare(0, ipc.size(), ipc) == 0) {
    if (endpoint.size() == ipc.size()) return bad("no path after ipc://");
    return Status::Ok();
  }
  if (endpoint.compare(0, tcp.size(), tcp) != 0) {
    return bad("expected tcp://HOST:PORT or ipc://PATH");
  }
  std::string address = endpoint.substr(tcp.size());
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("no port (expected tcp://HOST:PORT)");
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.empty()) return bad("no host");
  if (port == "*") {
    if (use == EndpointUse::kBind) return Status::Ok();
    return bad("a wildcard port cannot be connected to");
  }
  unsigned number = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || number == 0 ||
      number > 65535) {
    return bad("the port must be a number from 1 to 65535" +
               std::string(use == EndpointUse::kBind ? " or *" : ""));
  }
  return Status::Ok();
}

Status RefuseNegativeUnsigned(const po::options_description& desc,
                              const po::parsed_options& parsed) {
  for (const po::option& o : parsed.options) {
    if (o.unregistered || o.string_key.empty()) continue;
    const po::option_description* d = desc.find_nothrow(o.string_key, false);
    if (d == nullptr) continue;
    const po::value_semantic* v = d->semantic().get();
    bool is_unsigned =
        dynamic_cast<const po::typed_value<unsigned long>*>(v) != nullptr ||
        dynamic_cast<const po::typed_value<unsigned long long>*>(v) != nullptr ||
        dynamic_cast<const po::typed_value<unsigned int>*>(v) != nullptr ||
        dynamic_cast<const po::typed_value<unsigned short>*>(v) != nullptr ||
        dynamic_cast<const po::typed_value<std::vector<unsigned long>>*>(v) != nullptr;
    if (!is_unsigned) continue;
    for (const std::string& token : o.value) {
      size_t first = token.find_first_not_of(" \t");
      if (first != std::string::npos && token[first] == '-') {
        return Status::InvalidInput("--" + o.string_key + ": '" + token +
                                    "' is negative; expected a number >= 0");
      }
    }
  }
  return Status::Ok();
}

ParseResult ParseOptions(int argc, const char* const* argv, ServerOptions* out) {
  ParseResult result;
  ServerOptions& o = *out;
  std::vector<std::string> peers;
  std::string config_file;
  std::string pre_vote = "true", check_quorum = "true";
  std::string retain_age;
  std::string join = "false";

  po::options_description generic("Command line only");
  generic.add_options()("help,h", "print this help and exit")(
      "config,c", po::value(&config_file), "read options from this INI file too");

  po::options_description node("Node (command line or config file)");
  node.add_options()("id", po::value(&o.id)->required(), "this node's id, a positive integer")(
      "peer", po::value(&peers)->required(),
      "a cluster member, this node included, as ID=PEER_ENDPOINT,CLIENT_ENDPOINT[,PUB_ENDPOINT]; "
      "repeat for each member (peers given as flags replace the file's)")(
      "data-dir", po::value(&o.data_dir)->required(), "directory of this node's LevelDB log")(
      "join", po::value(&join)->default_value(join)->implicit_value("true"),
      "start knowing no other member and wait to be added to a running cluster (raftlog-ctl "
      "add-node); the peer list then names only this node")(
      "tick-ms", po::value(&o.tick_ms)->default_value(o.tick_ms), "milliseconds per Raft tick")(
      "election-ticks", po::value(&o.raft.election_ticks)->default_value(o.raft.election_ticks),
      "ticks without a leader before a follower stands (randomized up to twice this)")(
      "heartbeat-ticks", po::value(&o.raft.heartbeat_ticks)->default_value(o.raft.heartbeat_ticks),
      "ticks between the leader's heartbeats")("pre-vote",
                                               po::value(&pre_vote)->default_value(pre_vote),
                                               "ask for a pre-vote before standing (true/false)")(
      "check-quorum", po::value(&check_quorum)->default_value(check_quorum),
      "a leader without a quorum steps down (true/false)")(
      "max-entries-per-msg",
      po::value(&o.raft.max_entries_per_msg)->default_value(o.raft.max_entries_per_msg),
      "entries in one AppendEntries")(
      "max-bytes-per-msg",
      po::value(&o.raft.max_bytes_per_msg)->default_value(o.raft.max_bytes_per_msg),
      "bytes of entries in one AppendEntries")(
      "max-inflight-msgs",
      po::value(&o.raft.max_inflight_msgs)->default_value(o.raft.max_inflight_msgs),
      "AppendEntries in flight per follower (pipelining window)")(
      "max-inflight-bytes",
      po::value(&o.raft.max_inflight_bytes)->default_value(o.raft.max_inflight_bytes),
      "bytes of AppendEntries in flight per follower")(
      "retransmit-ticks",
      po::value(&o.raft.retransmit_ticks)->default_value(o.raft.retransmit_ticks),
      "ticks a follower may acknowledge nothing with messages in flight before it is probed "
      "again; also how long a probe waits to be re-sent (0: election-ticks / 2)")(
      "max-uncommitted-entries",
      po::value(&o.raft.max_uncommitted_entries)->default_value(o.raft.max_uncommitted_entries),
      "uncommitted entries at which the leader refuses pushes with busy")(
      "max-committed-bytes-per-ready",
      po::value(&o.raft.max_committed_bytes_per_ready)
          ->default_value(o.raft.max_committed_bytes_per_ready),
      "bytes of committed entries applied per loop turn (at least one entry)")(
      "max-frame-bytes", po::value(&o.max_frame_bytes)->default_value(o.max_frame_bytes),
      "largest frame accepted on any socket; larger ones are rejected")(
      "max-payload-bytes", po::value(&o.max_payload_bytes)->default_value(o.max_payload_bytes),
      "largest event payload a push may carry (at most 16777216); the same on every node")(
      "producer-window", po::value(&o.producer_window)->default_value(o.producer_window),
      "sequence numbers remembered per producer to answer retries (1024..65536); the same on "
      "every node")(
      "producer-expiry-s", po::value(&o.producer_expiry_s)->default_value(o.producer_expiry_s),
      "seconds of log time (event timestamps) after which a producer that pushed nothing is "
      "forgotten; a retry from it is then refused (0: never); the same on every node")(
      "send-hwm", po::value(&o.send_hwm)->default_value(o.send_hwm),
      "messages queued per peer before sends are dropped")(
      "pub-connect", po::value(&o.pub_connect),
      "also publish to this broker XSUB endpoint (raftlog-broker)")(
      "pub-hwm", po::value(&o.pub_hwm)->default_value(o.pub_hwm),
      "messages queued per subscriber before the PUB socket drops (subscribers then fetch)")(
      "log-level", po::value(&o.log_level)->default_value(o.log_level),
      "debug, info, warn or error")(
      "snapshot-every",
      po::value(&o.retention.snapshot_every)->default_value(o.retention.snapshot_every),
      "applied entries between automatic snapshots (0: only raftlog-ctl snapshot)")(
      "retain-entries", po::value(&o.retention.retain_entries),
      "keep at least the newest this many entries in the log; older ones go once a snapshot "
      "covers them (unset: no such limit)")(
      "retain-bytes", po::value(&o.retention.retain_bytes),
      "keep at most about this many bytes of entries in the log (unset: no such limit)")(
      "retain-age", po::value(&retain_age),
      "keep entries newer than this, e.g. 7d, 12h, 30m, 90s (unset: no such limit); with "
      "several retain-* limits an entry goes once any of them lets it go")(
      "snapshot-chunk-bytes",
      po::value(&o.raft.snapshot_chunk_bytes)->default_value(o.raft.snapshot_chunk_bytes),
      "bytes of snapshot data per InstallSnapshot message to a follower")(
      "snapshot-bytes-per-second",
      po::value(&o.snapshot_bytes_per_second)->default_value(o.snapshot_bytes_per_second),
      "bytes of snapshot a leader sends one follower per second (0: no limit), so that a "
      "catch-up does not starve replication");

  po::options_description all;
  all.add(generic).add(node);
  std::ostringstream help;
  help << "Usage: raftlogd --config FILE | --id N --peer ... --data-dir DIR [options]\n\n" << all;

  try {
    po::variables_map vm;
    po::parsed_options flags = po::parse_command_line(argc, argv, all);
    Status negative = RefuseNegativeUnsigned(all, flags);
    if (!negative.ok()) throw po::error(negative.message());
    // Not composing: values stored first win, so flags override the file,
    // and --peer flags replace the file's peer lines as a whole.
    po::store(flags, vm);
    if (vm.count("help")) {
      result.action = ParseResult::Action::kExitOk;
      result.output = help.str();
      return result;
    }
    if (vm.count("config")) {
      std::ifstream in(vm["config"].as<std::string>());
      if (!in) {
        throw po::error("cannot read config file '" + vm["config"].as<std::string>() + "'");
      }
      po::parsed_options file = po::parse_config_file(in, node, /*allow_unregistered=*/false);
      negative = RefuseNegativeUnsigned(node, file);
      if (!negative.ok()) throw po::error(negative.message());
      po::store(file, vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    result.action = ParseResult::Action::kExitError;
    result.status = Status::InvalidInput(e.what());
    return result;
  }

  auto fail = [&](const std::string& msg) {
    result.action = ParseResult::Action::kExitError;
    result.status = Status::InvalidInput(msg);
    return result;
  };
  auto parse_bool = [](const std::string& s, bool* b) {
    if (s == "true" || s == "1" || s == "yes" || s == "on") return *b = true, true;
    if (s == "false" || s == "0" || s == "no" || s == "off") return *b = false, true;
    return false;
  };
  if (!parse_bool(pre_vote, &o.raft.pre_vote)) return fail("pre-vote: expected true or false");
  if (!parse_bool(check_quorum, &o.raft.check_quorum))
    return fail("check-quorum: expected true or false");

  if (!parse_bool(join, &o.join)) return fail("join: expected true or false");

  std::set<core::NodeId> seen;
  for (const std::string& p : peers) {
    Member m;
    Status s = ParseMember(p, &m);
    if (!s.ok()) return fail(s.message());
    if (!seen.insert(m.id).second) return fail("peer " + std::to_string(m.id) + " listed twice");
    o.members.push_back(m);
  }
  if (o.id == core::kNoNode) return fail("id must be a positive integer");
  if (o.self() == nullptr) {
    return fail("this node's id " + std::to_string(o.id) + " is not in the peer list");
  }
  if (o.join && o.members.size() > 1) {
    return fail("with join, the peer list names only this node (" + std::to_string(o.id) +
                "): the others are learned from the cluster that adds it");
  }
  if (o.tick_ms <= 0) return fail("tick-ms must be positive");
  {
    // The Raft settings as the core checks them, named as their options.
    core::Config check = o.raft;
    check.id = o.id;
    if (Status s = check.validate(); !s.ok()) {
      std::string why = s.message();
      if (why.rfind("config: ", 0) == 0) why = why.substr(8);
      std::replace(why.begin(), why.end(), '_', '-');
      return fail(why);
    }
  }
  if (o.producer_window < wire::kMinProducerWindow ||
      o.producer_window > wire::kMaxProducerWindow) {
    return fail("producer-window must be " + std::to_string(wire::kMinProducerWindow) + ".." +
                std::to_string(wire::kMaxProducerWindow));
  }
  if (o.producer_expiry_s > 10ull * 365 * 24 * 3600) {
    return fail("producer-expiry-s must be at most ten years (315360000)");
  }
  if (o.max_payload_bytes == 0 || o.max_payload_bytes > wire::kMaxPayloadBytes) {
    return fail("max-payload-bytes must be 1.." + std::to_string(wire::kMaxPayloadBytes));
  }
  // Every node's frames must hold what any leader sends: its largest batch,
  // or one entry of the largest event (the same limits on every node).
  const size_t entry_bytes = wire::EntryBytesFor(o.max_payload_bytes);
  if (const size_t need = wire::MinPeerFrameBytes(o.raft.max_bytes_per_msg, entry_bytes);
      o.max_frame_bytes < need) {
    return fail(
        "max-frame-bytes must be at least " + std::to_string(need) +
        ": an AppendEntries of max-bytes-per-msg (" + std::to_string(o.raft.max_bytes_per_msg) +
        ") or of one entry of the largest event (" + std::to_string(entry_bytes) +
        " bytes with max-payload-bytes " + std::to_string(o.max_payload_bytes) + ") must fit");
  }
  if (o.send_hwm <= 0) return fail("send-hwm must be positive");
  if (o.pub_hwm <= 0) return fail("pub-hwm must be positive");
  if (!o.pub_connect.empty()) {
    Status s = CheckEndpoint(o.pub_connect);
    if (!s.ok()) return fail("pub-connect: " + s.message());
  }
  if (!retain_age.empty()) {
    Status s = ParseDuration(retain_age, &o.retention.retain_age_ms);
    if (!s.ok()) return fail("retain-age: " + s.message());
    if (o.retention.retain_age_ms == 0) return fail("retain-age must be more than 0");
  }
  if (o.raft.snapshot_chunk_bytes == 0) return fail("snapshot-chunk-bytes must be positive");
  // A chunk travels in one peer frame, with its envelope.
  if (o.raft.snapshot_chunk_bytes + 4096 > o.max_frame_bytes) {
    return fail("snapshot-chunk-bytes must be at most max-frame-bytes - 4096 (" +
                std::to_string(o.max_frame_bytes - 4096) + ")");
  }
  if (o.snapshot_bytes_per_second > 0) {
    // The core counts per tick; at least one byte a tick.
    o.raft.snapshot_bytes_per_tick = std::max<uint64_t>(
        1, o.snapshot_bytes_per_second * static_cast<uint64_t>(o.tick_ms) / 1000);
  }
  static const std::set<std::string> levels = {"debug", "info", "warn", "error"};
  if (!levels.count(o.log_level)) return fail("log-level must be debug, info, warn or error");
  return result;
}

Status ParseDuration(const std::string& text, uint64_t* ms) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidInput("'" + text + "': " + why +
                                " (expected a number and a unit: ms, s, m, h or d)");
  };
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad("no number");
  if (digits > 12) return bad("too large");
  const uint64_t n = std::stoull(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  static const std::map<std::string, uint64_t> kUnits = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end()) return bad("unknown unit '" + unit + "'");
  if (n > UINT64_MAX / 1000 / it->second) return bad("too large");
  *ms = n * it->second;
  return Status::Ok();
}

}  // namespace raftlog::server
