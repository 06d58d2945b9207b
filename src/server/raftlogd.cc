// raftlogd: one node of a raftlog cluster. See README.md for running it and
// docs/protocol.md for what it speaks.
//
// One loop thread does everything but disk writes: it waits on the node's
// poller (peer, client and PUB sockets), then runs a turn of the
// ReplicatedLog (steps what arrived, ticks the core from a monotonic clock,
// sends) and hands its events to the event layer, which answers clients
// and publishes; ReplicatedLog's storage thread syncs LevelDB. SIGTERM and
// SIGINT stop the loop; the storage thread then finishes the write in
// progress (and any queued) before the process exits 0.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>

#include "net/zmq_transport.h"
#include "raftlog/replicated_log.h"
#include "raftlog/storage/leveldb_store.h"
#include "raftlog/wire/limits.h"
#include "server/client_endpoint.h"
#include "server/client_service.h"
#include "server/data_dir.h"
#include "server/event_machine.h"
#include "server/log.h"
#include "server/options.h"
#include "server/pub_endpoint.h"
#include "server/publisher.h"
#include "server/snapshotter.h"

namespace {

using raftlog::Status;
using namespace raftlog::server;

volatile std::sig_atomic_t g_stop = 0;
raftlog::net::Poller* g_poller = nullptr;

void OnSignal(int) {
  g_stop = 1;
  if (g_poller != nullptr) g_poller->wake();
}

void LogEvent(const raftlog::Event& event) {
  using namespace raftlog::core;
  if (const auto* r = std::get_if<RoleChanged>(&event)) {
    RAFTLOG_LOG(kInfo) << "role " << RoleName(r->role);
  } else if (const auto* t = std::get_if<TermChanged>(&event)) {
    RAFTLOG_LOG(kInfo) << "term " << t->ballot.term << " voted_for=" << t->ballot.voted_for;
  } else if (const auto* l = std::get_if<NewLeaderElected>(&event)) {
    RAFTLOG_LOG(kInfo) << "leader " << l->leader << " elected for term " << l->term;
  } else if (const auto* c = std::get_if<ConfigChanged>(&event)) {
    if (c->aborted.empty()) {
      RAFTLOG_LOG(kInfo) << "configuration " << Describe(c->config) << " in force (index "
                         << c->index << ")";
    }
  } else if (const auto* ta = std::get_if<TransferAborted>(&event)) {
    RAFTLOG_LOG(kWarn) << "leadership transfer to node " << ta->target
                       << " given up: " << ta->reason;
  } else if (const auto* sl = std::get_if<raftlog::SnapshotLoaded>(&event)) {
    RAFTLOG_LOG(kInfo) << "snapshot loaded: index " << sl->head.index << " term " << sl->head.term
                       << ", " << sl->head.size << " bytes";
  } else if (const auto* si = std::get_if<raftlog::SnapshotInstalled>(&event)) {
    RAFTLOG_LOG(kInfo) << "snapshot saved: index " << si->head.index << " term " << si->head.term
                       << ", " << si->head.size << " bytes";
  }
}

// What the loop does with each ReplicatedLog event.
Status HandleEvent(const raftlog::Event& event, EventMachine* events, ClientService* clients,
                   Snapshotter* snapshots) {
  LogEvent(event);
  events->on_event(event);
  clients->on_event(event);
  return snapshots->on_event(event);
}

uint64_t WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int Run(const ServerOptions& options) {
  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(options.log_level, &level);
  SetLogLevel(level);
  SetLogNode(options.id);

  // The data directory and its parents are created when missing.
  Status s = PrepareDataDir(options.data_dir);
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << s.message();
    return 1;
  }
  std::unique_ptr<raftlog::storage::LogStore> store;
  s = raftlog::storage::OpenLevelDbLogStore(options.data_dir, {}, &store);
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << "cannot open the log in " << options.data_dir << ": " << s.ToString();
    return 1;
  }

  zmq::context_t context(1);
  // The loop's one wait, on every socket of the node.
  std::unique_ptr<raftlog::net::Poller> poller;
  s = raftlog::net::Poller::Create(&poller);
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << s.ToString();
    return 1;
  }
  raftlog::net::ZmqTransportOptions topts;
  topts.poller = poller.get();
  topts.self = options.id;
  topts.bind_endpoint = options.self()->peer_endpoint;
  topts.send_hwm = options.send_hwm;
  topts.limits.max_frame_bytes = options.max_frame_bytes;
  // A connection that stops answering is replaced well within an election
  // timeout, so a half-open one never keeps a peer unreachable for longer.
  const int election_ms = options.tick_ms * options.raft.election_ticks;
  topts.heartbeat_interval_ms = std::max(election_ms / 4, 50);
  topts.heartbeat_timeout_ms = std::max(election_ms / 2, 100);
  // And once a link is back, a connection within half an election timeout.
  topts.connect_timeout_ms = topts.heartbeat_timeout_ms;
  topts.reconnect_ivl_max_ms = std::max(election_ms / 2, topts.reconnect_ivl_ms);
  for (const Member& m : options.members) {
    if (m.id != options.id) topts.peers.push_back({m.id, m.peer_endpoint});
  }
  // Members come and go with the configuration: their endpoints are in its
  // address book (server/address_book.h).
  topts.resolve = [](const raftlog::core::ClusterConfig& config,
                     std::vector<raftlog::net::PeerAddress>* out) {
    AddressBook book;
    Status s = DecodeAddressBook(config.context, &book);
    if (!s.ok()) return s;
    for (const auto& [id, m] : book) out->push_back({id, m.peer_endpoint});
    return Status::Ok();
  };
  std::unique_ptr<raftlog::net::ZmqTransport> transport;
  s = raftlog::net::ZmqTransport::Create(&context, topts, &transport);
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << s.ToString();
    return 1;
  }
  raftlog::net::ZmqTransport* net = transport.get();
  net->set_peer_listener([](raftlog::core::NodeId peer, bool up) {
    RAFTLOG_LOG(kInfo) << "peer " << peer << (up ? " up" : " down");
  });
  WarnLimiter transport_warnings(10);
  net->set_log_sink([&](const std::string& warning) {
    if (LogEnabled(LogLevel::kWarn)) transport_warnings.warn(warning);
  });

  raftlog::ReplicatedLogOptions lopts;
  lopts.core = options.raft;
  lopts.core.id = options.id;
  lopts.core.random_seed = std::random_device{}() ^ (options.id << 32);
  lopts.tick_interval = std::chrono::milliseconds(options.tick_ms);
  lopts.max_command_bytes = raftlog::wire::EntryBytesFor(options.max_payload_bytes);
  // The event layer's state (producer table, prev-index chain) comes from
  // the latest snapshot (SnapshotLoaded, the first event) and the log after
  // it, applied again; see EventMachine and docs/snapshots.md.
  lopts.resume_from_commit = false;
  // A new cluster starts with the configured peers as voters, and their
  // endpoints as the configuration's address book, which every change then
  // extends. A node that joins starts with none and waits to be added;
  // either way, once the log or a snapshot holds a configuration, that one
  // is in force.
  lopts.join = options.join;
  if (!options.join) {
    AddressBook book;
    for (const Member& m : options.members) {
      lopts.members.voters.push_back(m.id);
      book[m.id] = m;
    }
    lopts.members.context = EncodeAddressBook(book);
  }

  std::unique_ptr<raftlog::ReplicatedLog> log;
  s = raftlog::ReplicatedLog::Open(lopts, std::move(store), std::move(transport), &log);
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << "cannot start: " << s.ToString();
    return 1;
  }
  PubEndpoint pub_socket(&context, options.pub_hwm);
  Publisher publisher(&pub_socket);
  pub_socket.set_publisher(&publisher);
  s = pub_socket.start(options.self()->pub_endpoint, options.pub_connect, poller.get());
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << s.ToString();
    return 1;
  }
  ClientEndpoint client_socket(&context, options.max_frame_bytes);
  ClientServiceOptions copts;
  copts.limits.max_frame_bytes = options.max_frame_bytes;
  copts.limits.max_payload_bytes = options.max_payload_bytes;
  for (const Member& m : options.members) copts.client_endpoints[m.id] = m.client_endpoint;
  ClientService clients(std::move(copts), log.get(), &client_socket);
  client_socket.set_service(&clients);
  EventMachineOptions eopts;
  eopts.producer_window = options.producer_window;
  eopts.producer_expiry_ms = options.producer_expiry_s * 1000;
  eopts.limits.max_frame_bytes = options.max_frame_bytes;
  eopts.limits.max_payload_bytes = options.max_payload_bytes;
  // What was committed before this start was published then (or is there to fetch).
  eopts.publish_after = log->local_history().committed;
  EventMachine events(log.get(), &publisher, &clients, eopts);
  clients.set_events(&events);
  Snapshotter snapshots(log.get(), &events, options.retention);
  clients.set_snapshot_handler([&snapshots](Snapshotter::Done done) {
    RAFTLOG_LOG(kInfo) << "snapshot asked for by a client";
    snapshots.request(std::move(done));
  });
  // The store's snapshot is the first event: the event layer takes it on
  // before anything else (and before learn() reads what follows it).
  {
    raftlog::Event first;
    while (log->next_event(&first)) {
      s = HandleEvent(first, &events, &clients, &snapshots);
      if (!s.ok()) {
        RAFTLOG_LOG(kError) << "cannot start: " << s.ToString();
        return 1;
      }
    }
  }
  s = snapshots.learn();
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << "cannot start: reading the retained log: " << s.ToString();
    return 1;
  }
  s = client_socket.start(options.self()->client_endpoint, poller.get());
  if (!s.ok()) {
    RAFTLOG_LOG(kError) << s.ToString();
    return 1;
  }
  clients.set_extra_counters([&] {
    using raftlog::wire::Value;
    const raftlog::net::TransportCounters& t = net->counters();
    const EventCounters& c = events.counters();
    raftlog::core::SnapshotHead last_snapshot;
    (void)log->last_snapshot(&last_snapshot);
    return Value::Map{
        {"peer_sent", Value::Uint(t.sent)},
        {"peer_received", Value::Uint(t.received)},
        {"peer_dropped_send_queue_full", Value::Uint(t.dropped_send_queue_full)},
        {"peer_dropped_malformed", Value::Uint(t.dropped_malformed)},
        {"peer_dropped_unknown_sender", Value::Uint(t.dropped_unknown_sender)},
        {"peer_dropped_misaddressed", Value::Uint(t.dropped_misaddressed)},
        {"peer_dropped_oversized", Value::Uint(t.dropped_oversized)},
        {"peer_connections_closed", Value::Uint(t.connections_closed)},
        {"peer_received_from_non_member", Value::Uint(t.received_from_non_member)},
        {"peers_added", Value::Uint(t.peers_added)},
        {"peers_removed", Value::Uint(t.peers_removed)},
        {"events_applied", Value::Uint(c.events_applied)},
        {"events_published", Value::Uint(c.events_published)},
        {"events_duplicates_skipped", Value::Uint(c.duplicates_skipped)},
        {"entries_undecodable", Value::Uint(c.undecodable)},
        {"producers", Value::Uint(events.producers().producers())},
        {"producer_slots", Value::Uint(events.producers().slots())},
        {"producers_expired", Value::Uint(events.producers().expired())},
        {"snapshot_index", Value::Uint(last_snapshot.index)},
        {"snapshot_term", Value::Uint(last_snapshot.term)},
        {"snapshot_bytes", Value::Uint(last_snapshot.size)},
        {"snapshots_taken", Value::Uint(snapshots.counters().snapshots)},
        {"compactions", Value::Uint(snapshots.counters().compactions)},
        {"disk_bytes", Value::Uint(DirectoryBytes(options.data_dir))},
    };
  });

  g_poller = poller.get();
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  raftlog::LocalHistory h = log->local_history();
  RAFTLOG_LOG(kInfo) << "started: peer " << options.self()->peer_endpoint << ", client "
                     << options.self()->client_endpoint << ", log " << options.data_dir
                     << " (last index " << h.last << ", commit " << h.committed << ", term "
                     << log->local_node().ballot.term << "), members "
                     << raftlog::core::Describe(log->cluster_config())
                     << (options.join && log->cluster_config().members().empty()
                             ? ": waiting to be added to a cluster"
                             : "");

  int exit_code = 0;
  constexpr auto kHeartbeatEvery = std::chrono::milliseconds(200);
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (!g_stop) {
    s = poller->wait(log->next_wait(std::chrono::milliseconds(50)));
    if (s.ok()) s = log->run_once(std::chrono::milliseconds(0));
    raftlog::Event event;
    while (s.ok() && log->next_event(&event)) {
      s = HandleEvent(event, &events, &clients, &snapshots);
    }
    if (s.ok()) snapshots.step(WallMs());
    clients.expire(std::chrono::steady_clock::now());
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      publisher.heartbeat({events.last_event_index(), log->local_history().committed, options.id});
      next_heartbeat = std::chrono::steady_clock::now() + kHeartbeatEvery;
    }
    if (!s.ok()) {
      RAFTLOG_LOG(kError) << "stopping: " << s.ToString()
                          << "; nothing further is acknowledged or written";
      exit_code = 1;
      break;
    }
  }
  g_poller = nullptr;
  if (exit_code == 0) RAFTLOG_LOG(kInfo) << "shutting down: finishing writes in progress";
  log.reset();  // joins the storage thread after its last write
  if (exit_code == 0) RAFTLOG_LOG(kInfo) << "stopped cleanly";
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  ParseResult parsed = ParseOptions(argc, argv, &options);
  switch (parsed.action) {
    case ParseResult::Action::kExitOk:
      std::cout << parsed.output;
      return 0;
    case ParseResult::Action::kExitError:
      std::cerr << "raftlogd: " << parsed.status.message() << "\n"
                << "Try 'raftlogd --help'.\n";
      return 2;
    case ParseResult::Action::kRun:
      break;
  }
  return Run(options);
}
