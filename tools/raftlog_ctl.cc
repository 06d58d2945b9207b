// raftlog-ctl: administers a raftlog cluster through its client endpoints.
//
//   raftlog-ctl status [--json]          every node's role, term, indexes; the leader's peers
//   raftlog-ctl append PAYLOAD...        append entries (acknowledged once committed)
//   raftlog-ctl fetch --from N [--max-count M] [--endpoint E]
//
// The cluster is named by --config (any node's config file: its peer lines)
// or by --endpoint, repeated.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "config_endpoints.h"
#include "raftlog/client.h"

namespace po = boost::program_options;
using raftlog::Status;

namespace {

std::string JsonString(const std::string& s) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (c < 0x20 || c >= 0x7f) {
      out << "\\u" << std::hex << std::setw(4) << std::setfill('0') << static_cast<int>(c)
          << std::dec;
    } else {
      out << c;
    }
  }
  out << '"';
  return out.str();
}

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
      return JsonString(v.as_str());
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

int Status_(raftlog::Client& client, const std::vector<std::string>& endpoints, bool json) {
  int failures = 0;
  std::vector<std::string> rows;
  std::vector<raftlog::wire::NodeStatus> leaders;
  if (!json) {
    std::printf("%-4s %-24s %-13s %6s %6s %10s %10s %8s %10s\n", "ID", "ENDPOINT", "ROLE", "TERM",
                "LEADER", "COMMIT", "APPLIED", "HEAD", "LAST");
  }
  std::string out = "[";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const std::string& e = endpoints[i];
    raftlog::wire::NodeStatus st;
    raftlog::wire::Value::Map counters;
    Status s = client.status(e, &st, &counters);
    if (json) {
      out += i ? "," : "";
      if (!s.ok()) {
        out += "{\"endpoint\":" + JsonString(e) + ",\"error\":" + JsonString(s.ToString()) + "}";
      } else {
        raftlog::wire::Value::Map body = raftlog::wire::EncodeStatusBody(st);
        body.emplace(body.begin(), "endpoint", raftlog::wire::Value::Str(e));
        body.emplace_back("counters", raftlog::wire::Value::MakeMap(counters));
        out += JsonValue(raftlog::wire::Value::MakeMap(body));
      }
    } else if (!s.ok()) {
      std::printf("%-4s %-24s unreachable: %s\n", "?", e.c_str(), s.ToString().c_str());
    } else {
      std::printf("%-4llu %-24s %-13s %6llu %6llu %10llu %10llu %8llu %10llu\n",
                  static_cast<unsigned long long>(st.id), e.c_str(),
                  raftlog::core::RoleName(st.role), static_cast<unsigned long long>(st.term),
                  static_cast<unsigned long long>(st.leader),
                  static_cast<unsigned long long>(st.commit_index),
                  static_cast<unsigned long long>(st.applied_index),
                  static_cast<unsigned long long>(st.head_index),
                  static_cast<unsigned long long>(st.last_index));
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
      "command", po::value(&command), "status | append | fetch")(
      "args", po::value(&args)->composing(), "the command's arguments");
  po::positional_options_description pos;
  pos.add("command", 1).add("args", -1);
  const char* usage =
      "Usage: raftlog-ctl (--config FILE | --endpoint E...) COMMAND [ARGS]\n"
      "Commands:\n"
      "  status [--json]                 each node's role, term and indexes; the leader's peers\n"
      "  append PAYLOAD...               append each payload, wait for its commit, print its "
      "index\n"
      "  fetch --from N [--max-count M]  committed entries from the first endpoint\n\n";
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
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
  raftlog::ClientOptions copts;
  copts.endpoints = endpoints;
  copts.request_timeout = std::chrono::milliseconds(timeout_ms);
  raftlog::Client client(copts);

  if (command == "status") return Status_(client, endpoints, json);
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
  if (command == "fetch") {
    raftlog::wire::FetchArgs fa;
    fa.from = from;
    fa.max_count = max_count;
    raftlog::wire::FetchResult r;
    Status s = client.fetch(endpoints.front(), fa, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "raftlog-ctl: fetch failed: %s\n", s.ToString().c_str());
      return 1;
    }
    for (const auto& e : r.entries) {
      std::printf("{\"index\":%llu,\"term\":%llu,\"type\":\"%s\",\"data\":%s}\n",
                  static_cast<unsigned long long>(e.index), static_cast<unsigned long long>(e.term),
                  raftlog::core::EntryTypeName(e.type), JsonString(e.data).c_str());
    }
    return 0;
  }
  std::cerr << "raftlog-ctl: unknown command '" << command << "'\n" << usage;
  return 2;
}
