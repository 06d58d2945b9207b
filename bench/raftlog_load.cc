#include "raftlog_load.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "raftlog/producer.h"
#include "raftlog/subscriber.h"

namespace raftlog::bench {

namespace {

using std::chrono::milliseconds;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The measured interval, shared by all threads.
struct Window {
  int64_t start, measure_from, end;
  bool measured(int64_t t) const { return t >= measure_from && t < end; }
};

struct Shared {
  const LoadOptions* options;
  Window window;
  std::atomic<bool> stop_subscribers{false};
  std::atomic<int> subscribers_ready{0};
  std::mutex mu;  // guards what follows
  LatencyLog acks, e2e;
  uint64_t errors = 0, measured_sent = 0, e2e_delivered = 0;
  std::string first_error;
};

// Open loop: the shortest sleep between sends.
constexpr int64_t kQuantumNs = 200'000;

void RunProducer(Shared* shared, int index) {
  const LoadOptions& o = *shared->options;
  const Window w = shared->window;
  ProducerOptions po;
  po.endpoints = o.client_endpoints;
  po.window = o.window;
  po.request_timeout = milliseconds(5000);
  Producer producer(po);
  // Send times by seq (seqs are consecutive); the window is far smaller.
  constexpr size_t kRing = 1 << 20;
  std::vector<int64_t> sent(kRing);
  std::vector<std::string> topics;
  topics.reserve(static_cast<size_t>(o.topics));
  for (int t = 0; t < o.topics; ++t) topics.push_back("bench." + std::to_string(t));
  std::string payload(std::max<size_t>(o.payload_bytes, 8), 'p');
  LatencyLog acks;
  uint64_t errors = 0, measured_sent = 0, pushed = 0;
  std::string first_error;

  const double per_producer_rate = o.rate / o.producers;
  const int64_t interval_ns =
      per_producer_rate > 0 ? static_cast<int64_t>(1e9 / per_producer_rate) : 0;
  // Spread the producers' schedules so that they do not fire together.
  int64_t next_intended = w.start + interval_ns * index / o.producers;

  auto push = [&](int64_t stamp) {
    std::memcpy(payload.data(), &stamp, 8);
    uint64_t seq = 0;
    Status s = producer.push(topics[pushed % topics.size()], payload, &seq, milliseconds(0));
    if (!s.ok()) {
      if (first_error.empty()) first_error = s.message();
      ++errors;
      return;
    }
    ++pushed;
    sent[seq % kRing] = stamp;
    if (w.measured(stamp)) ++measured_sent;
  };
  auto handle = [&](const Producer::Ack& ack) {
    int64_t now = NowNs();
    if (!ack.status.ok()) {
      if (first_error.empty()) first_error = ack.status.message();
      ++errors;
    } else if (w.measured(now)) {
      acks.add(now - sent[ack.seq % kRing]);
    }
  };

  Producer::Ack ack;
  for (int64_t now = NowNs(); now < w.end; now = NowNs()) {
    if (interval_ns == 0) {
      while (producer.in_flight() < o.window) push(NowNs());
      if (producer.poll_ack(&ack, milliseconds(100))) handle(ack);
    } else {
      while (next_intended <= now && producer.in_flight() < o.window) {
        push(next_intended);
        next_intended += interval_ns;
      }
      int64_t gap = next_intended - NowNs();
      if (gap >= 1'000'000 || producer.in_flight() >= o.window) {
        if (producer.poll_ack(&ack, milliseconds(std::max<int64_t>(gap / 1'000'000, 1))))
          handle(ack);
      } else if (!producer.poll_ack(&ack, milliseconds(0))) {
        // Nothing arrived: sleep until the next send, but at least a
        // quantum. Waking for every event at tens of thousands per second
        // would cost the cores the cluster runs on more than the late
        // sends cost (they count against the latency: it runs from the
        // intended time).
        if (gap > 0)
          std::this_thread::sleep_for(std::chrono::nanoseconds(std::max(gap, kQuantumNs)));
        continue;
      } else {
        handle(ack);
      }
    }
    while (producer.poll_ack(&ack, milliseconds(0))) handle(ack);
  }
  // Let what is in flight finish, unmeasured, so the cluster ends idle.
  producer.flush(milliseconds(5000));
  while (producer.poll_ack(&ack, milliseconds(0))) handle(ack);

  std::lock_guard lock(shared->mu);
  shared->acks.merge(acks);
  shared->errors += errors;
  shared->measured_sent += measured_sent;
  if (shared->first_error.empty()) shared->first_error = first_error;
}

void RunSubscriber(Shared* shared) {
  const LoadOptions& o = *shared->options;
  SubscriberOptions so;
  so.pub_endpoints = o.pub_endpoints;
  so.client_endpoints = o.client_endpoints;
  so.start = SubscriberOptions::Start::kLatest;
  std::unique_ptr<Subscriber> sub;
  Status s = Subscriber::Open(so, &sub);
  shared->subscribers_ready.fetch_add(1);
  LatencyLog e2e;
  uint64_t delivered = 0;
  while (s.ok() && !shared->stop_subscribers.load()) {
    ReceivedEvent ev;
    Status n = sub->next(&ev, milliseconds(50));
    if (n.ok() && ev.payload.size() >= 8) {
      int64_t now = NowNs(), stamp = 0;
      std::memcpy(&stamp, ev.payload.data(), 8);
      if (shared->window.measured(stamp)) {
        e2e.add(now - stamp);
        ++delivered;
      }
    } else if (!n.ok() && n.code() != Status::Code::kBusy) {
      s = n;
    }
  }
  std::lock_guard lock(shared->mu);
  if (!s.ok() && shared->first_error.empty()) shared->first_error = "subscriber: " + s.message();
  shared->e2e.merge(e2e);
  shared->e2e_delivered += delivered;
}

}  // namespace

LoadResult RunLoad(const LoadOptions& options) {
  // Timed sleeps of the open loop should wake on time, not 50 µs late.
  prctl(PR_SET_TIMERSLACK, 1);
  Shared shared;
  shared.options = &options;
  std::vector<std::thread> subscribers, producers;
  for (int i = 0; i < options.subscribers; ++i) subscribers.emplace_back(RunSubscriber, &shared);
  while (shared.subscribers_ready.load() < options.subscribers)
    std::this_thread::sleep_for(milliseconds(10));

  int64_t start = NowNs();
  shared.window = {start, start + static_cast<int64_t>(options.warmup_s * 1e9),
                   start + static_cast<int64_t>((options.warmup_s + options.duration_s) * 1e9)};
  double cpu_before = 0;
  std::thread cpu_probe([&] {  // CPU time over the measured interval only
    std::this_thread::sleep_until(
        Clock::time_point(std::chrono::nanoseconds(shared.window.measure_from)));
    cpu_before = CpuSeconds();
  });
  for (int i = 0; i < options.producers; ++i) producers.emplace_back(RunProducer, &shared, i);
  cpu_probe.join();
  std::this_thread::sleep_until(Clock::time_point(std::chrono::nanoseconds(shared.window.end)));
  double cpu_after = CpuSeconds();
  for (std::thread& t : producers) t.join();
  // Deliveries still on their way get a moment.
  std::this_thread::sleep_for(milliseconds(500));
  shared.stop_subscribers = true;
  for (std::thread& t : subscribers) t.join();

  LoadResult r;
  r.ack = shared.acks.summarize(options.duration_s, options.payload_bytes);
  r.e2e = shared.e2e.summarize(options.duration_s, options.payload_bytes);
  r.errors = shared.errors;
  uint64_t expected = shared.measured_sent * static_cast<uint64_t>(options.subscribers);
  r.e2e_missing = expected > shared.e2e_delivered ? expected - shared.e2e_delivered : 0;
  r.client_cpu_s = cpu_after - cpu_before;
  r.first_error = shared.first_error;
  return r;
}

}  // namespace raftlog::bench
