#include "world.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>

#include "client/client_internals.h"
#include "client/stream_tracker.h"
#include "raftlog/replicated_log.h"
#include "raftlog/storage/memory_log_store.h"
#include "raftlog/transport.h"
#include "raftlog/wire/client_ops.h"
#include "raftlog/wire/event_ops.h"
#include "raftlog/wire/log_ops.h"
#include "server/client_service.h"
#include "server/event_machine.h"
#include "server/log.h"
#include "server/publisher.h"

namespace raftlog::sim {
namespace {

constexpr Time kTickMs = 10;
// After healing, everything must settle within this much simulated time.
constexpr Time kSettleBoundMs = 60000;
// How long a producer retries one push, in producer expiries: within what
// the cluster keeps of a producer (its state for one expiry, then its name
// for ProducerTable::kForgottenFor more), with room for the log time to lag.
constexpr Time kRetryForExpiries = 2;

// How often each node's stream carries a heartbeat (raftlogd's interval).
constexpr Time kHeartbeatMs = 200;

std::string Payload(const std::string& producer, uint64_t seq) {
  return Cat(producer, "#", seq);
}
std::string Topic(uint64_t seq) {
  return seq % 2 == 0 ? "even" : "odd";
}
// A node's client endpoint as its not_leader replies name it.
std::string Endpoint(core::NodeId id) {
  return Cat("n", id);
}
// The client id of fetch requests: their replies come back at once.
constexpr const char* kFetchClient = "fetch";

}  // namespace

// What the checker knows of index i: the entry the first node to apply it
// applied, and whether it is an event (a Command holding an event record
// whose (producer, seq) no earlier index holds).
struct RefEntry {
  core::Term term = 0;
  core::EntryType type = core::EntryType::kNoop;
  std::string data;
  bool event = false;
  std::string producer;
  uint64_t seq = 0;
  std::string payload;
  std::string topic;
};

struct SimNode;

struct World::Impl {
  explicit Impl(const WorldOptions& o);
  WorldResult run();

  // --- the scheduler ---
  void at(Time delay, std::function<void()> fn) {
    queue.emplace(std::make_pair(now + delay, next_seq++), std::move(fn));
  }
  template <class... Args>
  void trace(const Args&... args) {
    if (options.trace != nullptr && options.trace->on()) options.trace->add(now, Cat(args...));
  }
  bool tracing() const { return options.trace != nullptr && options.trace->on(); }
  void fail(const std::string& invariant, const std::string& detail) {
    if (!violation.invariant.empty()) return;
    violation = {invariant, detail};
    trace("VIOLATION ", invariant, ": ", detail);
  }
  bool failed() const { return !violation.invariant.empty(); }

  // --- nodes ---
  SimNode& node(core::NodeId id) { return *nodes[id - 1]; }
  void start(SimNode& n);
  void tick(SimNode* n, uint64_t incarnation);
  // Down for up to max_down ms if given, else as the fault timers draw.
  void crash(SimNode& n, bool whole_cluster, Time max_down = 0);
  void poll(SimNode& n);
  void send(const core::Message& m);
  void on_committed(SimNode& n, const Committed& c);
  // A node's state became a snapshot's: its store's at a start, or its
  // leader's (the event layer restores it).
  void on_snapshot_loaded(SimNode& n, const SnapshotLoaded& loaded);
  // A snapshot the node took of itself is durable (SnapshotInstalled).
  void on_snapshot_saved(SimNode& n, const SnapshotInstalled& saved);
  // What a node's PUB socket sends, and its client socket's replies.
  void on_pub(SimNode& n, std::string_view topic, std::string_view body);
  void on_reply(SimNode& n, const server::ReplyTo& to, std::string_view frame);
  void check_ack(SimNode& n, size_t p, uint64_t seq, const wire::PushResult& r);
  size_t producer_index(const std::string& name) const;
  core::LogIndex max_commit();

  // --- the Raft invariants (checker.h, the core mode's checker) ---
  // Every node's SimNode::RaftView is added to it; its first violation
  // becomes the world's (raft_verdict).
  Checker checker;
  Checker& raft() {
    checker.set_now(now);
    return checker;
  }
  void raft_verdict() {
    if (checker.failed() && !failed()) {
      fail(checker.violation().invariant, checker.violation().detail);
    }
  }
  // After what may have changed a node's core state or log: every check.
  void raft_step() {
    raft().after_step();
    raft_verdict();
  }

  // --- snapshots, as raftlogd takes them ---
  // After a loop turn: a snapshot once snapshot_every entries were applied
  // since the last one.
  void maybe_snapshot(SimNode& n);
  // events.snapshot() at events.applied(), to install_snapshot or
  // save_snapshot (then compact_step, later).
  void take_snapshot(SimNode& n);
  void compact_step(SimNode* n, uint64_t incarnation);
  // At random moments, a random node takes one.
  void snapshot_timer();
  // Snapshots of the same index are the same bytes on every node (the
  // event layer's state is a function of the log): snapshot-agreement.
  void check_snapshot_bytes(SimNode& n, core::LogIndex index, const std::string& bytes,
                            const char* what);

  // --- faults ---
  void crash_timer();
  void partition_timer();
  void heal();

  // --- producers ---
  struct Producer {
    std::string name;
    uint64_t window = 1;
    Time timeout = 300;
    Time gap = 5;
    uint64_t next_seq = 1;
    core::NodeId guess = 1;  // where it thinks the leader is
    Time paused_until = 0;   // a stalled client: neither pushes nor retries
    struct Out {
      uint64_t attempts = 0;
      uint64_t generation = 0;
      Time first_sent = 0;
    };
    std::map<uint64_t, Out> outstanding;
    std::map<uint64_t, core::LogIndex> acked;
    uint64_t batch = 1;  // new seqs sent together in one push_batch, at most
    uint64_t next_request = 1;
    std::map<uint64_t, std::vector<uint64_t>> requests;  // request id -> seqs
  };
  void producer_step(size_t p);
  void send_push(size_t p, uint64_t seq, core::NodeId to, Time delay);
  void send_batch(size_t p, const std::vector<uint64_t>& seqs, core::NodeId to, Time delay);
  // Starts one more attempt of seq (false: the producer gives it up) and
  // arms its timeout.
  bool attempt(size_t p, uint64_t seq, Time delay, uint64_t* attempt_no);
  void request_arrives(core::NodeId to, size_t p, uint64_t request_id, const std::string& frame,
                       uint64_t attempt);
  void reply_arrives(size_t p, uint64_t seq, std::optional<wire::PushResult> ack,
                     const Status& error);

  // --- subscribers ---
  // The Subscriber library's rules (StreamTracker) over one node's
  // simulated PUB stream, fetching from the nodes' real ClientService.
  struct Subscriber {
    core::NodeId node = 1;  // whose PUB stream it reads
    uint32_t loss_ppm = 0;
    std::vector<std::string> topics;  // empty: every topic
    std::unique_ptr<StreamTracker> stream;
    core::LogIndex saved = 0;  // its position file
    core::LogIndex last_output = 0;
    core::NodeId fetch_from = 1;
    uint64_t incarnation = 0;
    std::vector<std::pair<core::LogIndex, std::string>> output;  // index, producer#seq
    // Ranges of indexes it skipped: every node asked said they were
    // compacted (NotFound), and it went on from the earliest index held.
    std::vector<std::pair<core::LogIndex, core::LogIndex>> skipped;
    // The nodes asked in turn since one last served a page (the Subscriber
    // library's round over its endpoints), and the lowest earliest index
    // those that answered "compacted" named (0: none did).
    int round_asked = 0;
    core::LogIndex round_earliest = 0;
  };
  bool wanted(const Subscriber& sub, const std::string& topic) const;
  void live_message(size_t s, uint64_t incarnation, const std::string& topic,
                    const std::string& body);
  void subscriber_step(size_t s);
  // One fetch from node `from` through its ClientService; checks what it
  // returns: a page, "compacted" (NotFound, naming the earliest index the
  // node holds: *earliest), or no answer (the node is down, or the answer
  // was a violation).
  enum class Fetched { kPage, kCompacted, kNoAnswer };
  Fetched fetch(core::NodeId from, core::LogIndex lo, uint64_t max_count, wire::FetchResult* out,
                core::LogIndex* earliest);
  // Every node asked in a round said the subscriber's next index was
  // compacted: it starts again from the earliest index held.
  void fell_behind(size_t s);
  // Delivers what the subscriber's stream has ready.
  void drain(size_t s);
  void output(size_t s, const ReceivedEvent& ev);

  // --- the end ---
  bool settled();
  void final_checks();

  WorldOptions options;
  Rng rng;
  std::string scenario;
  int n = 3;
  core::Config core_config;
  Network network;
  uint32_t client_drop_ppm = 0;
  Time client_max_delay = 5;
  Time disk_max = 5;
  uint64_t apply_us = 0;  // the loop's cost of applying one entry, in microseconds
  Time crash_every = 0;   // 0: no crashes
  uint32_t whole_cluster_ppm = 0;
  Time partition_every = 0;
  uint64_t producer_expiry_ms = 0;  // 0: producers never expire
  // Snapshots: every so many applied entries (0: not by count), at random
  // moments (every about snapshot_timer_ms; 0: not), and how much of the
  // log a node keeps behind its snapshot: retain < 0, none
  // (install_snapshot: save and compact at once); else save_snapshot, then
  // compact to retain entries below it, up to compact_delay_max ms later.
  core::LogIndex snapshot_every = 0;
  Time snapshot_timer_ms = 0;
  int64_t retain = -1;
  Time compact_delay_max = 0;
  std::map<core::LogIndex, std::string> ref_snapshots;  // index -> the event layer's bytes
  std::vector<std::unique_ptr<SimNode>> nodes;
  std::vector<Producer> producers;
  std::vector<Subscriber> subscribers;
  std::vector<RefEntry> ref;  // ref[i - 1]: index i
  std::map<std::pair<std::string, uint64_t>, core::LogIndex> ref_events;
  std::string fetch_reply;  // the reply to the fetch being made

  Time now = 0;
  uint64_t next_seq = 0;
  std::map<std::pair<Time, uint64_t>, std::function<void()>> queue;
  bool healed = false;
  Time healed_at = 0;
  bool finished = false;
  Violation violation;
  WorldResult result;
};

// --- One node ---------------------------------------------------------------

class SimClock final : public Clock {
 public:
  explicit SimClock(const Time* now) : now_(now) {}
  std::chrono::steady_clock::time_point now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(*now_));
  }

 private:
  const Time* now_;
};

struct SimNode : server::ReplyChannel, server::PubChannel {
  SimNode(World::Impl* w, core::NodeId id) : world(w), id(id), clock(&w->now) {}

  // What the Raft checker reads of this node. The log is the one
  // ReplicatedLog told its LogWriter (Disk::submit), and after a crash what
  // reached the store; the core's state is read after every loop turn
  // (poll: it changes only there) and kept, so the checker's pass over
  // every node reads fields, not every node's ReplicatedLog.
  class RaftView final : public NodeView {
   public:
    // Adds itself to the checker (nodes are made in id order).
    explicit RaftView(SimNode* node) : node_(node) { node->world->checker.add_node(this); }

    core::NodeId id() const override { return node_->id; }
    bool up() const override { return node_->up(); }
    uint64_t incarnation() const override { return node_->incarnation; }
    const LogView& log() const override { return log_; }
    core::LogIndex applied() const override { return applied_; }
    core::LogIndex durable_commit() const override {
      core::HardState hs;
      (void)node_->store.load_hard_state(&hs);
      return hs.commit;
    }
    bool ok() const override { return ok_; }
    Status status() const override { return ok_ ? Status::Ok() : node_->log->status(); }
    core::Term term() const override { return term_; }
    core::Role role() const override { return role_; }
    core::LogIndex commit_index() const override { return commit_; }
    uint64_t last_heartbeat_ack() const override { return ack_; }

    LogView& mutable_log() { return log_; }
    void set_applied(core::LogIndex index) { applied_ = index; }
    // The hard state ReplicatedLog last told the disk.
    core::HardState told;

    // Reads the core's state after a loop turn (ok: whether the turn, and
    // so the node, is ok); true if anything the checker looks at changed
    // since the last call (or the log did, or touch() was called).
    bool refresh(bool ok) {
      const LocalNode self = node_->log->local_node();
      const uint64_t ack = node_->log->last_heartbeat_ack();
      // A turn that moves the commit index hands the new one to the disk
      // in a hard state (core::Raft::take_ready), so without one it did
      // not move; local_history() costs a lock, and a turn mostly has none.
      const core::LogIndex commit =
          hard_state_told_ || !ok ? node_->log->local_history().committed : commit_;
      hard_state_told_ = false;
      const bool changed = changed_ || self.ballot.term != term_ || self.role != role_ ||
                           commit != commit_ || ack != ack_ || ok != ok_;
      term_ = self.ballot.term;
      role_ = self.role;
      commit_ = commit;
      ack_ = ack;
      ok_ = ok;
      changed_ = false;
      return changed;
    }
    void touch() { changed_ = true; }
    // ReplicatedLog handed its disk a hard state.
    void hard_state_told() { hard_state_told_ = true; }
    // A new life, from the store: nothing applied yet.
    void restart() {
      applied_ = 0;
      (void)node_->store.load_hard_state(&told);
      hard_state_told_ = true;  // read the commit index afresh
      (void)refresh(node_->log->status().ok());
    }
    // A crash: the log is what reached the store. Below lost_from (the
    // lowest index a write that did not reach the store would have
    // written; 0: every write reached it) the two agree, as the store
    // took the same writes in the same order, only fewer. Returns the
    // first index at which the log changed (0: it did not).
    core::LogIndex crash(core::LogIndex lost_from) {
      if (lost_from == 0) return 0;
      std::vector<core::Entry> durable;  // the store from lost_from on
      const storage::MemoryLogStore& store = node_->store;
      if (store.last_index() >= lost_from) {
        (void)store.entries(lost_from, store.last_index() + 1, SIZE_MAX, &durable);
      }
      core::LogIndex changed = 0;
      for (core::LogIndex i = lost_from; changed == 0; ++i) {
        const core::Entry* told_entry = log_.at(i);
        const core::Entry* durable_entry =
            i - lost_from < durable.size() ? &durable[i - lost_from] : nullptr;
        if (told_entry == nullptr && durable_entry == nullptr) break;
        if (told_entry == nullptr || durable_entry == nullptr || !(*told_entry == *durable_entry)) {
          changed = i;
        }
      }
      if (changed == 0) return 0;
      if (durable.empty()) {
        log_.truncate(lost_from - 1);
      } else {
        (void)log_.append(durable);
      }
      return changed;
    }
    // The leader's snapshot `head` replaced the log on the disk: the log
    // now ends at head, and what it stands for is the committed log up to
    // there, which is what the view holds from here on (log-matching and
    // leader-completeness compare it so). A compaction leaves the view as
    // it is: the log still stands for the entries it dropped.
    void installed(const core::SnapshotHead& head) {
      World::Impl& w = *node_->world;
      const Checker& c = w.checker;
      const core::Entry* at = c.committed(head.index);
      if (at == nullptr || at->term != head.term) {
        w.checker.fail("state-machine-safety",
                       Cat("n", node_->id, " installs a snapshot of ", head.index, "/", head.term,
                           at == nullptr ? std::string(", beyond every commit index")
                                         : Cat(", where ", DescribeEntry(*at), " is committed")));
        return;
      }
      for (core::LogIndex i = head.index + 1; i <= log_.last_index(); ++i) {
        const core::Entry* committed = c.committed(i);
        if (committed != nullptr && *committed == *log_.at(i)) {
          w.checker.fail("state-machine-safety",
                         Cat("n", node_->id, " installs a snapshot of ", head.index,
                             " and so removes committed entry ", DescribeEntry(*committed)));
          return;
        }
      }
      core::LogIndex changed = 0;
      for (core::LogIndex i = 1; i <= head.index && changed == 0; ++i) {
        if (log_.at(i) == nullptr || !(*log_.at(i) == *c.committed(i))) changed = i;
      }
      if (changed == 0 && log_.last_index() > head.index) changed = head.index + 1;
      if (changed == 0) return;
      if (changed > head.index) {
        log_.truncate(head.index);
      } else {
        std::vector<core::Entry> prefix;
        prefix.reserve(head.index - changed + 1);
        for (core::LogIndex i = changed; i <= head.index; ++i) prefix.push_back(*c.committed(i));
        log_.truncate(changed - 1);
        (void)log_.append(prefix);
      }
      w.checker.log_changed(*this, changed);
      touch();
    }

   private:
    SimNode* node_;
    LogView log_;
    core::LogIndex applied_ = 0;
    core::Term term_ = 0;
    core::Role role_ = core::Role::kFollower;
    core::LogIndex commit_ = 0;
    uint64_t ack_ = 0;
    bool ok_ = true;
    bool changed_ = false;
    bool hard_state_told_ = false;
  };

  // The disk: writes complete in order, disk latency after submission.
  // The disk, written the way raftlogd's storage thread writes
  // (server::Persister): while one write is on the disk, what is submitted
  // queues up, and the next write takes all of it merged into one (group
  // commit), reporting one completion per submitted write, in order.
  class Disk final : public LogWriter {
   public:
    // How often a node that hands its disk a new vote crashes right after
    // that turn, with the write still queued (chaos only), and is back
    // within how long: soon enough for a vote request of the same term
    // still in flight.
    static constexpr uint32_t kCrashVoterPpm = 50000;
    static constexpr Time kCrashVoterDownMs = 10;

    explicit Disk(SimNode* node) : node_(node) {}
    void submit(LogWrite write) override {
      // What the runtime is told from here on: the checker's view of the log.
      RaftView& v = node_->view;
      World::Impl& w = *node_->world;
      (void)w.raft().write_taken(v, v.told, write.hard_state, write.sync, write.entries,
                                 &v.mutable_log());
      if (write.hard_state) {
        // Now and then a node dies while its new vote is on the way to the
        // disk: does its reply wait for the write (vote-safety)?
        const core::NodeId vote = write.hard_state->voted_for;
        if (vote != core::kNoNode && vote != v.told.voted_for && !w.healed &&
            w.rng.chance(kCrashVoterPpm)) {
          w.trace("n", node_->id, " writes a vote for n", vote, ": it crashes now");
          SimNode* n = node_;
          w.at(0, [n, inc = n->incarnation] {
            if (n->up() && n->incarnation == inc) n->world->crash(*n, false, kCrashVoterDownMs);
          });
        }
        v.told = *write.hard_state;
        v.hard_state_told();
      }
      if (!write.entries.empty()) v.touch();
      node_->world->raft_verdict();
      queue_.push_back(std::move(write));
      if (!writing_) start();
    }
    void take_done(std::vector<LogWriteDone>* out) override {
      for (LogWriteDone& d : done_) out->push_back(std::move(d));
      done_.clear();
    }
    // A crash: the write on the disk is atomic, so it either landed or not;
    // what queued behind it is lost. Returns what landed, for the trace.
    size_t crash(bool lands) {
      const size_t landed = writing_ && lands ? jobs_ : 0;
      if (landed > 0) {
        const LogWriteDone d = CarryOut(&node_->store, batch_);
        durable();
        received(d);
      }
      auto lost = [this](const LogWrite& w) {
        if (w.entries.empty()) return;
        const core::LogIndex from = w.entries.front().index;
        if (lost_from_ == 0 || from < lost_from_) lost_from_ = from;
      };
      lost_from_ = 0;
      if (writing_ && landed == 0) lost(batch_);
      for (const LogWrite& w : queue_) lost(w);
      return landed;
    }
    // After crash(): the lowest index a write lost by it would have
    // written (0: none).
    core::LogIndex lost_from() const { return lost_from_; }
    size_t queued() const { return queue_.size() + (writing_ ? jobs_ : 0); }

   private:
    void start() {
      World::Impl& w = *node_->world;
      jobs_ = 1;
      batch_ = std::move(queue_.front());
      queue_.pop_front();
      while (!queue_.empty() && CanMergeInto(batch_)) {
        MergeLogWrites(batch_, queue_.front());
        queue_.pop_front();
        ++jobs_;
      }
      writing_ = true;
      const bool touches =
          batch_.hard_state.has_value() || !batch_.entries.empty() || batch_.has_snapshot_work();
      const uint64_t inc = node_->incarnation;
      SimNode* n = node_;
      w.at(touches ? w.rng.between(0, w.disk_max) : 0, [n, inc] {
        if (!n->up() || n->incarnation != inc) return;
        n->disk->finish();
        n->world->poll(*n);
      });
    }
    // A leader's snapshot the write carried replaced the log.
    void received(const LogWriteDone& d) {
      if (!d.status.ok() || !d.received || !d.received->status.ok()) return;
      node_->view.installed(d.received->head);
      node_->world->raft_verdict();
    }
    // The write on the disk reached it: a vote in it is a promise now, even
    // if no reply goes out before a crash.
    void durable() {
      if (batch_.hard_state && batch_.hard_state->voted_for != core::kNoNode) {
        node_->world->raft().vote_granted(node_->id, batch_.hard_state->term,
                                          batch_.hard_state->voted_for, "on disk");
        node_->world->raft_verdict();
      }
    }
    void finish() {
      LogWriteDone d = CarryOut(&node_->store, batch_);
      if (d.status.ok()) durable();
      received(d);
      done_.push_back(std::move(d));
      // One report stands for every merged write; the rest report empty.
      for (size_t i = 1; i < jobs_; ++i) {
        done_.push_back(LogWriteDone{done_.back().status, {}, {}, {}, {}});
      }
      writing_ = false;
      if (!queue_.empty()) start();
    }

    SimNode* node_;
    std::deque<LogWrite> queue_;  // behind the write on the disk
    LogWrite batch_;              // on the disk
    size_t jobs_ = 0;             // writes merged into batch_
    bool writing_ = false;
    std::vector<LogWriteDone> done_;
    core::LogIndex lost_from_ = 0;
  };

  class Net final : public Transport {
   public:
    explicit Net(SimNode* node) : node_(node) {}
    void send(const core::Message& m) override { node_->world->send(m); }
    Status receive(std::chrono::milliseconds, std::vector<core::Message>* out) override {
      for (core::Message& m : node_->inbox) out->push_back(std::move(m));
      node_->inbox.clear();
      return Status::Ok();
    }
    void wake() override {}

   private:
    SimNode* node_;
  };

  bool up() const { return log != nullptr; }

  // The client socket's replies and the PUB socket's messages: to the world.
  void send(const server::ReplyTo& to, std::string_view frame) override {
    world->on_reply(*this, to, frame);
  }
  void send(std::string_view topic, std::string_view body) override {
    world->on_pub(*this, topic, body);
  }

  World::Impl* world;
  core::NodeId id;
  uint64_t incarnation = 0;
  SimClock clock;
  storage::MemoryLogStore store;  // the durable disk
  std::unique_ptr<Disk> disk;     // writes in flight (lost by a crash)
  std::unique_ptr<ReplicatedLog> log;
  std::unique_ptr<server::Publisher> publisher;
  std::unique_ptr<server::ClientService> clients;
  std::unique_ptr<server::EventMachine> events;
  Time next_heartbeat = 0;
  std::vector<core::Message> inbox;
  bool turn_scheduled = false;
  RaftView view{this};  // after world: it adds itself to world->checker
  // When this node, if it leads, next calls heartbeat() (the basis of a
  // ReadIndex read), for read-index-safety.
  Time next_read_heartbeat = 0;
  // The index of the last snapshot this life took or loaded (0: none yet).
  core::LogIndex snapshot_index = 0;
  // No event seen yet in this life: a SnapshotLoaded now is the store's.
  bool fresh = true;
};

World::Impl::Impl(const WorldOptions& o) : options(o), rng(o.seed), network(LinkFaults{}) {
  // raftlogd's log lines (a snapshot restored, ...) are noise here: the
  // trace tells the story. Warnings and errors still show.
  server::SetLogLevel(server::LogLevel::kWarn);
  n = options.sizes[rng.below(options.sizes.size())];
  core_config.election_ticks = static_cast<int>(rng.between(8, 20));
  core_config.heartbeat_ticks = static_cast<int>(rng.between(1, 3));
  core_config.max_entries_per_msg = rng.between(1, 64);
  core_config.max_inflight_msgs = rng.between(1, 8);
  // Small Readies make a restarted node apply its log over many loop turns:
  // the window where a leader has applied less than it has committed.
  core_config.max_committed_bytes_per_ready = rng.chance(500000) ? rng.between(64, 512) : 1 << 20;
  LinkFaults links;
  links.min_delay = 1;
  links.max_delay = rng.between(1, 15);
  links.drop_ppm = static_cast<uint32_t>(rng.below(40000));
  links.duplicate_ppm = static_cast<uint32_t>(rng.below(20000));
  links.long_delay_ppm = static_cast<uint32_t>(rng.below(10000));
  links.long_delay_max = rng.between(links.max_delay, 300);
  network.set_faults(links);
  client_drop_ppm = static_cast<uint32_t>(rng.below(30000));
  client_max_delay = rng.between(1, 10);
  disk_max = rng.between(0, 20);
  // A slow apply stretches a restarted node's replay past an election.
  apply_us = rng.chance(500000) ? rng.between(100, 2000) : 0;
  crash_every = rng.chance(800000) ? rng.between(150, 1500) : 0;
  whole_cluster_ppm = static_cast<uint32_t>(rng.chance(500000) ? rng.between(200000, 600000) : 0);
  partition_every = rng.chance(600000) ? rng.between(200, 2000) : 0;
  // Short expiries, with producers that stall for about as long, so that
  // a retry reaches a cluster that has forgotten its producer.
  producer_expiry_ms = rng.chance(400000) ? rng.between(100, 1000) : 0;
  // Snapshots as raftlogd takes them, in 85% of the scenarios: by count of
  // applied entries, at random moments, or both. Small chunks (16 bytes to
  // 4 KB, about evenly over the powers of two), sometimes throttled, so a
  // transfer takes many round trips and meets crashes, partitions and loss.
  if (rng.chance(850000)) {
    const uint64_t how = rng.below(3);
    if (how != 1) snapshot_every = rng.between(10, 200);
    if (how != 0) snapshot_timer_ms = rng.between(50, 1000);
    if (rng.chance(600000)) {
      retain = static_cast<int64_t>(rng.between(0, 100));
      compact_delay_max = rng.between(0, 300);
    }
    const uint64_t power = rng.below(9);  // 16 << power: 16 .. 4096
    core_config.snapshot_chunk_bytes =
        rng.between(16ull << power, std::min(4096ull, 32ull << power));
    if (rng.chance(300000)) {
      core_config.snapshot_bytes_per_tick =
          rng.between(core_config.snapshot_chunk_bytes, 4 * core_config.snapshot_chunk_bytes);
    }
  }
  const uint64_t np = rng.between(1, 4);
  for (uint64_t i = 0; i < np; ++i) {
    Producer p;
    p.name = Cat("p", i + 1);
    p.window = rng.between(1, 16);
    p.timeout = rng.between(50, 600);
    p.gap = rng.between(1, 20);
    p.guess = static_cast<core::NodeId>(rng.between(1, n));
    // Some producers send new events in push_batches, as raftlog-push does.
    p.batch = rng.chance(400000) ? rng.between(2, 8) : 1;
    producers.push_back(p);
  }
  const uint64_t ns = rng.between(1, 3);
  for (uint64_t i = 0; i < ns; ++i) {
    Subscriber s;
    s.node = static_cast<core::NodeId>(rng.between(1, n));
    s.loss_ppm = static_cast<uint32_t>(rng.below(200000));
    s.fetch_from = s.node;
    if (rng.chance(300000)) s.topics = {rng.chance(500000) ? "even" : "odd"};
    s.stream = std::make_unique<StreamTracker>(s.topics);
    s.stream->start_after(0);  // from the start of the log
    subscribers.push_back(std::move(s));
  }
  scenario =
      Cat(n, " nodes, election ", core_config.election_ticks, " ticks, heartbeat ",
          core_config.heartbeat_ticks, ", batch ", core_config.max_entries_per_msg, ", inflight ",
          core_config.max_inflight_msgs, ", apply ", core_config.max_committed_bytes_per_ready,
          " B/ready, ", apply_us, " us/entry; net delay 1..", links.max_delay, " ms, loss ",
          links.drop_ppm / 10000.0, "%, dup ", links.duplicate_ppm / 10000.0, "%; client loss ",
          client_drop_ppm / 10000.0, "%; disk 0..", disk_max, " ms; crash every ", crash_every,
          " ms (whole cluster ", whole_cluster_ppm / 10000, "%), partition every ", partition_every,
          " ms; ", producers.size(), " producers, ", subscribers.size(), " subscribers; ",
          snapshot_every == 0 && snapshot_timer_ms == 0
              ? std::string("no snapshots")
              : Cat("snapshot every ", snapshot_every, " entries and ", snapshot_timer_ms, " ms, ",
                    retain < 0 ? std::string("compacting to it") : Cat("retaining ", retain),
                    ", chunks of ", core_config.snapshot_chunk_bytes, " B, ",
                    core_config.snapshot_bytes_per_tick, " B/tick"));
  for (int i = 1; i <= n; ++i) nodes.push_back(std::make_unique<SimNode>(this, i));
}

void World::Impl::start(SimNode& nd) {
  ++nd.incarnation;
  nd.disk = std::make_unique<SimNode::Disk>(&nd);
  ReplicatedLogOptions lo;
  lo.core = core_config;
  lo.core.id = nd.id;
  lo.core.random_seed = rng.next();
  lo.tick_interval = std::chrono::milliseconds(kTickMs);
  for (int i = 1; i <= n; ++i) lo.members.voters.push_back(i);
  lo.resume_from_commit = false;  // as raftlogd: the producer table is rebuilt from the log
  lo.clock = &nd.clock;
  lo.writer = nd.disk.get();
  Status s = ReplicatedLog::Open(lo, storage::Borrow(&nd.store),
                                 std::make_unique<SimNode::Net>(&nd), &nd.log);
  if (!s.ok()) {
    fail("node-error", Cat("n", nd.id, " cannot start: ", s.ToString()));
    return;
  }
  // The node as raftlogd assembles it, with the simulator's sockets.
  nd.publisher = std::make_unique<server::Publisher>(&nd);
  nd.publisher->on_subscription(std::string_view("\x01", 1));  // subscribers take every topic
  server::ClientServiceOptions co;
  for (int i = 1; i <= n; ++i) co.client_endpoints[i] = Endpoint(i);
  co.wall_ms = [this] { return static_cast<uint64_t>(now); };
  nd.clients = std::make_unique<server::ClientService>(std::move(co), nd.log.get(), &nd);
  server::EventMachineOptions eo;
  eo.producer_expiry_ms = producer_expiry_ms;
  eo.publish_after = nd.log->local_history().committed;
  nd.events = std::make_unique<server::EventMachine>(nd.log.get(), nd.publisher.get(),
                                                     nd.clients.get(), eo);
  nd.clients->set_events(nd.events.get());
  nd.next_heartbeat = now + rng.between(0, kHeartbeatMs);
  nd.snapshot_index = 0;
  nd.fresh = true;
  trace("n", nd.id, " START (commit ", nd.log->local_history().committed, ", last ",
        nd.log->local_history().last, ")");
  nd.view.restart();
  raft().restarted(nd.view);
  raft_step();
  // The loop's timer: a turn every tick at least.
  at(rng.between(1, kTickMs), [this, p = &nd, inc = nd.incarnation] { tick(p, inc); });
}

void World::Impl::tick(SimNode* nd, uint64_t incarnation) {
  if (!nd->up() || nd->incarnation != incarnation) return;
  poll(*nd);
  if (nd->up() && now >= nd->next_heartbeat) {  // as raftlogd's loop does
    nd->publisher->heartbeat(
        {nd->events->last_event_index(), nd->log->local_history().committed, nd->id});
    nd->next_heartbeat = now + kHeartbeatMs;
  }
  at(kTickMs, [this, nd, incarnation] { tick(nd, incarnation); });
}

void World::Impl::crash(SimNode& nd, bool whole_cluster, Time max_down) {
  if (!nd.up()) return;
  // The write on the disk may land; what queued behind it is lost.
  const size_t queued = nd.disk->queued();
  const size_t reach = nd.disk->crash(rng.chance(500000));
  const core::LogIndex lost_from = nd.disk->lost_from();
  nd.events.reset();
  nd.clients.reset();
  nd.publisher.reset();
  nd.log.reset();
  nd.disk.reset();
  nd.inbox.clear();
  ++nd.incarnation;
  ++result.crashes;
  trace("n", nd.id, " CRASH", whole_cluster ? " (whole cluster)" : "", ": ", reach, " of ", queued,
        " queued writes reached the disk");
  // What the node's runtime knew of its log is gone; the store's is left.
  if (const core::LogIndex changed = nd.view.crash(lost_from); changed != 0) {
    raft().log_changed(nd.view, changed);
  }
  raft_step();
  const Time down = max_down > 0    ? rng.between(1, max_down)
                    : whole_cluster ? rng.between(1, 30)
                                    : rng.between(1, 400);
  SimNode* p = &nd;
  at(down, [this, p] {
    if (!p->up()) start(*p);
  });
}

void World::Impl::poll(SimNode& nd) {
  if (!nd.up() || failed()) return;
  if (nd.view.role() == core::Role::kLeader && now >= nd.next_read_heartbeat) {
    // Now and then a leader (stale ones too) confirms its leadership the
    // way a ReadIndex read would; this turn sends the round.
    nd.next_read_heartbeat = now + rng.between(20, 200);
    uint64_t seq = 0;
    if (nd.log->heartbeat(&seq).ok()) {
      raft().heartbeat_sent(nd.view, nd.view.term(), seq);
      trace("n", nd.id, " heartbeat ", seq);
    }
  }
  Status s = nd.log->run_once(std::chrono::milliseconds(0));
  // The core's state changes only in a turn: check it when it did. A node
  // that stopped itself is the checker's core-error.
  if (nd.view.refresh(s.ok())) raft_step();
  if (!s.ok() || failed()) return;
  bool any = false;
  uint64_t applied = 0;
  Event ev;
  while (nd.up() && nd.log->next_event(&ev)) {
    any = true;
    if (const auto* c = std::get_if<Committed>(&ev)) {
      ++applied;
      on_committed(nd, *c);
    } else if (const auto* loaded = std::get_if<SnapshotLoaded>(&ev)) {
      on_snapshot_loaded(nd, *loaded);
    } else if (const auto* saved = std::get_if<SnapshotInstalled>(&ev)) {
      on_snapshot_saved(nd, *saved);
    } else if (const auto* r = std::get_if<core::RoleChanged>(&ev)) {
      trace("n", nd.id, " ", core::RoleName(r->role), " (term ", nd.log->local_node().ballot.term,
            ", applied ", nd.events->applied(), ", commit ", nd.log->local_history().committed,
            ", last ", nd.log->local_history().last, ")");
    } else if (const auto* l = std::get_if<core::NewLeaderElected>(&ev)) {
      // Every leadership, even one that ended within the turn.
      if (l->leader == nd.id) {
        (void)raft().leader_seen(nd.view, l->term);
        raft_verdict();
      }
    }
    nd.fresh = false;
    if (failed()) return;
    nd.events->on_event(ev);
  }
  if (applied > 0) maybe_snapshot(nd);
  if (failed()) return;
  // A turn that delivered something may have left more (a replay goes a
  // few Readies per turn): the loop turns again once this one's work is
  // done, 1 ms plus the scenario's cost of applying each entry.
  if (any && !nd.turn_scheduled) {
    nd.turn_scheduled = true;
    SimNode* p = &nd;
    const uint64_t inc = nd.incarnation;
    at(1 + applied * apply_us / 1000, [this, p, inc] {
      p->turn_scheduled = false;
      if (p->up() && p->incarnation == inc) poll(*p);
    });
  }
}

void World::Impl::send(const core::Message& m) {
  if (m.type() == core::MessageType::kInstallSnapshot) ++result.snapshot_chunks;
  if (m.type() == core::MessageType::kRequestVoteReply) {
    const auto& reply = std::get<core::RequestVoteReply>(m.body);
    if (reply.granted && !reply.pre_vote) {
      raft().vote_granted(m.from, m.term, m.to, "on the wire");
      raft_verdict();
    }
  }
  const char* why = "";
  for (Time d : network.route(rng, m.from, m.to, &why)) {
    at(d, [this, m] {
      SimNode& to = node(m.to);
      if (!to.up() || network.blocked(m.from, m.to)) return;
      to.inbox.push_back(m);
      poll(to);
    });
  }
}

core::LogIndex World::Impl::max_commit() {
  core::LogIndex c = 0;
  for (auto& nd : nodes) {
    if (nd->up()) c = std::max(c, nd->log->local_history().committed);
  }
  return c;
}

// --- The checks -------------------------------------------------------------

void World::Impl::on_committed(SimNode& nd, const Committed& c) {
  // The checker's state-machine-safety: each node applies index after
  // index, the entry committed there. So the first node to apply an index
  // extends ref by one, and every node applies what ref holds.
  raft().applied(nd.view, c.entry);
  nd.view.set_applied(c.index);
  raft_verdict();
  if (failed()) return;
  const core::LogIndex i = c.index;
  if (i <= ref.size()) return;
  if (i != ref.size() + 1) {
    // Every index was applied by some node before: a snapshot only covers
    // what a node applied.
    fail("state-machine-safety",
         Cat("n", nd.id, " applies ", i, " before any node applied ", ref.size() + 1));
    return;
  }
  RefEntry r;
  r.term = c.entry.term;
  r.type = c.entry.type;
  r.data = c.entry.data;
  if (c.entry.type == core::EntryType::kCommand) {
    wire::EventRecord rec;
    Status s = wire::DecodeEventRecord(c.entry.data.data(), c.entry.data.size(), {}, &rec);
    if (!s.ok()) {
      fail("never-pushed", Cat("entry ", i, " holds no event record: ", s.message()));
      return;
    }
    r.producer = rec.producer;
    r.seq = rec.seq;
    r.payload = rec.payload;
    r.topic = rec.topic;
    auto p = std::find_if(producers.begin(), producers.end(),
                          [&](const Producer& x) { return x.name == rec.producer; });
    if (p == producers.end() || rec.seq == 0 || rec.seq >= p->next_seq ||
        rec.payload != Payload(rec.producer, rec.seq)) {
      fail("never-pushed", Cat("entry ", i, " holds '", rec.payload, "' from producer '",
                               rec.producer, "' seq ", rec.seq, ", which was never pushed"));
      return;
    }
    auto [it, fresh] = ref_events.emplace(std::make_pair(rec.producer, rec.seq), i);
    if (!fresh) {
      // The log holds a (producer, seq) twice: a leader appended a retry of
      // an entry it already had.
      fail("exactly-once", Cat("producer ", rec.producer, " seq ", rec.seq, " is committed at ",
                               it->second, " and again at ", i));
      return;
    }
    r.event = true;
  }
  ref.push_back(std::move(r));
}

void World::Impl::on_pub(SimNode& nd, std::string_view topic, std::string_view body) {
  if (topic != wire::kHeartbeatTopic) {
    wire::PublishedEventView ev;
    Status st = wire::DecodePublishedEvent(body.data(), body.size(), {}, &ev);
    if (!st.ok()) {
      fail("publish-durable", Cat("n", nd.id, " publishes an undecodable event: ", st.message()));
      return;
    }
    const LocalHistory h = nd.log->local_history();
    core::Term durable_term = 0;
    if (ev.index > h.committed || !nd.store.term(ev.index, &durable_term).ok() ||
        durable_term != ev.term) {
      fail("publish-durable",
           Cat("n", nd.id, " publishes ", ev.index, "/", ev.term, " with commit ", h.committed,
               " and term ", durable_term, " on its disk there"));
      return;
    }
    if (ev.index > ref.size() || !ref[ev.index - 1].event ||
        ref[ev.index - 1].producer != ev.producer || ref[ev.index - 1].seq != ev.seq ||
        ref[ev.index - 1].topic != topic) {
      fail("publish-durable", Cat("n", nd.id, " publishes ", ev.index, " (", ev.producer, " seq ",
                                  ev.seq, "), which is not the event committed there"));
      return;
    }
    core::LogIndex prev = 0;
    for (core::LogIndex i = ev.index - 1; i >= 1; --i) {
      if (ref[i - 1].event) {
        prev = i;
        break;
      }
    }
    if (ev.prev_index != prev) {
      fail("stream-chain", Cat("n", nd.id, " publishes ", ev.index, " with prev_index ",
                               ev.prev_index, "; the event before it is at ", prev));
      return;
    }
  }
  // Each subscriber of this node's stream gets the message, or loses it
  // (past its high-water mark).
  for (size_t s = 0; s < subscribers.size(); ++s) {
    Subscriber& sub = subscribers[s];
    if (sub.node != nd.id || rng.chance(sub.loss_ppm)) continue;
    at(rng.between(0, 5), [this, s, inc = sub.incarnation, t = std::string(topic),
                           b = std::string(body)] { live_message(s, inc, t, b); });
  }
}

void World::Impl::on_reply(SimNode& nd, const server::ReplyTo& to, std::string_view frame) {
  if (to.client == kFetchClient) {
    fetch_reply.assign(frame);
    return;
  }
  const size_t p = producer_index(to.client);
  Producer& pr = producers[p];
  auto req = pr.requests.find(to.request_id);
  if (req == pr.requests.end()) {
    fail("exactly-once", Cat("n", nd.id, " answers ", pr.name, " request ", to.request_id,
                             ", which was never sent"));
    return;
  }
  const std::vector<uint64_t> seqs = req->second;
  // Read as the Producer library reads it: an ok to a push or a push_batch
  // straight from the frame; anything else as a general reply.
  uint64_t request_id = 0;
  std::string_view code;
  std::vector<wire::PushResult> results;
  Status error;
  if (wire::PeekHead(frame.data(), frame.size(), &request_id, &code) && code == wire::kOk) {
    Status st;
    if (seqs.size() == 1) {
      results.resize(1);
      st = wire::DecodePushReply(frame.data(), frame.size(), {}, &request_id, &results[0]);
    } else {
      st = wire::DecodePushBatchReply(frame.data(), frame.size(), {}, &request_id, &results);
    }
    if (!st.ok() || request_id != to.request_id || results.size() != seqs.size()) {
      fail("ack-committed", Cat("n", nd.id, " sends ", pr.name, " a malformed ok reply to ",
                                seqs.size(), " events: ", st.ToString()));
      return;
    }
    for (size_t i = 0; i < seqs.size() && !failed(); ++i) check_ack(nd, p, seqs[i], results[i]);
    if (failed()) return;
  } else {
    wire::ClientReply reply;
    Status st = wire::DecodeReply(frame.data(), frame.size(), {}, &reply);
    if (!st.ok() || reply.request_id != to.request_id) {
      fail("exactly-once",
           Cat("n", nd.id, " sends ", pr.name, " a malformed reply: ", st.ToString()));
      return;
    }
    error = ReplyStatus(reply);
    if (error.IsNotLeader()) {
      // The leader's endpoint, as a client learns it.
      wire::NotLeaderInfo info;
      const bool named = wire::DecodeNotLeaderBody(reply.body, &info).ok();
      if (named && info.leader != core::kNoNode && info.leader_endpoint != Endpoint(info.leader)) {
        fail("exactly-once",
             Cat("n", nd.id, " names ", info.leader_endpoint, " for leader n", info.leader));
        return;
      }
    }
    if (tracing())
      trace("n", nd.id, " refuses ", to.client, " seqs ", seqs.front(), "..", seqs.back(), ": ",
            error.ToString());
  }
  if (client_drop_ppm > 0 && rng.chance(client_drop_ppm)) return;
  at(rng.between(1, client_max_delay), [this, p, seqs, results, error] {
    for (size_t i = 0; i < seqs.size() && !failed(); ++i) {
      if (results.empty()) {
        reply_arrives(p, seqs[i], std::nullopt, error);
      } else {
        reply_arrives(p, seqs[i], results[i], Status::Ok());
      }
    }
  });
}

size_t World::Impl::producer_index(const std::string& name) const {
  size_t p = 0;
  while (p + 1 < producers.size() && producers[p].name != name) ++p;
  return p;
}

void World::Impl::check_ack(SimNode& nd, size_t p, uint64_t seq, const wire::PushResult& r) {
  const std::string& name = producers[p].name;
  // A retry answered from the producer table, its entry compacted here.
  if (r.duplicate && r.index <= nd.log->local_history().head) ++result.retries_from_snapshot;
  auto it = ref_events.find(std::make_pair(name, seq));
  if (r.index > nd.log->local_history().committed || it == ref_events.end() ||
      it->second != r.index) {
    fail("ack-committed",
         Cat("n", nd.id, " acks ", name, " seq ", seq, " at ", r.index, " (commit ",
             nd.log->local_history().committed, "), but it is committed ",
             it == ref_events.end() ? std::string("nowhere") : Cat("at ", it->second)));
  }
}

// --- Snapshots --------------------------------------------------------------

void World::Impl::check_snapshot_bytes(SimNode& nd, core::LogIndex index, const std::string& bytes,
                                       const char* what) {
  auto [it, fresh] = ref_snapshots.emplace(index, bytes);
  if (!fresh && it->second != bytes) {
    fail("snapshot-agreement",
         Cat("n", nd.id, " ", what, " a snapshot of index ", index, " of ", bytes.size(),
             " bytes that differs from the one taken there before (", it->second.size(),
             " bytes): the event layer's state is not a function of the log"));
  }
}

void World::Impl::on_snapshot_loaded(SimNode& nd, const SnapshotLoaded& loaded) {
  const core::SnapshotHead& head = loaded.head;
  const bool at_start = nd.fresh;
  if (at_start) {
    ++result.snapshots_at_start;
  } else {
    ++result.snapshots_installed;
  }
  trace("n", nd.id,
        at_start ? " starts from its snapshot of " : " installs a leader's snapshot of ",
        head.index, "/", head.term, " (", head.size, " bytes)");
  const core::Entry* committed = checker.committed(head.index);
  if (committed == nullptr || committed->term != head.term) {
    fail("state-machine-safety",
         Cat("n", nd.id, " loads a snapshot of ", head.index, "/", head.term,
             committed == nullptr ? std::string(", beyond every commit index")
                                  : Cat(", where ", DescribeEntry(*committed), " is committed")));
    return;
  }
  check_snapshot_bytes(nd, head.index, loaded.snapshot, "loads");
  if (failed()) return;
  // As raftlogd's loop does: the event layer takes the snapshot's state.
  Status s = nd.events->restore(head.index, loaded.snapshot);
  if (!s.ok()) {
    fail("snapshot-restore",
         Cat("n", nd.id, " cannot restore its snapshot of ", head.index, ": ", s.ToString()));
    return;
  }
  // Committed entries go on from head.index + 1 (state-machine-safety).
  nd.view.set_applied(head.index);
  nd.snapshot_index = std::max(nd.snapshot_index, head.index);
}

void World::Impl::on_snapshot_saved(SimNode& nd, const SnapshotInstalled& saved) {
  ++result.snapshots_taken;
  trace("n", nd.id, " snapshot of ", saved.head.index, " is durable");
  if (retain < 0) {
    ++result.compactions;  // install_snapshot compacted the log to it
    return;
  }
  // raftlogd keeps a tail of entries behind its snapshot: compact later.
  SimNode* p = &nd;
  at(rng.between(0, compact_delay_max), [this, p, inc = nd.incarnation] { compact_step(p, inc); });
}

void World::Impl::compact_step(SimNode* nd, uint64_t incarnation) {
  if (!nd->up() || nd->incarnation != incarnation || failed()) return;
  core::SnapshotHead snap;
  if (!nd->log->last_snapshot(&snap).ok()) return;
  if (snap.index <= static_cast<core::LogIndex>(retain)) return;
  const core::LogIndex to = snap.index - static_cast<core::LogIndex>(retain);
  if (to <= nd->log->local_history().head) return;  // compacted that far already
  Status s = nd->log->compact(to);
  if (s.IsBusy()) {  // one at a time: again a little later
    at(rng.between(5, 50), [this, nd, incarnation] { compact_step(nd, incarnation); });
    return;
  }
  if (!s.ok()) {
    fail("node-error", Cat("n", nd->id, " refuses to compact to ", to, " (snapshot ", snap.index,
                           ", head ", nd->log->local_history().head, "): ", s.ToString()));
    return;
  }
  ++result.compactions;
  trace("n", nd->id, " compacts to ", to, " (snapshot ", snap.index, ")");
}

void World::Impl::maybe_snapshot(SimNode& nd) {
  if (snapshot_every == 0 || nd.events->applied() < nd.snapshot_index + snapshot_every) return;
  take_snapshot(nd);
}

void World::Impl::take_snapshot(SimNode& nd) {
  const core::LogIndex applied = nd.events->applied();
  if (applied <= nd.snapshot_index || applied <= nd.log->local_history().head) return;
  if (nd.log->is_snapshot_installing()) return;  // one at a time: the next turn tries again
  std::string bytes = nd.events->snapshot();
  check_snapshot_bytes(nd, applied, bytes, "takes");
  if (failed()) return;
  const size_t size = bytes.size();
  Status s = retain < 0 ? nd.log->install_snapshot(applied, std::move(bytes))
                        : nd.log->save_snapshot(applied, std::move(bytes));
  if (s.IsBusy()) return;
  if (!s.ok()) {
    fail("node-error",
         Cat("n", nd.id, " refuses a snapshot of what it applied, ", applied, ": ", s.ToString()));
    return;
  }
  nd.snapshot_index = applied;
  trace("n", nd.id, retain < 0 ? " install_snapshot(" : " save_snapshot(", applied, ", ", size,
        " bytes)");
}

void World::Impl::snapshot_timer() {
  if (healed) return;
  at(rng.between(snapshot_timer_ms / 2, snapshot_timer_ms * 3 / 2), [this] { snapshot_timer(); });
  SimNode& nd = node(static_cast<core::NodeId>(rng.between(1, n)));
  if (nd.up()) take_snapshot(nd);
}

// --- Producers --------------------------------------------------------------

void World::Impl::producer_step(size_t p) {
  Producer& pr = producers[p];
  if (healed) return;  // after healing only what is in flight is retried
  at(pr.gap, [this, p] { producer_step(p); });
  if (now < pr.paused_until) return;
  if (producer_expiry_ms > 0 && rng.chance(10000)) {
    pr.paused_until = now + rng.between(producer_expiry_ms / 2, 3 * producer_expiry_ms);
    trace(pr.name, " STALLS until t=", pr.paused_until, " with ", pr.outstanding.size(),
          " pushes unanswered");
    return;
  }
  // The window bounds the span of seqs in flight, as the Producer library's
  // does: a seq retried for long must stay within the numbers the cluster
  // remembers, or its retry is refused as too old with its outcome unknown.
  const uint64_t span = pr.outstanding.empty() ? 0 : pr.next_seq - pr.outstanding.begin()->first;
  if (span >= pr.window) return;
  const uint64_t room = std::min<uint64_t>(pr.window - span, pr.batch);
  const Time delay = rng.between(1, client_max_delay);
  if (room == 1) {
    send_push(p, pr.next_seq++, pr.guess, delay);
    return;
  }
  std::vector<uint64_t> seqs;
  for (uint64_t i = 0; i < room; ++i) seqs.push_back(pr.next_seq++);
  send_batch(p, seqs, pr.guess, delay);
}

bool World::Impl::attempt(size_t p, uint64_t seq, Time delay, uint64_t* attempt_no) {
  Producer& pr = producers[p];
  Producer::Out& out = pr.outstanding[seq];
  if (out.attempts == 0) out.first_sent = now + delay;
  if (out.attempts > 0 && producer_expiry_ms > 0 &&
      now - out.first_sent > kRetryForExpiries * producer_expiry_ms) {
    // The client's own deadline (docs/events.md): a push is not retried for
    // longer than the cluster remembers a producer it forgot.
    ++result.given_up;
    trace(pr.name, " seq ", seq, " given up after ", now - out.first_sent, " ms");
    pr.outstanding.erase(seq);
    return false;
  }
  if (out.attempts > 0) ++result.retries;
  *attempt_no = ++out.attempts;
  const uint64_t generation = ++out.generation;
  // No answer in time: the same seq again, to another node.
  at(delay + pr.timeout, [this, p, seq, generation] {
    Producer& pr = producers[p];
    auto it = pr.outstanding.find(seq);
    if (it == pr.outstanding.end() || it->second.generation != generation) return;
    if (now < pr.paused_until) {  // stalled: the retry waits until it moves again
      ++it->second.generation;
      at(pr.paused_until - now, [this, p, seq, g = it->second.generation] {
        auto again = producers[p].outstanding.find(seq);
        if (again == producers[p].outstanding.end() || again->second.generation != g) return;
        send_push(p, seq, producers[p].guess, rng.between(1, client_max_delay));
      });
      return;
    }
    pr.guess = static_cast<core::NodeId>(rng.between(1, n));
    send_push(p, seq, pr.guess, rng.between(1, client_max_delay));
  });
  return true;
}

void World::Impl::send_push(size_t p, uint64_t seq, core::NodeId to, Time delay) {
  Producer& pr = producers[p];
  uint64_t attempt_no = 0;
  if (!attempt(p, seq, delay, &attempt_no)) return;
  const uint64_t request_id = pr.next_request++;
  pr.requests[request_id] = {seq};
  const std::string topic = Topic(seq);
  const std::string payload = Payload(pr.name, seq);
  wire::PushRequestView push;
  push.request_id = request_id;
  push.topic = topic;
  push.payload = payload;
  push.producer = pr.name;
  push.seq = seq;
  std::string frame;
  wire::EncodePushRequest(push, &frame);
  if (client_drop_ppm > 0 && rng.chance(client_drop_ppm)) return;
  at(delay, [this, to, p, request_id, frame = std::move(frame), attempt_no] {
    request_arrives(to, p, request_id, frame, attempt_no);
  });
}

void World::Impl::send_batch(size_t p, const std::vector<uint64_t>& seqs, core::NodeId to,
                             Time delay) {
  Producer& pr = producers[p];
  for (uint64_t seq : seqs) {
    uint64_t attempt_no = 0;
    (void)attempt(p, seq, delay, &attempt_no);  // first attempts: never given up
  }
  const uint64_t request_id = pr.next_request++;
  pr.requests[request_id] = seqs;
  std::vector<std::string> topics;
  std::vector<std::string> payloads;
  for (uint64_t seq : seqs) {
    topics.push_back(Topic(seq));
    payloads.push_back(Payload(pr.name, seq));
  }
  std::vector<wire::PushEventView> events;
  for (size_t i = 0; i < seqs.size(); ++i) events.push_back({topics[i], payloads[i], seqs[i]});
  std::string frame;
  wire::EncodePushBatchRequest(request_id, pr.name, events, &frame);
  if (client_drop_ppm > 0 && rng.chance(client_drop_ppm)) return;
  at(delay, [this, to, p, request_id, frame = std::move(frame)] {
    request_arrives(to, p, request_id, frame, 1);
  });
}

void World::Impl::request_arrives(core::NodeId to, size_t p, uint64_t request_id,
                                  const std::string& frame, uint64_t attempt) {
  SimNode& nd = node(to);
  if (!nd.up()) return;  // lost with the node's socket
  const std::string& name = producers[p].name;
  const std::vector<uint64_t>& seqs = producers[p].requests[request_id];
  if (attempt > 1 && nd.log->local_node().role == core::Role::kLeader &&
      nd.events->applied() < nd.log->local_history().committed) {
    ++result.retries_to_replaying_leader;
    trace("n", to, " (leader, applied ", nd.events->applied(), " of commit ",
          nd.log->local_history().committed, ") gets a retry of ", name, " seq ", seqs.front());
  }
  if (tracing()) {
    trace("n", to, " gets ", name, seqs.size() > 1 ? " seqs " : " seq ", seqs.front(),
          seqs.size() > 1 ? Cat("..", seqs.back()) : "",
          attempt > 1 ? Cat(" (try ", attempt, ")") : "");
  }
  server::ReplyTo reply;
  reply.client = name;
  nd.clients->on_request(std::move(reply), frame);
  poll(nd);
}

void World::Impl::reply_arrives(size_t p, uint64_t seq, std::optional<wire::PushResult> ack,
                                const Status& error) {
  Producer& pr = producers[p];
  if (ack) {
    auto done = pr.acked.find(seq);
    if (done != pr.acked.end()) {
      if (done->second != ack->index) {
        fail("exactly-once", Cat(pr.name, " seq ", seq, " was acked at ", done->second,
                                 " and again at ", ack->index));
      }
      return;
    }
    pr.acked.emplace(seq, ack->index);
    pr.outstanding.erase(seq);
    ++result.pushes_acked;
    return;
  }
  auto it = pr.outstanding.find(seq);
  if (it == pr.outstanding.end()) return;  // answered already
  if (error.IsInvalidInput()) {
    if (producer_expiry_ms > 0 && error.message().find("expired") != std::string::npos) {
      // Its outcome cannot be told: the client gives it up (and the
      // checker still requires it to be committed at most once).
      ++result.expired_refusals;
      trace(pr.name, " seq ", seq, " given up: ", error.message());
      pr.outstanding.erase(it);
      return;
    }
    fail("exactly-once", Cat(pr.name, " seq ", seq, " was refused: ", error.ToString()));
    return;
  }
  Time delay = rng.between(1, client_max_delay);
  core::NodeId to = pr.guess;
  if (error.IsNotLeader()) {
    to = error.leader_hint() != core::kNoNode ? error.leader_hint()
                                              : static_cast<core::NodeId>(rng.between(1, n));
  } else if (error.IsBusy()) {
    ++result.busy;
    delay += rng.between(5, 30);
  } else {
    delay += rng.between(0, 20);  // dropped by a leader change: again, anywhere
    to = static_cast<core::NodeId>(rng.between(1, n));
  }
  pr.guess = to;
  send_push(p, seq, to, delay);
}

// --- Subscribers ------------------------------------------------------------

bool World::Impl::wanted(const Subscriber& sub, const std::string& topic) const {
  return sub.topics.empty() ||
         std::find(sub.topics.begin(), sub.topics.end(), topic) != sub.topics.end();
}

void World::Impl::live_message(size_t s, uint64_t incarnation, const std::string& topic,
                               const std::string& body) {
  Subscriber& sub = subscribers[s];
  if (sub.incarnation != incarnation) return;  // sent to a subscriber that restarted since
  sub.stream->on_message(topic, body);
  drain(s);
}

World::Impl::Fetched World::Impl::fetch(core::NodeId from, core::LogIndex lo, uint64_t max_count,
                                        wire::FetchResult* out, core::LogIndex* earliest) {
  SimNode& nd = node(from);
  if (!nd.up()) return Fetched::kNoAnswer;
  ++result.fetches;
  // A fetch request as the Subscriber library sends it, answered by the
  // node's ClientService (at once: fetch never waits).
  wire::FetchArgs args;
  args.from = lo;
  args.max_count = max_count;
  wire::ClientRequest request;
  request.request_id = result.fetches;
  request.op = wire::kFetchOp;
  request.args = wire::EncodeFetchArgs(args);
  std::string frame;
  wire::EncodeRequest(request, &frame);
  fetch_reply.clear();
  server::ReplyTo to;
  to.client = kFetchClient;
  nd.clients->on_request(std::move(to), frame);
  wire::ClientReply reply;
  Status st = wire::DecodeReply(fetch_reply.data(), fetch_reply.size(), {}, &reply);
  if (st.ok()) st = ReplyStatus(reply);
  if (st.IsNotFound()) {
    // "Compacted": only for an index at or below the node's log head, and
    // naming the first index after it, as the Subscriber library reads it.
    *earliest = 0;
    for (const auto& [k, v] : reply.body) {
      if (k == "earliest" && v.kind() == wire::Value::Kind::kUint) *earliest = v.as_uint();
    }
    const core::LogIndex head = nd.log->local_history().head;
    if (lo > head || *earliest != head + 1) {
      fail("fetch-committed", Cat("fetch from n", from, " at ", lo, " (log head ", head,
                                  ") answers compacted, naming ", *earliest, ": ", st.ToString()));
      return Fetched::kNoAnswer;
    }
    ++result.compacted_fetches;
    return Fetched::kCompacted;
  }
  if (st.ok()) st = wire::DecodeFetchResult(reply.body, out);
  if (!st.ok()) {
    fail("fetch-committed", Cat("fetch from n", from, " at ", lo, ": ", st.ToString()));
    return Fetched::kNoAnswer;
  }
  core::LogIndex expect = lo;
  for (const core::Entry& e : out->entries) {
    const bool is_event = e.type == core::EntryType::kCommand;
    if (e.index != expect++ || e.index > ref.size() || e.term != ref[e.index - 1].term ||
        is_event != ref[e.index - 1].event || (is_event && e.data != ref[e.index - 1].data)) {
      fail("fetch-committed",
           Cat("fetch from n", from, " at ", lo, " returns ", e.index, "/", e.term,
               is_event ? " as an event" : " as no event", "; committed there: ",
               e.index <= ref.size() ? Cat(ref[e.index - 1].term,
                                           ref[e.index - 1].event ? ", an event" : ", no event")
                                     : std::string("nothing yet")));
      return Fetched::kNoAnswer;
    }
  }
  return Fetched::kPage;
}

void World::Impl::drain(size_t s) {
  Subscriber& sub = subscribers[s];
  std::deque<ReceivedEvent>& ready = sub.stream->ready();
  while (!ready.empty() && !failed()) {
    ReceivedEvent ev = std::move(ready.front());
    ready.pop_front();
    output(s, ev);
    sub.saved = sub.stream->position();  // the position file, written with the output
  }
  if (!failed() && ready.empty()) sub.saved = sub.stream->position();
}

void World::Impl::output(size_t s, const ReceivedEvent& ev) {
  Subscriber& sub = subscribers[s];
  // What must come next: the first event of its topics after the last one output.
  core::LogIndex next = sub.last_output + 1;
  while (next <= ref.size() && !(ref[next - 1].event && wanted(sub, ref[next - 1].topic))) ++next;
  if (ev.index != next || ev.index > ref.size() || ref[ev.index - 1].producer != ev.producer ||
      ref[ev.index - 1].seq != ev.seq || ref[ev.index - 1].payload != ev.payload ||
      ref[ev.index - 1].topic != ev.topic) {
    fail("subscriber-stream",
         Cat("subscriber ", s + 1, " outputs ", ev.index, " (", ev.producer, " seq ", ev.seq,
             ") after ", sub.last_output, "; the next event is at ", next));
    return;
  }
  sub.last_output = ev.index;
  sub.output.emplace_back(ev.index, Payload(ev.producer, ev.seq));
  ++result.subscriber_events;
}

void World::Impl::subscriber_step(size_t s) {
  at(rng.between(2, 20), [this, s] { subscriber_step(s); });
  Subscriber& sub = subscribers[s];
  if (!healed && rng.chance(5000)) {
    // A restart: everything but the position file is gone, and it may come
    // back reading another node's stream.
    ++sub.incarnation;
    ++result.subscriber_restarts;
    sub.stream = std::make_unique<StreamTracker>(sub.topics);
    sub.stream->start_after(sub.saved);
    sub.round_asked = 0;
    sub.round_earliest = 0;
    sub.node = static_cast<core::NodeId>(rng.between(1, n));
    trace("subscriber ", s + 1, " RESTART from ", sub.saved, " reading n", sub.node);
    return;
  }
  if (!sub.stream->fetching()) return;
  // One page, as Subscriber::next does: from the node it fetched from
  // last, moving on when that one cannot serve it.
  wire::FetchResult page;
  core::LogIndex earliest = 0;
  const Fetched got =
      fetch(sub.fetch_from, sub.stream->fetch_from(), rng.between(1, 20), &page, &earliest);
  if (failed()) return;
  Status st;
  if (got == Fetched::kPage) {
    st = sub.stream->take_page(page);
    if (st.IsCorruption()) {
      fail("fetch-committed", Cat("subscriber ", s + 1, ": ", st.message()));
      return;
    }
    // A node that answers with a page ends the round (even one behind
    // what another node published: the library retries then).
    sub.round_asked = 0;
    sub.round_earliest = 0;
  } else {
    // Down or "compacted": the library's round goes on to the next node;
    // when every node was asked and those that answered all said
    // "compacted", Subscriber::next returns NotFound naming the lowest
    // earliest index.
    if (got == Fetched::kCompacted && (sub.round_earliest == 0 || earliest < sub.round_earliest)) {
      sub.round_earliest = earliest;
    }
    if (++sub.round_asked >= n) {
      if (sub.round_earliest != 0) {
        fell_behind(s);
        return;
      }
      sub.round_asked = 0;
    }
  }
  if (got != Fetched::kPage || !st.ok()) {
    sub.fetch_from = static_cast<core::NodeId>(sub.fetch_from % n + 1);
  }
  drain(s);
}

void World::Impl::fell_behind(size_t s) {
  // A user of the Subscriber library that gets NotFound ("index F was
  // compacted; the earliest index held is E") has lost [F, E - 1] for
  // good; here it starts a new subscriber after E - 1, reading another
  // node's stream. subscriber-stream then expects the events from E on.
  Subscriber& sub = subscribers[s];
  const core::LogIndex from = sub.stream->fetch_from();
  const core::LogIndex earliest = sub.round_earliest;
  ++result.subscribers_behind;
  sub.skipped.emplace_back(from, earliest - 1);
  sub.round_asked = 0;
  sub.round_earliest = 0;
  ++sub.incarnation;
  sub.stream = std::make_unique<StreamTracker>(sub.topics);
  sub.stream->start_after(earliest - 1);
  sub.saved = earliest - 1;
  sub.last_output = std::max(sub.last_output, earliest - 1);
  sub.node = static_cast<core::NodeId>(rng.between(1, n));
  trace("subscriber ", s + 1, " FELL BEHIND: ", from,
        " was compacted on every node that "
        "answered; again after ",
        earliest - 1, " reading n", sub.node);
}

// --- Faults -----------------------------------------------------------------

void World::Impl::crash_timer() {
  if (healed) return;
  at(rng.between(crash_every / 2, crash_every * 3 / 2), [this] { crash_timer(); });
  if (rng.chance(whole_cluster_ppm)) {
    ++result.full_restarts;
    for (auto& nd : nodes) crash(*nd, true);
    return;
  }
  std::vector<SimNode*> up;
  SimNode* leader = nullptr;
  for (auto& nd : nodes) {
    if (!nd->up()) continue;
    up.push_back(nd.get());
    if (nd->log->local_node().role == core::Role::kLeader) leader = nd.get();
  }
  if (up.empty()) return;
  SimNode* victim = leader != nullptr && rng.chance(500000) ? leader : rng.pick(up);
  crash(*victim, false);
}

void World::Impl::partition_timer() {
  if (healed) return;
  if (network.partitioned()) {
    network.heal();
    trace("PARTITION healed");
    at(rng.between(partition_every / 2, partition_every * 3 / 2), [this] { partition_timer(); });
    return;
  }
  ++result.partitions;
  // One node cut off, or a minority from a majority.
  std::vector<core::NodeId> ids;
  for (int i = 1; i <= n; ++i) ids.push_back(i);
  const uint64_t minority = rng.between(1, n / 2);
  for (uint64_t i = 0; i < minority; ++i) std::swap(ids[i], ids[i + rng.below(n - i)]);
  for (uint64_t i = 0; i < minority; ++i) {
    for (uint64_t j = minority; j < static_cast<uint64_t>(n); ++j) {
      network.block(ids[i], ids[j]);
      network.block(ids[j], ids[i]);
    }
  }
  trace("PARTITION ", network.describe_blocks());
  at(rng.between(50, 800), [this] { partition_timer(); });
}

void World::Impl::heal() {
  healed = true;
  healed_at = now;
  network.heal();
  LinkFaults calm = network.faults();
  calm.drop_ppm = 0;
  calm.duplicate_ppm = 0;
  calm.long_delay_ppm = 0;
  network.set_faults(calm);
  client_drop_ppm = 0;
  for (Subscriber& s : subscribers) s.loss_ppm = 0;
  trace("HEAL: no more faults; every push must be acked, every node and subscriber catch up");
  for (auto& nd : nodes) {
    if (!nd->up()) start(*nd);
  }
}

// --- The end ----------------------------------------------------------------

bool World::Impl::settled() {
  for (const Producer& p : producers) {
    if (!p.outstanding.empty()) return false;
  }
  core::LogIndex commit = 0;
  for (auto& nd : nodes) {
    if (!nd->up()) return false;
    commit = std::max(commit, nd->log->local_history().committed);
  }
  for (auto& nd : nodes) {
    if (nd->events->applied() < commit) return false;
  }
  if (commit < ref.size()) return false;
  // Each subscriber has output the last event of its topics: what the
  // stream lost, its heartbeats made it fetch.
  for (const Subscriber& s : subscribers) {
    for (core::LogIndex i = ref.size(); i > s.last_output; --i) {
      if (ref[i - 1].event && wanted(s, ref[i - 1].topic)) return false;
    }
  }
  return true;
}

void World::Impl::final_checks() {
  // Every ack names the entry that holds the push, exactly once.
  for (const Producer& p : producers) {
    for (const auto& [seq, index] : p.acked) {
      auto it = ref_events.find(std::make_pair(p.name, seq));
      if (it == ref_events.end() || it->second != index) {
        fail("ack-committed",
             Cat(p.name, " seq ", seq, " was acked at ", index, " but is committed ",
                 it == ref_events.end() ? std::string("nowhere") : Cat("at ", it->second)));
        return;
      }
    }
  }
  std::vector<std::pair<core::LogIndex, std::string>> events;
  for (core::LogIndex i = 1; i <= ref.size(); ++i) {
    if (ref[i - 1].event) events.emplace_back(i, Payload(ref[i - 1].producer, ref[i - 1].seq));
  }
  // Fetch from every node returns what the stream carried, from the first
  // index it holds (a node that compacted its log says so when asked for
  // index 1, naming that index).
  for (auto& nd : nodes) {
    std::vector<std::pair<core::LogIndex, std::string>> got;
    core::LogIndex first = 1;
    for (core::LogIndex next = 1; next <= ref.size();) {
      wire::FetchResult page;
      core::LogIndex earliest = 0;
      const Fetched f = fetch(nd->id, next, 1000, &page, &earliest);
      if (failed()) return;
      if (f == Fetched::kCompacted && next == 1) {
        first = next = earliest;
        continue;
      }
      if (f != Fetched::kPage) {
        fail("fetch-committed", Cat("n", nd->id, " cannot serve ", next, " of ", ref.size()));
        return;
      }
      if (page.entries.empty()) {
        fail("fetch-committed",
             Cat("n", nd->id, " returns nothing from ", next, " of ", ref.size()));
        return;
      }
      for (const core::Entry& e : page.entries) {
        wire::EventRecord rec;
        if (e.type == core::EntryType::kCommand &&
            wire::DecodeEventRecord(e.data.data(), e.data.size(), {}, &rec).ok()) {
          got.emplace_back(e.index, Payload(rec.producer, rec.seq));
        }
        next = e.index + 1;
      }
    }
    const auto held =
        std::lower_bound(events.begin(), events.end(), std::make_pair(first, std::string()));
    if (!std::equal(got.begin(), got.end(), held, events.end())) {
      fail("fetch-committed",
           Cat("fetching everything from n", nd->id, " (from ", first, ") gives ", got.size(),
               " events; ", events.end() - held, " were committed there"));
      return;
    }
  }
  for (size_t s = 0; s < subscribers.size(); ++s) {
    const Subscriber& sub = subscribers[s];
    auto skipped = [&sub](core::LogIndex i) {
      return std::any_of(sub.skipped.begin(), sub.skipped.end(),
                         [i](const auto& r) { return r.first <= i && i <= r.second; });
    };
    std::vector<std::pair<core::LogIndex, std::string>> expected;
    for (const auto& e : events) {
      if (wanted(sub, ref[e.first - 1].topic) && !skipped(e.first)) expected.push_back(e);
    }
    if (subscribers[s].output != expected) {
      fail("subscriber-stream", Cat("subscriber ", s + 1, " output ", subscribers[s].output.size(),
                                    " events; ", expected.size(), " of its topics were committed"));
      return;
    }
  }
}

WorldResult World::Impl::run() {
  trace("seed ", options.seed, ": ", scenario);
  for (auto& nd : nodes) start(*nd);
  for (size_t p = 0; p < producers.size(); ++p) {
    at(rng.between(1, 50), [this, p] { producer_step(p); });
  }
  for (size_t s = 0; s < subscribers.size(); ++s) {
    at(rng.between(1, 20), [this, s] { subscriber_step(s); });
  }
  if (crash_every > 0) at(crash_every, [this] { crash_timer(); });
  if (partition_every > 0) at(partition_every, [this] { partition_timer(); });
  if (snapshot_timer_ms > 0) at(snapshot_timer_ms, [this] { snapshot_timer(); });
  at(options.chaos_ms, [this] { heal(); });
  Time next_settle_check = 0;
  while (!failed() && !finished && !queue.empty()) {
    auto handle = queue.extract(queue.begin());
    now = handle.key().first;
    ++result.steps;
    handle.mapped()();
    if (healed && !failed() && now >= next_settle_check) {
      next_settle_check = now + kTickMs;
      if (settled()) {
        finished = true;
      } else if (now - healed_at > kSettleBoundMs) {
        std::string why;
        for (const Producer& p : producers) {
          if (!p.outstanding.empty()) {
            why += Cat(" ", p.name, " has ", p.outstanding.size(), " pushes unacked (seq ",
                       p.outstanding.begin()->first, ", ", p.outstanding.begin()->second.attempts,
                       " tries);");
          }
        }
        for (auto& nd : nodes) {
          if (nd->up()) {
            why += Cat(" n", nd->id, " ", core::RoleName(nd->log->local_node().role), " commit ",
                       nd->log->local_history().committed, " applied ", nd->events->applied(), ";");
          }
        }
        for (size_t s = 0; s < subscribers.size(); ++s) {
          why += Cat(" subscriber ", s + 1, " at ", subscribers[s].last_output, ";");
        }
        fail("liveness", Cat("not settled ", kSettleBoundMs, " ms after healing:", why));
      }
    }
  }
  if (!failed() && finished) final_checks();
  if (!failed() && !finished) fail("liveness", "the simulation ran out of events");
  result.ok = !failed();
  result.violation = violation;
  result.scenario = scenario;
  result.time = now;
  result.committed = ref.size();
  return result;
}

World::World(const WorldOptions& options) : impl_(std::make_unique<Impl>(options)) {}
World::~World() = default;
WorldResult World::run() {
  return impl_->run();
}

}  // namespace raftlog::sim
