// raftlog-sub: prints every committed event of a raftlog cluster, exactly
// once and in log order (a raftlog::Subscriber).
//
//   raftlog-sub (-c CONF | --pub E... --endpoint E...) [--topic PREFIX]...
//               [--from N | --from-latest | --position-file F] [--raw]
//               [--count N] [--idle-exit-ms T] [--rcvhwm N] [--skip-compacted]
//
// stdout, one line per event, flushed per event:
//   {"index":I,"term":T,"topic":"...","producer":"...","seq":S,"timestamp":MS,"payload":"text"}
// with "payload_b64":"..." instead of "payload" when the payload is not
// UTF-8 text (or holds a control character other than tab). --raw prints
// the payload bytes and "\n" instead.
//
// Start: --from-latest by default. --position-file F resumes after the
// index F holds and keeps F up to date (at least once a second, and on
// exit); when F does not exist yet it starts at --from N if given, else at
// the latest.
//
// When no node has answered for 2 seconds (no PUB message, no reply to a
// fetch), it says so on stderr, naming the endpoints, and keeps trying; it
// says so again once a node answers.
//
// Behind the log head: when the events it needs next were compacted away on
// every node (a --from or a position file older than the nodes' retention),
// it says so, naming the earliest index held, and exits 1. With
// --skip-compacted it says so and goes on from the earliest index held
// instead: the events in between are lost to it, and the message names
// them.
//
// Exit status: 0 after --count events, after --idle-exit-ms without an
// event, or on SIGTERM/SIGINT (at once, also in the middle of a fetch); 1 on
// an error (e.g. the range asked for was compacted), or when --idle-exit-ms
// passes without any node ever having answered; 2 for a usage error.
#include <signal.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "config_endpoints.h"
#include "event_json.h"
#include "raftlog/subscriber.h"

namespace po = boost::program_options;
using raftlog::Status;
using raftlog::SubscriberOptions;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// Silence from every node for this long is reported on stderr.
constexpr milliseconds kUnreachableAfter{2000};

volatile sig_atomic_t g_stop = 0;
void OnSignal(int /*sig*/) {
  g_stop = 1;
}

struct Args {
  std::string config;
  std::vector<std::string> pubs;
  std::vector<std::string> endpoints;
  std::vector<std::string> topics;
  uint64_t from = 0;
  bool from_latest = false;
  std::string position_file;
  bool raw = false;
  uint64_t count = 0;        // 0: no limit
  int64_t idle_exit_ms = 0;  // 0: never
  int rcvhwm = 0;
  bool skip_compacted = false;
};

// The PUB and client endpoints of every member in a node's config file.
Status EndpointsFromConfig(const std::string& path, Args* args) {
  std::vector<raftlog::server::Member> members;
  Status s = raftlog::tools::MembersFromConfig(path, &members);
  if (!s.ok()) return s;
  for (const raftlog::server::Member& m : members) {
    args->endpoints.push_back(m.client_endpoint);
    if (!m.pub_endpoint.empty()) args->pubs.push_back(m.pub_endpoint);
  }
  if (args->pubs.empty()) return Status::InvalidInput(path + ": no member has a PUB endpoint");
  return Status::Ok();
}

// Parses argv into *args. Returns -1 to go on, else the exit status.
int ParseArgs(int argc, char** argv, Args* args) {
  po::options_description desc(
      "Usage: raftlog-sub (-c CONF | --pub E... --endpoint E...) [options]\n"
      "Prints every committed event once, in log order, as JSON lines");
  desc.add_options()("help,h", "print this help and exit")(
      "config,c", po::value(&args->config),
      "a node's config file: the cluster's PUB and client endpoints from its peer lines")(
      "pub", po::value(&args->pubs)->multitoken()->composing(),
      "a PUB endpoint (a node's or a broker's XPUB); repeatable")(
      "endpoint", po::value(&args->endpoints)->multitoken()->composing(),
      "a node's client endpoint, to fetch missed events from; repeatable")(
      "topic", po::value(&args->topics)->composing(),
      "deliver topics with this prefix; repeatable (default: every topic)")(
      "from", po::value(&args->from), "start at this index")(
      "from-latest", po::bool_switch(&args->from_latest),
      "start with the live stream (the default)")(
      "position-file", po::value(&args->position_file),
      "resume after the index this file holds, and keep it up to date; without the file yet, "
      "start at --from if given, else at the latest")(
      "raw", po::bool_switch(&args->raw), "print raw payloads, each followed by a newline")(
      "count", po::value(&args->count), "exit after this many events")(
      "idle-exit-ms", po::value(&args->idle_exit_ms),
      "exit after this many milliseconds without an event")(
      "rcvhwm", po::value(&args->rcvhwm), "the SUB socket's receive high-water mark")(
      "skip-compacted", po::bool_switch(&args->skip_compacted),
      "when the next events were compacted away on every node, go on from the earliest index "
      "held (saying which were skipped) instead of exiting 1");
  po::variables_map vm;
  try {
    po::parsed_options parsed = po::parse_command_line(argc, argv, desc);
    Status negative = raftlog::server::RefuseNegativeUnsigned(desc, parsed);
    if (!negative.ok()) throw po::error(negative.message());
    po::store(parsed, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "raftlog-sub: " << e.what() << "\n" << desc << "\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  auto usage = [&](const std::string& why) {
    std::cerr << "raftlog-sub: " << why << "\n";
    return kExitUsage;
  };
  if (!args->config.empty() && (!args->pubs.empty() || !args->endpoints.empty())) {
    return usage("give either -c or --pub and --endpoint, not both");
  }
  if (!args->config.empty()) {
    Status s = EndpointsFromConfig(args->config, args);
    if (!s.ok()) return usage(s.message());
  }
  if (args->pubs.empty() || args->endpoints.empty()) {
    return usage("name the cluster: -c CONF, or --pub and --endpoint");
  }
  for (const auto* list : {&args->pubs, &args->endpoints}) {
    for (const std::string& e : *list) {
      Status s = raftlog::server::CheckEndpoint(e);
      if (!s.ok()) return usage((list == &args->pubs ? "--pub: " : "--endpoint: ") + s.message());
    }
  }
  if (vm.count("from") && args->from == 0) return usage("--from must be >= 1");
  if (vm.count("from") && args->from_latest)
    return usage("--from and --from-latest exclude each other");
  if (args->idle_exit_ms < 0) return usage("--idle-exit-ms must be >= 0");
  if (args->rcvhwm < 0) return usage("--rcvhwm must be >= 0");
  return -1;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// Whether any node answers, judged by what the subscriber hears: a PUB
// message (events, heartbeats) or a reply to a fetch. A silence of
// kUnreachableAfter is reported on stderr, naming the endpoints, and so is
// its end.
class Reachability {
 public:
  explicit Reachability(const Args& args)
      : endpoints_("PUB " + Join(args.pubs) + "; client " + Join(args.endpoints)),
        last_heard_(Clock::now()) {}

  // After each next(): what the subscriber has heard so far, and what next()
  // returned.
  void update(const raftlog::SubscriberStats& st, const Status& last) {
    uint64_t heard = st.heartbeats + st.live_events + st.duplicates + st.gaps + st.fetch_answers;
    Clock::time_point now = Clock::now();
    if (heard != heard_) {
      heard_ = heard;
      last_heard_ = now;
      if (silent_) std::fprintf(stderr, "raftlog-sub: a node answers again\n");
      silent_ = false;
      return;
    }
    if (!silent_ && now - last_heard_ >= kUnreachableAfter) {
      silent_ = true;
      std::string why;
      // A failed fetch says what each node did not do.
      if (last.IsBusy() && last.message().rfind("cannot fetch", 0) == 0) {
        why = " (" + last.message() + ")";
      }
      std::fprintf(stderr, "raftlog-sub: no node answers (%s)%s; still trying\n",
                   endpoints_.c_str(), why.c_str());
    }
  }

  bool ever_heard() const { return heard_ > 0; }
  const std::string& endpoints() const { return endpoints_; }

 private:
  std::string endpoints_;
  uint64_t heard_ = 0;
  Clock::time_point last_heard_;
  bool silent_ = false;
};

void Print(const raftlog::ReceivedEvent& e, bool raw) {
  if (raw) {
    std::fwrite(e.payload.data(), 1, e.payload.size(), stdout);
    std::fputc('\n', stdout);
  } else {
    std::string line = raftlog::tools::EventJson(e) + "\n";
    std::fputs(line.c_str(), stdout);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  int exit_code = ParseArgs(argc, argv, &args);
  if (exit_code >= 0) return exit_code;

  // No SA_RESTART: a signal wakes the subscriber's wait at once.
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed stdout shows as a write error instead

  SubscriberOptions o;
  o.pub_endpoints = args.pubs;
  o.client_endpoints = args.endpoints;
  o.topics = args.topics;
  o.rcvhwm = args.rcvhwm;
  o.from = args.from;
  o.position_file = args.position_file;
  if (!args.position_file.empty()) {
    o.start = SubscriberOptions::Start::kPositionFile;  // from 0: the latest
  } else if (args.from > 0) {
    o.start = SubscriberOptions::Start::kFrom;
  } else {
    o.start = SubscriberOptions::Start::kLatest;
  }
  std::unique_ptr<raftlog::Subscriber> sub;
  Status s = raftlog::Subscriber::Open(o, &sub);
  if (!s.ok()) {
    std::cerr << "raftlog-sub: " << s.message() << "\n";
    return kExitError;
  }

  uint64_t delivered = 0;
  Clock::time_point last_event = Clock::now();
  Reachability reach(args);
  bool idle_expired = false;
  while (g_stop == 0 && (args.count == 0 || delivered < args.count)) {
    milliseconds wait(100);
    if (args.idle_exit_ms > 0) {
      auto idle = std::chrono::duration_cast<milliseconds>(Clock::now() - last_event);
      milliseconds left = milliseconds(args.idle_exit_ms) - idle;
      if (left.count() <= 0) {
        idle_expired = true;
        break;
      }
      wait = std::min(wait, left);
    }
    raftlog::ReceivedEvent event;
    s = sub->next(&event, wait);
    reach.update(sub->stats(), s);
    if (s.IsBusy()) continue;
    if (s.IsNotFound() && args.skip_compacted && sub->earliest_held() > 0) {
      // Behind the log head, and told to go on: from the earliest held.
      const uint64_t earliest = sub->earliest_held();
      std::cerr << "raftlog-sub: " << s.message() << "; skipping to " << earliest
                << " (events from " << sub->position() + 1 << " to " << earliest - 1
                << " are not printed)\n";
      (void)sub->close();
      o.start = SubscriberOptions::Start::kFrom;
      o.from = earliest;
      s = raftlog::Subscriber::Open(o, &sub);
      if (!s.ok()) break;
      continue;
    }
    if (!s.ok()) break;
    Print(event, args.raw);
    if (std::ferror(stdout)) {
      s = Status::IOError("cannot write to stdout");
      break;
    }
    ++delivered;
    last_event = Clock::now();
  }
  Status closed = sub->close();  // records the position
  if (s.ok() || s.IsBusy()) s = closed;
  if (s.ok() && idle_expired && !reach.ever_heard()) {
    s = Status::IOError("no node answered within " + std::to_string(args.idle_exit_ms) + " ms (" +
                        reach.endpoints() + ")");
  }
  if (!s.ok()) {
    std::cerr << "raftlog-sub: " << s.message() << "\n";
    return kExitError;
  }
  return 0;
}
