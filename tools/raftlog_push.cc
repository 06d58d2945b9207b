// raftlog-push: pushes events into a raftlog cluster, exactly once each.
//
//   raftlog-push (-c CONF | -e ENDPOINT...) --topic T [--producer ID] [--first-seq N]
//                [--window N] [--timeout-ms T] [--quiet] [--binary] [EVENT...]
//
// Events are the arguments, else stdin: one per line (without the newline),
// or with --binary records of a 4-byte big-endian length and that many
// bytes. stdin is pushed as it arrives (`tail -f app.log | raftlog-push ...`
// works): an event goes out as soon as its line or record is complete and
// the window has room, so at most --window events are in flight and only
// what is read ahead of them is held in memory.
//
// --timeout-ms bounds each event: it must be acked within that long of being
// read (the arguments are all read at the start). When one is not, raftlog-push
// stops reading, reports what is unacknowledged and exits 1.
//
// stdout: one JSON line per ack, in ack order, flushed as it comes,
// {"seq":N,"index":I} with "duplicate":true added when the cluster had the
// event already; with --quiet only a summary
// {"acked":N,"failed":M,"seconds":S,"events_per_second":R}.
// Exit status: 0 if every event was acked, 1 if not (what failed, and why,
// goes to stderr), 2 for a usage error or bad input (a record cut short, an
// event over the size limit; the events before it are still pushed).
#include <poll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
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
      "Pushes events (the arguments, else stdin as it arrives) exactly once; prints a JSON line "
      "per ack");
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
      "deadline for each event to be acked, from when it is read")(
      "quiet", po::bool_switch(&args->quiet), "print only a summary line")(
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
    po::parsed_options parsed =
        po::command_line_parser(argc, argv).options(all).positional(positional).run();
    Status negative = raftlog::server::RefuseNegativeUnsigned(all, parsed);
    if (!negative.ok()) throw po::error(negative.message());
    po::store(parsed, vm);
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
  for (const std::string& e : args->endpoints) {
    Status s = raftlog::server::CheckEndpoint(e);
    if (!s.ok()) return usage("-e: " + s.message());
  }
  if (args->binary && !args->events.empty()) return usage("--binary reads stdin: no EVENT args");
  if (args->window == 0 || args->first_seq == 0 || args->timeout_ms <= 0) {
    return usage("--window, --first-seq and --timeout-ms must be positive");
  }
  if (args->window > raftlog::wire::kMinProducerWindow) {
    return usage("--window: at most " + std::to_string(raftlog::wire::kMinProducerWindow) +
                 ", the sequence numbers every node remembers per producer");
  }
  if (args->producer.size() > raftlog::wire::kMaxProducerBytes) {
    return usage("--producer: at most " + std::to_string(raftlog::wire::kMaxProducerBytes) +
                 " bytes");
  }
  Status s = raftlog::wire::CheckTopic(args->topic);
  if (!s.ok()) return usage("--topic: " + s.message());
  return -1;
}

// Where events come from: the arguments, or a file descriptor (stdin) read
// as it arrives, lines or length-prefixed records. Holds at most one read's
// worth of input beyond the event being assembled.
class Source {
 public:
  explicit Source(std::vector<std::string> events) : events_(std::move(events)), eof_(true) {}
  Source(int fd, bool binary, size_t max_event_bytes)
      : fd_(fd), binary_(binary), max_bytes_(max_event_bytes) {}

  // The next complete event, if one is at hand; reads nothing.
  bool next(std::string* event) {
    if (fd_ < 0) {
      if (taken_ == events_.size()) return false;
      *event = std::move(events_[taken_++]);
      return true;
    }
    if (!error_.ok()) return false;
    bool got = binary_ ? next_record(event) : next_line(event);
    if (got) ++taken_;
    return got;
  }

  // Waits up to wait (-1: for ever) for input and reads what there is.
  // True if it read something or reached the end.
  bool fill(milliseconds wait) {
    if (fd_ < 0 || eof_ || !error_.ok()) return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
    if (ready <= 0) return false;  // nothing yet (or a signal)
    if (pos_ > 0) {                // drop what was handed out
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    size_t old = buf_.size();
    buf_.resize(old + kChunk);
    ssize_t n = ::read(fd_, buf_.data() + old, kChunk);
    buf_.resize(old + std::max<ssize_t>(n, 0));
    if (n == 0) eof_ = true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      error_ = Status::IOError(std::string("reading stdin: ") + std::strerror(errno));
    }
    return n >= 0;
  }

  // No event will come any more: the input is used up, or bad.
  bool done() const {
    if (fd_ < 0) return taken_ == events_.size();
    return !error_.ok() || (eof_ && pos_ == buf_.size());
  }
  // Why the input stopped before its end (a record cut short, an event over
  // the size limit, a read error); ok otherwise.
  const Status& error() const { return error_; }
  // Events handed out by next().
  size_t taken() const { return taken_; }

 private:
  static constexpr size_t kChunk = size_t{64} * 1024;

  bool next_line(std::string* event) {
    size_t nl = buf_.find('\n', pos_);
    size_t end = nl == std::string::npos ? buf_.size() : nl;
    if (end - pos_ > max_bytes_) {
      error_ = Status::InvalidInput("line " + std::to_string(taken_ + 1) + ": more than " +
                                    std::to_string(max_bytes_) + " bytes");
      return false;
    }
    if (nl == std::string::npos && !(eof_ && pos_ < buf_.size())) return false;
    event->assign(buf_, pos_, end - pos_);
    pos_ = nl == std::string::npos ? end : nl + 1;
    return true;
  }

  bool next_record(std::string* event) {
    const size_t have = buf_.size() - pos_;
    const std::string n = std::to_string(taken_);
    if (have < 4) {
      if (eof_ && have > 0) error_ = Status::InvalidInput("record " + n + ": cut short");
      return false;
    }
    const auto* len = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
    size_t size = (size_t{len[0]} << 24) | (size_t{len[1]} << 16) | (size_t{len[2]} << 8) | len[3];
    if (size > max_bytes_) {
      error_ = Status::InvalidInput("record " + n + ": " + std::to_string(size) +
                                    " bytes, more than " + std::to_string(max_bytes_));
      return false;
    }
    if (have - 4 < size) {
      if (eof_) {
        error_ = Status::InvalidInput("record " + n + ": " + std::to_string(size) +
                                      " bytes announced, " + std::to_string(have - 4) + " present");
      }
      return false;
    }
    event->assign(buf_, pos_ + 4, size);
    pos_ += 4 + size;
    return true;
  }

  std::vector<std::string> events_;  // the arguments
  int fd_ = -1;
  bool binary_ = false;
  size_t max_bytes_ = 0;
  std::string buf_;  // read, from pos_ on not handed out yet
  size_t pos_ = 0;
  bool eof_ = false;
  Status error_;
  size_t taken_ = 0;
};

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

// Pushes the events as they come and prints the outcomes as they arrive.
class Run {
 public:
  Run(const Args& args, Producer* producer, Source* source)
      : args_(args), producer_(producer), source_(source) {}

  int go() {
    const Clock::time_point start = Clock::now();
    const milliseconds timeout(args_.timeout_ms);
    const bool from_args = !args_.events.empty();
    // While stdin is quiet and events are in flight: look at each in turn.
    const milliseconds kSlice(10);
    bool stopped = false;  // no more pushing: input done or bad, or a push failed
    for (;;) {
      take(milliseconds(0));
      if (!deadlines_.empty() && Clock::now() >= deadlines_.begin()->second) {
        timed_out_ = true;
        break;
      }
      if (stopped) {
        if (producer_->in_flight() == 0) break;
        take(std::min(Left(deadlines_.begin()->second), milliseconds(100)));
        continue;
      }
      if (producer_->in_flight() >= args_.window) {
        take(std::min(Left(deadlines_.begin()->second), milliseconds(100)));
        continue;
      }
      std::string event;
      if (source_->next(&event)) {
        // The arguments were all read at the start.
        Clock::time_point deadline = (from_args ? start : Clock::now()) + timeout;
        uint64_t seq = 0;
        Status s = producer_->push(args_.topic, std::move(event), &seq, milliseconds(0));
        if (!s.ok()) {
          push_error_ = s;
          stopped = true;
          continue;
        }
        ++pushed_;
        deadlines_.emplace(seq, deadline);
        continue;
      }
      if (source_->done()) {
        stopped = true;
        continue;
      }
      // Nothing complete at hand: wait for stdin (for ever while nothing is
      // in flight), then for acks if stdin had nothing.
      bool idle = producer_->in_flight() == 0;
      if (!source_->fill(idle ? milliseconds(-1) : kSlice) && !idle) take(kSlice);
    }
    take(milliseconds(0));
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const size_t total = source_->taken();
    if (args_.quiet) {
      std::printf("{\"acked\":%zu,\"failed\":%zu,\"seconds\":%.3f,\"events_per_second\":%.1f}\n",
                  acked_, total - acked_, seconds, seconds > 0 ? acked_ / seconds : 0.0);
    }
    std::fflush(stdout);
    if (acked_ != total) report(total);
    if (!source_->error().ok()) {
      std::fprintf(stderr, "raftlog-push: stdin: %s\n", source_->error().message().c_str());
      return kExitUsage;
    }
    return acked_ == total ? 0 : kExitNotAcked;
  }

 private:
  // Prints the outcomes that have arrived, waiting up to wait for the first.
  void take(milliseconds wait) {
    Producer::Ack ack;
    bool printed = false;
    while (producer_->poll_ack(&ack, wait)) {
      wait = milliseconds(0);
      deadlines_.erase(ack.seq);
      if (!ack.status.ok()) {
        ++rejected_;
        std::fprintf(stderr, "raftlog-push: seq %llu failed: %s\n",
                     static_cast<unsigned long long>(ack.seq), ack.status.ToString().c_str());
        continue;
      }
      ++acked_;
      if (args_.quiet) continue;
      std::printf("{\"seq\":%llu,\"index\":%llu%s}\n", static_cast<unsigned long long>(ack.seq),
                  static_cast<unsigned long long>(ack.index),
                  ack.duplicate ? ",\"duplicate\":true" : "");
      printed = true;
    }
    if (printed) std::fflush(stdout);  // a reader of the pipe sees each ack as it comes
  }

  // Says why acked_ < total: rejected events, a push that failed, events
  // that timed out (each with its last error).
  void report(size_t total) {
    if (rejected_ > 0) {
      std::fprintf(stderr, "raftlog-push: %zu of %zu events rejected by the cluster (see above)\n",
                   rejected_, total);
    }
    const size_t unpushed = total - pushed_;
    if (!push_error_.ok()) {
      std::fprintf(stderr, "raftlog-push: stopped pushing: %s; %zu of %zu events not pushed\n",
                   push_error_.ToString().c_str(), unpushed, total);
    }
    std::vector<Producer::Unacked> unacked = producer_->unacked();
    if (timed_out_) {
      size_t late = unacked.size() + (push_error_.ok() ? unpushed : 0);
      std::fprintf(stderr, "raftlog-push: %zu of %zu events not acknowledged within %lld ms\n",
                   late, total, static_cast<long long>(args_.timeout_ms));
      const size_t kShown = 10;
      for (size_t i = 0; i < unacked.size() && i < kShown; ++i) {
        const Status& why = unacked[i].last_error;
        std::fprintf(stderr, "  seq %llu: %s\n", static_cast<unsigned long long>(unacked[i].seq),
                     why.ok() ? "no reply yet" : why.ToString().c_str());
      }
      if (unacked.size() > kShown) {
        std::fprintf(stderr, "  ... %zu more\n", unacked.size() - kShown);
      }
      if (push_error_.ok() && unpushed > 0) {
        std::fprintf(stderr, "  %zu events not pushed before the deadline\n", unpushed);
      }
    }
    if (timed_out_ || unpushed > 0) {
      // Pushing the same events again with these is safe: what was committed
      // comes back as duplicates, not as second copies.
      std::fprintf(stderr, "  to retry exactly once: --producer %s --first-seq %llu\n",
                   producer_->producer_id().c_str(),
                   static_cast<unsigned long long>(args_.first_seq));
    }
  }

  const Args& args_;
  Producer* producer_;
  Source* source_;
  std::map<uint64_t, Clock::time_point> deadlines_;  // of the events in flight, by seq
  size_t pushed_ = 0;
  size_t acked_ = 0;
  size_t rejected_ = 0;
  Status push_error_;  // why push() refused an event
  bool timed_out_ = false;
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
  Source source =
      args.events.empty() ? Source(STDIN_FILENO, args.binary, max_bytes) : Source(args.events);
  return Run(args, &producer, &source).go();
}
