// raftlog-push: pushes events into a raftlog cluster, exactly once each.
//
//   raftlog-push (-c CONF | -e ENDPOINT...) --topic T [--producer ID] [--first-seq N]
//                [--window N] [--timeout-ms T] [--quiet] [--binary] [EVENT...]
//
// Events are the arguments, else stdin: one per line (without the newline),
// or with --binary records of a 4-byte big-endian length and that many
// bytes. All input is read before the first push; --timeout-ms then bounds
// the pushing and committing of all of them.
//
// stdout: one JSON line per ack, in ack order, {"seq":N,"index":I} with
// "duplicate":true added when the cluster had the event already; with
// --quiet only a summary {"acked":N,"failed":M,"seconds":S,"events_per_second":R}.
// Exit status: 0 if every event was acked before the deadline, 1 if not
// (what failed goes to stderr), 2 for a usage or input error.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "config_endpoints.h"
#include "raftlog/producer.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/limits.h"

namespace po = boost::program_options;
using raftlog::Producer;
using raftlog::Status;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr int kExitNotAcked = 1;
constexpr int kExitUsage = 2;

struct Args {
  std::string config;
  std::vector<std::string> endpoints;
  std::string topic;
  std::string producer;
  uint64_t first_seq = 1;
  size_t window = 64;
  int64_t timeout_ms = 30000;
  bool quiet = false;
  bool binary = false;
  std::vector<std::string> events;
};

// Parses argv into *args. Returns -1 to go on, else the exit status.
int ParseArgs(int argc, char** argv, Args* args) {
  po::options_description desc(
      "Usage: raftlog-push (-c CONF | -e ENDPOINT...) --topic T [options] [EVENT...]\n"
      "Pushes events (the arguments, else stdin) exactly once; prints a JSON line per ack");
  desc.add_options()("help,h", "print this help and exit")(
      "config,c", po::value(&args->config),
      "a node's config file: the cluster from its peer lines")(
      "endpoint,e", po::value(&args->endpoints)->composing(),
      "a node's client endpoint; repeatable")("topic", po::value(&args->topic)->required(),
                                              "the events' topic")(
      "producer", po::value(&args->producer),
      "producer id (default: generated); reuse one to resume it")(
      "first-seq", po::value(&args->first_seq)->default_value(args->first_seq),
      "seq of the first event")("window", po::value(&args->window)->default_value(args->window),
                                "events in flight at most")(
      "timeout-ms", po::value(&args->timeout_ms)->default_value(args->timeout_ms),
      "deadline for every event to be acked")("quiet", po::bool_switch(&args->quiet),
                                              "print only a summary line")(
      "binary", po::bool_switch(&args->binary),
      "stdin holds records of a 4-byte big-endian length and the bytes");
  po::options_description hidden;
  hidden.add_options()("event", po::value(&args->events)->composing());
  po::options_description all;
  all.add(desc).add(hidden);
  po::positional_options_description positional;
  positional.add("event", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "raftlog-push: " << e.what() << "\n" << desc << "\n";
    return kExitUsage;
  }
  auto usage = [](const std::string& why) {
    std::cerr << "raftlog-push: " << why << "\n";
    return kExitUsage;
  };
  if (args->config.empty() == args->endpoints.empty()) {
    return usage("name the cluster with -c CONF or with -e ENDPOINT (not both)");
  }
  if (args->binary && !args->events.empty()) return usage("--binary reads stdin: no EVENT args");
  if (args->window == 0 || args->first_seq == 0 || args->timeout_ms <= 0) {
    return usage("--window, --first-seq and --timeout-ms must be positive");
  }
  if (args->producer.size() > raftlog::wire::kMaxProducerBytes) {
    return usage("--producer: at most " + std::to_string(raftlog::wire::kMaxProducerBytes) +
                 " bytes");
  }
  Status s = raftlog::wire::CheckTopic(args->topic);
  if (!s.ok()) return usage("--topic: " + s.message());
  return -1;
}

Status ReadLines(std::istream& in, std::vector<std::string>* out) {
  std::string line;
  while (std::getline(in, line)) out->push_back(line);
  return in.bad() ? Status::IOError("reading stdin failed") : Status::Ok();
}

Status ReadRecords(std::istream& in, std::vector<std::string>* out) {
  for (size_t n = 0;; ++n) {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    if (in.gcount() == 0) return Status::Ok();
    if (in.gcount() != 4)
      return Status::InvalidInput("record " + std::to_string(n) + ": cut short");
    size_t size = (size_t{len[0]} << 24) | (size_t{len[1]} << 16) | (size_t{len[2]} << 8) | len[3];
    std::string bytes(size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (static_cast<size_t>(in.gcount()) != size) {
      return Status::InvalidInput("record " + std::to_string(n) + ": " + std::to_string(size) +
                                  " bytes announced, " + std::to_string(in.gcount()) + " present");
    }
    out->push_back(std::move(bytes));
  }
}

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Pushes every event and collects the outcomes until the deadline.
class Run {
 public:
  Run(const Args& args, Producer* producer) : args_(args), producer_(producer) {}

  int go() {
    Clock::time_point start = Clock::now();
    Clock::time_point deadline = start + milliseconds(args_.timeout_ms);
    size_t pushed = 0;
    for (const std::string& event : args_.events) {
      uint64_t seq = 0;
      Status s = producer_->push(args_.topic, event, &seq, Left(deadline));
      if (!s.ok()) {
        // Busy: the window stayed full until the deadline; nothing else is expected.
        if (!s.IsBusy()) std::fprintf(stderr, "raftlog-push: %s\n", s.ToString().c_str());
        break;
      }
      ++pushed;
      take(milliseconds(0));
    }
    while (producer_->in_flight() > 0 && Clock::now() < deadline) {
      std::fflush(stdout);  // show what is acked while waiting for more
      take(std::min(Left(deadline), milliseconds(100)));
    }
    take(milliseconds(0));
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    size_t total = args_.events.size();
    if (args_.quiet) {
      std::printf("{\"acked\":%zu,\"failed\":%zu,\"seconds\":%.3f,\"events_per_second\":%.1f}\n",
                  acked_, total - acked_, seconds, seconds > 0 ? acked_ / seconds : 0.0);
    }
    std::fflush(stdout);
    if (acked_ == total) return 0;
    report(total, pushed);
    return kExitNotAcked;
  }

 private:
  // Prints the outcomes that have arrived, waiting up to wait for the first.
  void take(milliseconds wait) {
    Producer::Ack ack;
    while (producer_->poll_ack(&ack, wait)) {
      wait = milliseconds(0);
      if (!ack.status.ok()) {
        std::fprintf(stderr, "raftlog-push: seq %llu failed: %s\n",
                     static_cast<unsigned long long>(ack.seq), ack.status.ToString().c_str());
        continue;
      }
      ++acked_;
      if (args_.quiet) continue;
      std::printf("{\"seq\":%llu,\"index\":%llu%s}\n", static_cast<unsigned long long>(ack.seq),
                  static_cast<unsigned long long>(ack.index),
                  ack.duplicate ? ",\"duplicate\":true" : "");
    }
  }

  void report(size_t total, size_t pushed) {
    std::vector<Producer::Unacked> unacked = producer_->unacked();
    std::fprintf(stderr, "raftlog-push: %zu of %zu events not acknowledged within %lld ms\n",
                 total - acked_, total, static_cast<long long>(args_.timeout_ms));
    const size_t kShown = 10;
    for (size_t i = 0; i < unacked.size() && i < kShown; ++i) {
      const Status& why = unacked[i].last_error;
      std::fprintf(stderr, "  seq %llu: %s\n", static_cast<unsigned long long>(unacked[i].seq),
                   why.ok() ? "no reply yet" : why.ToString().c_str());
    }
    if (unacked.size() > kShown) std::fprintf(stderr, "  ... %zu more\n", unacked.size() - kShown);
    if (pushed < total) {
      std::fprintf(stderr, "  %zu events not pushed before the deadline\n", total - pushed);
    }
    // Pushing the same events again with these is safe: what was committed
    // comes back as duplicates, not as second copies.
    std::fprintf(stderr, "  to retry exactly once: --producer %s --first-seq %llu\n",
                 producer_->producer_id().c_str(),
                 static_cast<unsigned long long>(args_.first_seq));
  }

  const Args& args_;
  Producer* producer_;
  size_t acked_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Args args;
  int rc = ParseArgs(argc, argv, &args);
  if (rc >= 0) return rc;
  raftlog::ProducerOptions options;
  options.endpoints = args.endpoints;
  if (!args.config.empty()) {
    Status s = raftlog::tools::EndpointsFromConfig(args.config, &options.endpoints);
    if (!s.ok()) {
      std::fprintf(stderr, "raftlog-push: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  if (args.events.empty()) {
    std::ios::sync_with_stdio(false);
    Status s =
        args.binary ? ReadRecords(std::cin, &args.events) : ReadLines(std::cin, &args.events);
    if (!s.ok()) {
      std::fprintf(stderr, "raftlog-push: stdin: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  const size_t max_bytes = raftlog::wire::kMaxPayloadBytes;
  for (size_t i = 0; i < args.events.size(); ++i) {
    if (args.events[i].size() > max_bytes) {
      std::fprintf(stderr, "raftlog-push: event %zu: %zu bytes, more than %zu\n", i,
                   args.events[i].size(), max_bytes);
      return kExitUsage;
    }
  }
  options.producer_id = args.producer;
  options.window = args.window;
  options.first_seq = args.first_seq;
  Producer producer(options);
  return Run(args, &producer).go();
}
