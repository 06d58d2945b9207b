#include "raftlog/subscriber.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "client/client_internals.h"
#include "client/stream_tracker.h"
#include "raftlog/client.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"

namespace raftlog {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// How long to wait before asking the nodes again when none could serve a
// needed fetch (all down, or all behind the index the stream announced).
constexpr milliseconds kFetchRetryDelay{50};

std::string IndexString(core::LogIndex i) {
  return std::to_string(i);
}

// The position file holds one decimal number and a newline.
// Sets *found = false (and returns ok) when the file does not exist.
Status ReadPositionFile(const std::string& path, bool* found, core::LogIndex* out) {
  std::ifstream in(path);
  if (!in) {
    *found = false;
    if (errno == ENOENT) return Status::Ok();
    return Status::InvalidInput("cannot read position file '" + path +
                                "': " + std::strerror(errno));
  }
  *found = true;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::InvalidInput("position file '" + path + "' does not hold an index: '" + text +
                                "'");
  }
  return Status::Ok();
}

Status WriteFully(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError("write " + path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Write-then-rename, so that a crash leaves the old position or the new one,
// never a torn file.
Status WritePositionFile(const std::string& path, core::LogIndex position, bool sync) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("open " + tmp + ": " + std::strerror(errno));
  Status s = WriteFully(fd, IndexString(position) + "\n", tmp);
  if (s.ok() && sync && ::fsync(fd) != 0)
    s = Status::IOError("fsync " + tmp + ": " + std::strerror(errno));
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::IOError("rename " + tmp + ": " + std::strerror(errno));
  }
  if (s.ok() && sync) {
    // The rename is durable once the directory is.
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
  }
  return s;
}

}  // namespace

class Subscriber::Impl {
 public:
  explicit Impl(SubscriberOptions options)
      : options_(std::move(options)),
        client_(ClientOptions{options_.client_endpoints, options_.fetch_timeout}),
        context_(1),
        sub_(context_, zmq::socket_type::sub),
        stream_(options_.topics) {}

  Status open();
  Status next(ReceivedEvent* out, milliseconds wait);
  core::LogIndex position() const { return stream_.position(); }
  core::LogIndex earliest_held() const { return earliest_held_; }
  Status close();
  const SubscriberStats& stats() const { return stream_.stats(); }

 private:
  // Fetching: one page from the first node able to serve it. Sets
  // *interrupted when a signal cut a request short: the caller returns at
  // once instead of trying the other nodes.
  Status fetch_page(bool* interrupted);
  Status maybe_write_position(bool force);

  SubscriberOptions options_;
  Client client_;
  zmq::context_t context_;
  zmq::socket_t sub_;
  StreamTracker stream_;  // what to deliver, what to fetch
  bool closed_ = false;
  size_t endpoint_ = 0;               // the client endpoint fetched from; moves on failure
  Status error_;                      // a hard error, returned by every later next()
  core::LogIndex earliest_held_ = 0;  // after a compacted answer: the lowest earliest named

  core::LogIndex written_ = 0;  // what the position file holds
  Clock::time_point written_at_{};
};

Status Subscriber::Impl::open() {
  if (options_.pub_endpoints.empty()) return Status::InvalidInput("no PUB endpoint");
  if (options_.client_endpoints.empty()) return Status::InvalidInput("no client endpoint");
  if (options_.fetch_max_count == 0) return Status::InvalidInput("fetch_max_count must be >= 1");
  using Start = SubscriberOptions::Start;
  Start start = options_.start;
  if (start == Start::kPositionFile) {
    if (options_.position_file.empty()) return Status::InvalidInput("no position file named");
    bool found = false;
    core::LogIndex position = 0;
    Status s = ReadPositionFile(options_.position_file, &found, &position);
    if (!s.ok()) return s;
    if (found) {
      written_ = position;
      stream_.start_after(position);
    } else {
      start = options_.from > 0 ? Start::kFrom : Start::kLatest;
    }
  }
  if (start == Start::kFrom) {
    if (options_.from == 0) return Status::InvalidInput("start index must be >= 1");
    stream_.start_after(options_.from - 1);
  }
  try {
    if (options_.rcvhwm > 0) sub_.set(zmq::sockopt::rcvhwm, options_.rcvhwm);
    sub_.set(zmq::sockopt::linger, 0);
    // Everything: a prefix filter at the publisher would hide the gaps in
    // the other topics' indexes. Topics are filtered here.
    sub_.set(zmq::sockopt::subscribe, "");
    for (const std::string& e : options_.pub_endpoints) sub_.connect(e);
  } catch (const zmq::error_t& e) {
    return Status::InvalidInput(std::string("PUB endpoint: ") + e.what());
  }
  // Many subscribers starting at once should not all fetch from the first node.
  endpoint_ = std::random_device{}() % options_.client_endpoints.size();
  written_at_ = Clock::now();
  return Status::Ok();
}

Status Subscriber::Impl::fetch_page(bool* interrupted) {
  *interrupted = false;
  const std::vector<std::string>& endpoints = options_.client_endpoints;
  const core::LogIndex from = stream_.fetch_from();
  wire::FetchArgs args;
  args.from = from;
  args.max_count = options_.fetch_max_count;
  core::LogIndex earliest = 0;  // the lowest earliest index a compacting node named
  std::string compacted_message;
  bool other_answer = false;  // a node that answered without saying "compacted"
  std::string why = "no node answered";
  for (size_t tried = 0; tried < endpoints.size(); ++tried, ++endpoint_) {
    const std::string& endpoint = endpoints[endpoint_ % endpoints.size()];
    wire::ClientReply reply;
    ++stream_.stats().fetch_requests;
    Status s = ClientInternals::Call(client_, endpoint, wire::kFetchOp, wire::EncodeFetchArgs(args),
                                     &reply);
    if (s.IsBusy()) {  // only a signal makes Call() itself return Busy
      *interrupted = true;
      return s;
    }
    if (s.ok()) {
      ++stream_.stats().fetch_answers;
      s = ReplyStatus(reply);
    }
    if (s.IsNotFound()) {
      const wire::Value* e = nullptr;
      for (const auto& [k, v] : reply.body) {
        if (k == "earliest" && v.kind() == wire::Value::Kind::kUint) e = &v;
      }
      if (e != nullptr && (earliest == 0 || e->as_uint() < earliest)) earliest = e->as_uint();
      compacted_message = s.message();
      continue;
    }
    wire::FetchResult page;
    if (s.ok()) s = wire::DecodeFetchResult(reply.body, &page);
    if (s.ok()) s = stream_.take_page(page);
    if (s.IsCorruption()) return s;  // an entry no node can serve better
    if (!s.ok()) {
      // Unreachable, misnumbered, or behind what another node published.
      why = endpoint + ": " + s.ToString();
      other_answer = other_answer || !s.IsIOError();
      continue;
    }
    return Status::Ok();
  }
  if (!compacted_message.empty() && !other_answer) {
    earliest_held_ = earliest;
    if (earliest == 0) return Status::NotFound(compacted_message);
    return Status::NotFound("index " + IndexString(from) +
                            " was compacted; the earliest index held is " + IndexString(earliest));
  }
  return Status::Busy("cannot fetch from index " + IndexString(from) + ": " + why);
}

Status Subscriber::Impl::next(ReceivedEvent* out, milliseconds wait) {
  if (closed_) return Status::InvalidInput("subscriber is closed");
  if (!error_.ok()) return error_;
  // Whatever earlier calls returned has been consumed by now.
  Status s = maybe_write_position(false);
  if (!s.ok()) return s;
  const Clock::time_point deadline = Clock::now() + wait;
  for (;;) {
    std::deque<ReceivedEvent>& ready = stream_.ready();
    if (!ready.empty()) {
      *out = std::move(ready.front());
      ready.pop_front();
      return Status::Ok();
    }
    Clock::time_point now = Clock::now();
    if (stream_.fetching()) {
      bool interrupted = false;
      s = fetch_page(&interrupted);
      if (s.IsNotFound() || s.IsCorruption()) {
        error_ = s;
        return s;
      }
      if (interrupted) return s;  // Busy: let the caller look at why
      if (!s.ok()) {
        if (now >= deadline) return s;  // Busy, naming why
        std::this_thread::sleep_for(std::min<Clock::duration>(kFetchRetryDelay, deadline - now));
      }
      continue;
    }
    auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
    zmq::pollitem_t item{sub_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::max(left, milliseconds(0)));
      if ((item.revents & ZMQ_POLLIN) != 0) {
        std::vector<zmq::message_t> frames;
        if (zmq::recv_multipart(sub_, std::back_inserter(frames), zmq::recv_flags::dontwait) &&
            frames.size() == 2) {
          stream_.on_message(
              std::string_view(static_cast<const char*>(frames[0].data()), frames[0].size()),
              std::string_view(static_cast<const char*>(frames[1].data()), frames[1].size()));
        }
      }
    } catch (const zmq::error_t& e) {
      // A signal: let the caller look at why (a tool stopping on SIGTERM).
      if (e.num() == EINTR) return Status::Busy("interrupted by a signal");
      return Status::IOError(std::string("SUB socket: ") + e.what());
    }
    if (stream_.ready().empty() && !stream_.fetching() && Clock::now() >= deadline) {
      s = maybe_write_position(false);
      if (!s.ok()) return s;
      return Status::Busy("no event within " + std::to_string(wait.count()) + " ms");
    }
  }
}

Status Subscriber::Impl::maybe_write_position(bool force) {
  if (options_.position_file.empty() || !stream_.started()) return Status::Ok();
  core::LogIndex p = position();
  Clock::time_point now = Clock::now();
  if (p == written_ || (!force && now - written_at_ < options_.position_interval)) {
    return Status::Ok();
  }
  Status s = WritePositionFile(options_.position_file, p, options_.position_fsync);
  if (!s.ok()) return s;
  written_ = p;
  written_at_ = now;
  return Status::Ok();
}

Status Subscriber::Impl::close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status s = maybe_write_position(true);
  sub_.close();
  return s;
}

Status Subscriber::Open(SubscriberOptions options, std::unique_ptr<Subscriber>* out) {
  auto impl = std::make_unique<Impl>(std::move(options));
  Status s = impl->open();
  if (!s.ok()) return s;
  out->reset(new Subscriber(std::move(impl)));
  return Status::Ok();
}

Subscriber::Subscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Subscriber::~Subscriber() {
  (void)impl_->close();
}

Status Subscriber::next(ReceivedEvent* out, milliseconds wait) {
  return impl_->next(out, wait);
}
core::LogIndex Subscriber::position() const {
  return impl_->position();
}
core::LogIndex Subscriber::earliest_held() const {
  return impl_->earliest_held();
}
const SubscriberStats& Subscriber::stats() const {
  return impl_->stats();
}
Status Subscriber::close() {
  return impl_->close();
}

}  // namespace raftlog
