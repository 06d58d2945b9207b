// raftlog-ctl: administers a raftlog cluster through its client endpoints.
//
//   raftlog-ctl status [--json]          every node's role, term, indexes; the leader's peers
//   raftlog-ctl append PAYLOAD...        append entries (acknowledged once committed)
//   raftlog-ctl fetch --from N [--max-count M]
//                                        committed entries, from the first node that answers
//   raftlog-ctl snapshot                 every node takes a snapshot now
//
// The cluster is named by --config (any node's config file: its peer lines)
// or by --endpoint, repeated. status asks every node at once, so a node that
// does not answer costs one --timeout-ms, however many there are. fetch asks
// the endpoints in order until one answers, and prints each entry as a JSON
// line: an event as raftlog-sub prints it, a Noop or Config entry as
// {"index":I,"term":T,"type":"noop"} (or "config"), a Command entry that is
// not an event record with "type":"command", "error" and "data_b64".
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
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

int Status_(const raftlog::ClientOptions& copts, const std::vector<std::string>& endpoints,
            bool json) {
  int failures = 0;
  std::vector<raftlog::wire::NodeStatus> leaders;
  std::vector<NodeReply> replies = AskAll(endpoints, copts);
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
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command, config;
  std::vector<std::string> endpoints, args;
  bool json = false;
  uint64_t from = 1, max_count = 100;
  int timeout_ms = 2000;

  po::options_description desc("Options");
  desc.add_options()("help,h", "print this help")(
      "config,c", po::value(&config), "a node's config file: the cluster is its peer list")(
      "endpoint,e", po::value(&endpoints)->composing(), "a node's client endpoint (repeatable)")(
      "json", po::bool_switch(&json), "status: print JSON instead of a table")(
      "from", po::value(&from), "fetch: first index")("max-count", po::value(&max_count),
                                                      "fetch: at most this many entries")(
      "timeout-ms", po::value(&timeout_ms)->default_value(timeout_ms), "per request")(
      "command", po::value(&command), "status | append | fetch | snapshot")(
      "args", po::value(&args)->composing(), "the command's arguments");
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
      "                                  {endpoint, index, term, bytes} per node\n\n";
  try {
    po::variables_map vm;
    po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(desc).positional(pos).run();
    Status negative = raftlog::server::RefuseNegativeUnsigned(desc, parsed);
    if (!negative.ok()) throw po::error(negative.message());
    po::store(parsed, vm);
    po::notify(vm);
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
