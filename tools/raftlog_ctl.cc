// raftlog-ctl: administers a raftlog cluster through its client endpoints.
//
//   raftlog-ctl status [--json]          every node's role, term, indexes; the leader's peers
//   raftlog-ctl append PAYLOAD...        append entries (acknowledged once committed)
//   raftlog-ctl fetch --from N [--max-count M]
//                                        committed entries, from the first node that answers
//   raftlog-ctl snapshot                 every node takes a snapshot now
//   raftlog-ctl add-learner ID=PEER,CLIENT[,PUB]
//   raftlog-ctl add-node ID=PEER,CLIENT[,PUB]
//   raftlog-ctl promote ID | remove-node ID
//   raftlog-ctl transfer-leader [ID]
//   raftlog-ctl read-index
//
// The membership commands (docs/operations.md) send the change to the
// leader, then poll every node's status until the leader has the target
// configuration in force and committed, or the change was given up, or
// --timeout-ms passed (60000 for them when not given); they print each
// phase as it comes and the outcome. status also asks the members the
// configuration's address book names and the given list lacks.
//
// The cluster is named by --config (any node's config file: its peer lines)
// or by --endpoint, repeated. status asks every node at once, so a node that
// does not answer costs one --timeout-ms, however many there are. fetch asks
// the endpoints in order until one answers, and prints each entry as a JSON
// line: an event as raftlog-sub prints it, a Noop or Config entry as
// {"index":I,"term":T,"type":"noop"} (or "config"), a Command entry that is
// not an event record with "type":"command", "error" and "data_b64".
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <set>
#include <thread>

#include "config_endpoints.h"
#include "event_json.h"
#include "raftlog/client.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/value.h"

namespace po = boost::program_options;
using raftlog::Status;

namespace {

using raftlog::tools::JsonString;
using raftlog::tools::JsonText;

std::string JsonValue(const raftlog::wire::Value& v) {
  using K = raftlog::wire::Value::Kind;
  switch (v.kind()) {
    case K::kNil:
      return "null";
    case K::kBool:
      return v.as_bool() ? "true" : "false";
    case K::kInt:
      return std::to_string(v.as_int());
    case K::kUint:
      return std::to_string(v.as_uint());
    case K::kStr:
    case K::kBin:
      return JsonText(v.as_str());
    case K::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        out += (i ? "," : "") + JsonValue(v.as_array()[i]);
      }
      return out + "]";
    }
    case K::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : v.as_map()) {
        out += (first ? "" : ",") + JsonString(k) + ":" + JsonValue(x);
        first = false;
      }
      return out + "}";
    }
  }
  return "null";
}

// 1536 -> "1.5K", as ls -h does (K = 1024).
std::string HumanBytes(uint64_t n) {
  const char* units = "BKMGTP";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
  }
  return buf;
}

// One node's answer to status.
struct NodeReply {
  Status status;
  raftlog::wire::NodeStatus st;
  raftlog::NodeCounters counters;
};

// Asks every endpoint at once (a Client per thread: a Client is not
// thread-safe), so that nodes that do not answer cost one timeout in all.
std::vector<NodeReply> AskAll(const std::vector<std::string>& endpoints,
                              const raftlog::ClientOptions& copts) {
  std::vector<NodeReply> replies(endpoints.size());
  std::vector<std::thread> threads;
  threads.reserve(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    threads.emplace_back([&, i] {
      raftlog::Client client(copts);
      NodeReply& r = replies[i];
      r.status = client.status(endpoints[i], &r.st, &r.counters);
    });
  }
  for (std::thread& t : threads) t.join();
  return replies;
}

std::string Ids(const std::vector<raftlog::core::NodeId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

// Asks every endpoint, then the members the replies' address books name
// that the list lacks (a node added after the config file was written).
std::vector<NodeReply> AskCluster(std::vector<std::string>* endpoints,
                                  const raftlog::ClientOptions& copts) {
  std::vector<NodeReply> replies = AskAll(*endpoints, copts);
  std::set<std::string> known(endpoints->begin(), endpoints->end());
  std::vector<std::string> more;
  for (const NodeReply& r : replies) {
    if (!r.status.ok()) continue;
    for (const auto& m : r.st.members) {
      if (!m.client.empty() && known.insert(m.client).second) more.push_back(m.client);
    }
  }
  if (more.empty()) return replies;
  std::vector<NodeReply> extra = AskAll(more, copts);
  endpoints->insert(endpoints->end(), more.begin(), more.end());
  replies.insert(replies.end(), extra.begin(), extra.end());
  return replies;
}

// The answer of the leader with the highest term, if any answered.
const raftlog::wire::NodeStatus* LeaderOf(const std::vector<NodeReply>& replies) {
  const raftlog::wire::NodeStatus* best = nullptr;
  for (const NodeReply& r : replies) {
    if (!r.status.ok() || r.st.role != raftlog::core::Role::kLeader) continue;
    if (best == nullptr || r.st.term > best->term) best = &r.st;
  }
  return best;
}

int Status_(const raftlog::ClientOptions& copts, std::vector<std::string> endpoints, bool json) {
  int failures = 0;
  std::vector<raftlog::wire::NodeStatus> leaders;
  std::vector<NodeReply> replies = AskCluster(&endpoints, copts);
  if (!json) {
    std::printf("%-4s %-24s %-13s %6s %6s %10s %10s %10s %10s %10s %10s\n", "ID", "ENDPOINT",
                "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "HEAD", "LAST", "SNAPSHOT", "DISK");
  }
  std::string out = "[";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const std::string& e = endpoints[i];
    const raftlog::wire::NodeStatus& st = replies[i].st;
    const raftlog::NodeCounters& counters = replies[i].counters;
    const Status& s = replies[i].status;
    if (json) {
      out += i ? "," : "";
      if (!s.ok()) {
        out += "{\"endpoint\":" + JsonString(e) + ",\"error\":" + JsonString(s.ToString()) + "}";
      } else {
        raftlog::wire::Value::Map body = raftlog::wire::EncodeStatusBody(st);
        body.emplace(body.begin(), "endpoint", raftlog::wire::Value::Str(e));
        raftlog::wire::Value::Map counter_map;
        for (const auto& [name, value] : counters) {
          counter_map.emplace_back(name, raftlog::wire::Value::Uint(value));
        }
        body.emplace_back("counters", raftlog::wire::Value::MakeMap(std::move(counter_map)));
        out += JsonValue(raftlog::wire::Value::MakeMap(body));
      }
    } else if (!s.ok()) {
      std::printf("%-4s %-24s unreachable: %s\n", "?", e.c_str(), s.ToString().c_str());
    } else {
      auto counter = [&](const char* name) -> unsigned long long {
        for (const auto& [n, v] : counters) {
          if (n == name) return v;
        }
        return 0;
      };
      std::printf("%-4llu %-24s %-13s %6llu %6llu %10llu %10llu %10llu %10llu %10llu %10s\n",
                  static_cast<unsigned long long>(st.id), e.c_str(),
                  raftlog::core::RoleName(st.role), static_cast<unsigned long long>(st.term),
                  static_cast<unsigned long long>(st.leader),
                  static_cast<unsigned long long>(st.commit_index),
                  static_cast<unsigned long long>(st.applied_index),
                  static_cast<unsigned long long>(st.head_index),
                  static_cast<unsigned long long>(st.last_index), counter("snapshot_index"),
                  HumanBytes(counter("disk_bytes")).c_str());
    }
    if (!s.ok()) ++failures;
    if (s.ok() && st.role == raftlog::core::Role::kLeader) leaders.push_back(st);
  }
  if (json) {
    std::printf("%s]\n", out.c_str());
  } else {
    for (const auto& l : leaders) {
      std::printf("\nleader %llu (term %llu) replication:\n", static_cast<unsigned long long>(l.id),
                  static_cast<unsigned long long>(l.term));
      std::printf("  %-4s %10s %10s %8s %-12s %s\n", "PEER", "MATCH", "NEXT", "LAG", "STATE",
                  "ACTIVE");
      for (const auto& p : l.peers) {
        std::printf("  %-4llu %10llu %10llu %8llu %-12s %s\n",
                    static_cast<unsigned long long>(p.id), static_cast<unsigned long long>(p.match),
                    static_cast<unsigned long long>(p.next), static_cast<unsigned long long>(p.lag),
                    p.replicating ? "replicating" : "probing", p.active ? "yes" : "no");
      }
    }
    if (leaders.empty()) std::printf("\nno leader among the reachable nodes\n");
    // The configuration: the leader's, else the first node's that answered.
    const raftlog::wire::NodeStatus* view = LeaderOf(replies);
    for (const NodeReply& r : replies) {
      if (view == nullptr && r.status.ok()) view = &r.st;
    }
    if (view != nullptr) {
      std::printf("\nconfiguration (node %llu's): voters %s",
                  static_cast<unsigned long long>(view->id), Ids(view->voters).c_str());
      if (!view->voters_outgoing.empty()) {
        std::printf(" (joint with %s)", Ids(view->voters_outgoing).c_str());
      }
      std::printf(", learners %s, from index %llu, change phase: %s\n", Ids(view->learners).c_str(),
                  static_cast<unsigned long long>(view->config_index), view->config_phase.c_str());
      for (const auto& c : view->catch_up) {
        std::printf("  node %llu catching up: %llu entries behind\n",
                    static_cast<unsigned long long>(c.id),
                    static_cast<unsigned long long>(c.behind));
      }
      if (view->transfer_target != 0) {
        std::printf("  leadership transfer to node %llu in progress\n",
                    static_cast<unsigned long long>(view->transfer_target));
      }
      if (!view->config_error.empty()) {
        std::printf("  last change given up: %s\n", view->config_error.c_str());
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

// What a membership command waits for.
struct Target {
  raftlog::core::NodeId id = 0;
  enum class Want { kVoter, kLearner, kGone } want = Want::kVoter;
  bool holds(const raftlog::wire::NodeStatus& st) const {
    auto has = [&](const std::vector<raftlog::core::NodeId>& v) {
      return std::find(v.begin(), v.end(), id) != v.end();
    };
    if (!st.voters_outgoing.empty() || st.config_phase != "stable") return false;
    if (st.commit_index < st.config_index) return false;
    switch (want) {
      case Want::kVoter:
        return has(st.voters);
      case Want::kLearner:
        return has(st.learners);
      case Want::kGone:
        return !has(st.voters) && !has(st.learners);
    }
    return false;
  }
};

// Polls the cluster until the leader has `target` in force and committed
// (0), the change was given up (1, with the core's reason), or the wait
// ends (1). Prints each phase as it comes.
int WaitForChange(const raftlog::ClientOptions& copts, std::vector<std::string> endpoints,
                  const Target& target, const std::string& error_before,
                  std::chrono::milliseconds wait) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + wait;
  std::string last_phase;
  std::string where;
  raftlog::core::Term first_term = 0;
  for (;;) {
    std::vector<NodeReply> replies = AskCluster(&endpoints, copts);
    const raftlog::wire::NodeStatus* leader = LeaderOf(replies);
    const long long ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    if (leader != nullptr) {
      if (target.holds(*leader)) {
        std::printf(
            "done after %lld ms: voters %s, learners %s (configuration at index %llu, "
            "committed; leader %llu)\n",
            ms, Ids(leader->voters).c_str(), Ids(leader->learners).c_str(),
            static_cast<unsigned long long>(leader->config_index),
            static_cast<unsigned long long>(leader->id));
        return 0;
      }
      if (!leader->config_error.empty() && leader->config_error != error_before &&
          leader->config_phase == "stable") {
        std::fprintf(stderr, "raftlog-ctl: the change was given up: %s\n",
                     leader->config_error.c_str());
        return 1;
      }
      // A change in progress is the leader's: a new leader does not carry
      // a catch-up on. Stable under another leader without the target in
      // force means the change stopped; waiting on would only time out.
      if (first_term == 0) first_term = leader->term;
      if (leader->term != first_term && leader->config_phase == "stable") {
        std::fprintf(
            stderr,
            "raftlog-ctl: the leader changed (now node %llu, term %llu) before the "
            "change was done, and nothing is in progress any more: run the command "
            "again (a node added as a learner meanwhile is promoted with `promote %llu`)\n",
            static_cast<unsigned long long>(leader->id),
            static_cast<unsigned long long>(leader->term),
            static_cast<unsigned long long>(target.id));
        return 1;
      }
      std::string phase = leader->config_phase;
      where = "phase " + phase;
      for (const auto& c : leader->catch_up) {
        where += ", node " + std::to_string(c.id) + " is " + std::to_string(c.behind) +
                 " entries behind";
      }
      if (phase != last_phase) {
        std::printf("%lld ms: phase %s\n", ms, phase.c_str());
        std::fflush(stdout);
        last_phase = phase;
      }
    } else {
      where = "no leader among the reachable nodes";
    }
    if (Clock::now() >= end) {
      std::fprintf(stderr, "raftlog-ctl: not done after %lld ms (%s)\n", ms, where.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The leader's last given-up change before this command, to tell a new one.
std::string ConfigErrorNow(const raftlog::ClientOptions& copts,
                           std::vector<std::string> endpoints) {
  std::vector<NodeReply> replies = AskCluster(&endpoints, copts);
  const raftlog::wire::NodeStatus* leader = LeaderOf(replies);
  return leader != nullptr ? leader->config_error : "";
}

bool ParseId(const std::string& text, raftlog::core::NodeId* id) {
  try {
    size_t used = 0;
    unsigned long long v = std::stoull(text, &used);
    if (used != text.size() || v == 0 || text[0] == '-') return false;
    *id = v;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string command, config;
  std::vector<std::string> endpoints, args;
  bool json = false;
  uint64_t from = 1, max_count = 100;
  int timeout_ms = 2000;
  bool timeout_given = false;

  po::options_description desc("Options");
  desc.add_options()("help,h", "print this help")(
      "config,c", po::value(&config), "a node's config file: the cluster is its peer list")(
      "endpoint,e", po::value(&endpoints)->composing(), "a node's client endpoint (repeatable)")(
      "json", po::bool_switch(&json), "status: print JSON instead of a table")(
      "from", po::value(&from), "fetch: first index")("max-count", po::value(&max_count),
                                                      "fetch: at most this many entries")(
      "timeout-ms", po::value(&timeout_ms)->default_value(timeout_ms),
      "per request; membership and transfer commands: the whole wait for the outcome "
      "(default 60000 for them)")(
      "command", po::value(&command),
      "status | append | fetch | snapshot | add-learner | add-node | promote | remove-node | "
      "transfer-leader | read-index")("args", po::value(&args)->composing(),
                                      "the command's arguments");
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  const char* usage =
      "Usage: raftlog-ctl (--config FILE | --endpoint E...) COMMAND [ARGS]\n"
      "Commands:\n"
      "  status [--json]                 each node's role, term and indexes; the leader's peers\n"
      "  append PAYLOAD...               append each payload, wait for its commit, print its "
      "index\n"
      "  fetch --from N [--max-count M]  committed entries, from the first node that answers,\n"
      "                                  as JSON lines (events as raftlog-sub prints them)\n"
      "  snapshot                        each node saves a snapshot of what it applied now\n"
      "                                  (and compacts as its retention allows); prints\n"
      "                                  {endpoint, index, term, bytes} per node\n"
      "  add-learner ID=PEER,CLIENT[,PUB] add a non-voting member (it receives the log)\n"
      "  add-node ID=PEER,CLIENT[,PUB]    add a voter: it catches up as a learner, then\n"
      "                                  joins the voters (joint consensus)\n"
      "  promote ID                      a learner becomes a voter\n"
      "  remove-node ID                  remove a member (the leader too)\n"
      "  transfer-leader [ID]            hand leadership to ID (default: the most\n"
      "                                  up-to-date other voter)\n"
      "  read-index                      a linearizable read point: an index the\n"
      "                                  node applied through, confirmed by the leader\n"
      "The membership and transfer commands wait for the outcome up to --timeout-ms\n"
      "(default 60000 for them) and print it.\n\n";
  try {
    po::variables_map vm;
    po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(desc).positional(pos).run();
    Status negative = raftlog::server::RefuseNegativeUnsigned(desc, parsed);
    if (!negative.ok()) throw po::error(negative.message());
    po::store(parsed, vm);
    po::notify(vm);
    timeout_given = !vm["timeout-ms"].defaulted();
    if (vm.count("help") || command.empty()) {
      std::cout << usage << desc;
      return vm.count("help") ? 0 : 2;
    }
  } catch (const po::error& e) {
    std::cerr << "raftlog-ctl: " << e.what() << "\n" << usage;
    return 2;
  }
  if (!config.empty()) {
    Status s = raftlog::tools::EndpointsFromConfig(config, &endpoints);
    if (!s.ok()) {
      std::cerr << "raftlog-ctl: " << s.message() << "\n";
      return 2;
    }
  }
  if (endpoints.empty()) {
    std::cerr << "raftlog-ctl: name the cluster with --config or --endpoint\n";
    return 2;
  }
  for (const std::string& e : endpoints) {
    Status s = raftlog::server::CheckEndpoint(e);
    if (!s.ok()) {
      std::cerr << "raftlog-ctl: " << s.message() << "\n";
      return 2;
    }
  }
  if (timeout_ms <= 0) {
    std::cerr << "raftlog-ctl: --timeout-ms must be positive\n";
    return 2;
  }
  if (command == "fetch" && (from == 0 || max_count == 0)) {
    std::cerr << "raftlog-ctl: fetch: --from and --max-count must be >= 1\n";
    return 2;
  }
  raftlog::ClientOptions copts;
  copts.endpoints = endpoints;
  copts.request_timeout = std::chrono::milliseconds(timeout_ms);
  raftlog::Client client(copts);

  if (command == "status") return Status_(copts, endpoints, json);

  const bool membership = command == "add-learner" || command == "add-node" ||
                          command == "promote" || command == "remove-node";
  if (membership || command == "transfer-leader") {
    const auto wait = std::chrono::milliseconds(timeout_given ? timeout_ms : 60000);
    // One request waits at most 2 s: a node that does not answer is not
    // the one to wait on.
    raftlog::ClientOptions request_opts = copts;
    request_opts.request_timeout = std::min(wait, std::chrono::milliseconds(2000));
    raftlog::Client admin(request_opts);
    auto usage_error = [&](const std::string& why) {
      std::cerr << "raftlog-ctl: " << command << ": " << why << "\n";
      return 2;
    };
    if (command == "transfer-leader") {
      raftlog::core::NodeId id = 0;
      if (args.size() > 1) return usage_error("expected at most one node id");
      if (args.size() == 1 && !ParseId(args[0], &id)) {
        return usage_error("'" + args[0] + "' is not a node id (a positive integer)");
      }
      raftlog::core::NodeId target = 0;
      const auto start = std::chrono::steady_clock::now();
      Status s = admin.transfer_leader(id, wait, &target);
      if (!s.ok()) {
        std::fprintf(stderr, "raftlog-ctl: transfer-leader: %s\n", s.ToString().c_str());
        return 1;
      }
      std::printf("transferring leadership to node %llu\n",
                  static_cast<unsigned long long>(target));
      std::fflush(stdout);
      const auto end = start + wait;
      for (;;) {
        std::vector<std::string> eps = endpoints;
        std::vector<NodeReply> replies = AskCluster(&eps, request_opts);
        const raftlog::wire::NodeStatus* leader = LeaderOf(replies);
        const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
        if (leader != nullptr && leader->id == target) {
          std::printf("done after %lld ms: node %llu leads (term %llu)\n", ms,
                      static_cast<unsigned long long>(target),
                      static_cast<unsigned long long>(leader->term));
          return 0;
        }
        if (std::chrono::steady_clock::now() >= end) {
          std::fprintf(stderr,
                       "raftlog-ctl: transfer-leader: node %llu does not lead after %lld ms "
                       "(the leader gives a transfer up after an election timeout)\n",
                       static_cast<unsigned long long>(target), ms);
          return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (args.size() != 1) {
      return usage_error(
          command == "add-learner" || command == "add-node"
              ? "expected one member: ID=PEER_ENDPOINT,CLIENT_ENDPOINT[,PUB_ENDPOINT]"
              : "expected one node id");
    }
    Target target;
    raftlog::wire::ChangeResult result;
    const std::string error_before = ConfigErrorNow(request_opts, endpoints);
    Status s;
    if (command == "add-learner" || command == "add-node") {
      raftlog::server::Member m;
      s = raftlog::server::ParseMember(args[0], &m);
      if (!s.ok()) return usage_error(s.message());
      raftlog::wire::MemberEndpoints e{m.id, m.peer_endpoint, m.client_endpoint, m.pub_endpoint};
      target.id = m.id;
      if (command == "add-learner") {
        target.want = Target::Want::kLearner;
        s = admin.add_learner(e, wait, &result);
      } else {
        s = admin.add_node(e, wait, &result);
      }
    } else {
      if (!ParseId(args[0], &target.id)) {
        return usage_error("'" + args[0] + "' is not a node id (a positive integer)");
      }
      if (command == "promote") {
        s = admin.promote(target.id, wait, &result);
      } else {
        target.want = Target::Want::kGone;
        s = admin.remove_node(target.id, wait, &result);
      }
    }
    if (!s.ok()) {
      std::fprintf(stderr, "raftlog-ctl: %s: %s\n", command.c_str(), s.ToString().c_str());
      return 1;
    }
    std::printf("%s %llu: accepted by the leader (phase %s), target voters %s, learners %s\n",
                command.c_str(), static_cast<unsigned long long>(target.id), result.phase.c_str(),
                Ids(result.voters).c_str(), Ids(result.learners).c_str());
    std::fflush(stdout);
    return WaitForChange(request_opts, endpoints, target, error_before, wait);
  }
  if (command == "read-index") {
    for (const std::string& e : endpoints) {
      raftlog::core::LogIndex index = 0;
      Status s = client.read_index(e, &index);
      if (!s.ok()) {
        std::fprintf(stderr, "raftlog-ctl: read-index on %s: %s\n", e.c_str(),
                     s.ToString().c_str());
        continue;
      }
      std::printf("{\"endpoint\":%s,\"index\":%llu}\n", JsonString(e).c_str(),
                  static_cast<unsigned long long>(index));
      return 0;
    }
    std::fprintf(stderr, "raftlog-ctl: no node could give a read index\n");
    return 1;
  }
  if (command == "append") {
    int failures = 0;
    for (const std::string& payload : args) {
      raftlog::wire::AppendResult r;
      Status s = client.append(payload, std::chrono::milliseconds(timeout_ms * 3), &r);
      if (s.ok()) {
        std::printf("{\"index\":%llu,\"term\":%llu}\n", static_cast<unsigned long long>(r.index),
                    static_cast<unsigned long long>(r.term));
      } else {
        std::fprintf(stderr, "raftlog-ctl: append failed: %s\n", s.ToString().c_str());
        ++failures;
      }
    }
    return failures == 0 ? 0 : 1;
  }
  if (command == "snapshot") {
    int failures = 0;
    for (const std::string& e : endpoints) {
      raftlog::wire::SnapshotResult r;
      // Encoding and writing a large state takes longer than a request.
      Status s = client.snapshot(e, std::chrono::milliseconds(timeout_ms) * 5, &r);
      if (s.ok()) {
        std::printf("{\"endpoint\":%s,\"index\":%llu,\"term\":%llu,\"bytes\":%llu}\n",
                    JsonString(e).c_str(), static_cast<unsigned long long>(r.index),
                    static_cast<unsigned long long>(r.term),
                    static_cast<unsigned long long>(r.bytes));
      } else {
        std::fprintf(stderr, "raftlog-ctl: snapshot on %s failed: %s\n", e.c_str(),
                     s.ToString().c_str());
        ++failures;
      }
    }
    return failures == 0 ? 0 : 1;
  }
  if (command == "fetch") {
    raftlog::wire::FetchArgs fa;
    fa.from = from;
    fa.max_count = max_count;
    // Any node serves committed entries: the first that answers.
    for (const std::string& e : endpoints) {
      raftlog::wire::FetchResult r;
      Status s = client.fetch(e, fa, &r);
      if (!s.ok()) {
        std::fprintf(stderr, "raftlog-ctl: fetch from %s failed: %s\n", e.c_str(),
                     s.ToString().c_str());
        continue;
      }
      for (const auto& entry : r.entries) {
        std::printf("%s\n", raftlog::tools::EntryJson(entry).c_str());
      }
      return 0;
    }
    std::fprintf(stderr, "raftlog-ctl: no node could serve the fetch\n");
    return 1;
  }
  std::cerr << "raftlog-ctl: unknown command '" << command << "'\n" << usage;
  return 2;
}
