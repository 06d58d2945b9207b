// raftlog-sim: runs the deterministic cluster simulator over seeds.
//
//   raftlog-sim --seeds 1..2000 --nodes 3,5,7    a campaign (what `make test` runs)
//   raftlog-sim --seed 17                        one seed, printing its whole trace
//   raftlog-sim --node --seeds 1..2000           the whole-node simulator (world.h):
//                                                raftlogd's nodes with producers
//                                                and subscribers
//
// Options: --steps N (chaos steps per seed; core mode), --chaos-ms N (simulated
// time before healing; --node mode), --tail N (trace lines shown for
// a failure), --trace (with --seeds: the whole trace of a failing seed),
// --verbose (a line per seed), --quiet (no trace for --seed),
// --expect-violation INVARIANT[,INVARIANT...] (succeed only if the first
// seed that breaks something other than liveness breaks one of these: the
// checker's own test, run against a core built with a deliberate bug, which
// must be caught by the invariant that bug breaks and by no other).
// Exit status: 0 when every seed passed (or, with --expect-violation, when
// the expected invariant was broken), 1 otherwise, 2 on bad usage.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cluster.h"
#include "world.h"

namespace raftlog::sim {
namespace {

struct Args {
  uint64_t first = 1;
  uint64_t last = 100;
  bool single = false;
  std::vector<int> sizes = {3, 5, 7};
  uint64_t steps = 5000;
  bool node = false;  // the whole-node simulator
  uint64_t chaos_ms = 3000;
  size_t tail = 40;
  bool verbose = false;
  bool quiet = false;
  bool full_trace = false;
  // --expect-violation: the invariants a deliberate bug must break (empty:
  // none expected). The campaign stops at the first violation other than
  // liveness and succeeds only if it names one of these.
  std::vector<std::string> expect_violation;
};

int Usage(const std::string& problem) {
  std::cerr << "raftlog-sim: " << problem << "\n"
            << "usage: raftlog-sim [--node] [--seed N | --seeds A..B] [--nodes 3,5,7] [--steps N]\n"
            << "                   [--chaos-ms N]\n"
            << "                   [--tail N] [--trace] [--verbose] [--quiet] [--expect-violation "
               "INVARIANT[,INVARIANT...]]\n";
  return 2;
}

bool ParseNumber(const std::string& s, uint64_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
  *out = std::stoull(s);
  return true;
}

bool ParseSizes(const std::string& s, std::vector<int>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    uint64_t n = 0;
    if (!ParseNumber(s.substr(pos, comma - pos), &n) || n < 1 || n > 15) return false;
    out->push_back(static_cast<int>(n));
    pos = comma + 1;
  }
  return !out->empty();
}

std::string JoinSizes(const std::vector<int>& sizes) {
  std::string out;
  for (int n : sizes) out += Cat(out.empty() ? "" : ",", n);
  return out;
}

// Returns 0 if the arguments parsed, else the exit status.
int Parse(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (flag == "--seed") {
      if (!value(&v) || !ParseNumber(v, &args->first)) return Usage("--seed needs a number");
      args->last = args->first;
      args->single = true;
    } else if (flag == "--seeds") {
      const size_t dots = value(&v) ? v.find("..") : std::string::npos;
      if (dots == std::string::npos) {
        if (!ParseNumber(v, &args->first)) return Usage("--seeds needs A..B");
        args->last = args->first;
      } else if (!ParseNumber(v.substr(0, dots), &args->first) ||
                 !ParseNumber(v.substr(dots + 2), &args->last) || args->last < args->first) {
        return Usage("--seeds needs A..B with A <= B");
      }
    } else if (flag == "--nodes") {
      if (!value(&v) || !ParseSizes(v, &args->sizes)) return Usage("--nodes needs e.g. 3,5,7");
    } else if (flag == "--steps") {
      if (!value(&v) || !ParseNumber(v, &args->steps)) return Usage("--steps needs a number");
    } else if (flag == "--node") {
#ifndef RAFTLOG_SIM_WHOLE_NODE
      return Usage("this build has no whole-node simulator (--node)");
#endif
      args->node = true;
    } else if (flag == "--chaos-ms") {
      if (!value(&v) || !ParseNumber(v, &args->chaos_ms) || args->chaos_ms == 0) {
        return Usage("--chaos-ms needs a positive number");
      }
    } else if (flag == "--tail") {
      uint64_t n = 0;
      if (!value(&v) || !ParseNumber(v, &n) || n == 0) return Usage("--tail needs a number");
      args->tail = n;
    } else if (flag == "--verbose" || flag == "-v") {
      args->verbose = true;
    } else if (flag == "--quiet" || flag == "-q") {
      args->quiet = true;
    } else if (flag == "--trace") {
      args->quiet = false;
      args->full_trace = true;
    } else if (flag == "--expect-violation") {
      if (!value(&v) || v.empty()) {
        return Usage(
            "--expect-violation needs the invariant(s) the bug must break, e.g. vote-safety");
      }
      std::stringstream names(v);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) args->expect_violation.push_back(name);
      }
    } else {
      return Usage("unknown argument " + flag);
    }
  }
  return 0;
}

bool Expected(const Args& args, const std::string& invariant) {
  return std::find(args.expect_violation.begin(), args.expect_violation.end(), invariant) !=
         args.expect_violation.end();
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : " or ") + n;
  return out;
}

// One seed's run, in either simulator.
struct Outcome {
  bool ok = true;
  Violation violation;
  std::string scenario;
  uint64_t steps = 0;
  bool node_mode = false;
  RunResult core;    // core mode
  WorldResult node;  // --node mode
};

Outcome Run(const Args& args, uint64_t seed, Trace* trace) {
  Outcome out;
  if (args.node) {
#ifdef RAFTLOG_SIM_WHOLE_NODE
    WorldOptions o;
    o.seed = seed;
    o.sizes = args.sizes;
    o.chaos_ms = args.chaos_ms;
    o.trace = trace;
    out.node_mode = true;
    out.node = World(o).run();
    out.ok = out.node.ok;
    out.violation = out.node.violation;
    out.scenario = out.node.scenario;
    out.steps = out.node.steps;
#endif
    return out;
  }
  RunOptions o;
  o.seed = seed;
  o.sizes = args.sizes;
  o.steps = args.steps;
  o.trace = trace;
  out.core = Cluster(o).run();
  out.ok = out.core.ok;
  out.violation = out.core.violation;
  out.scenario = out.core.scenario;
  out.steps = out.core.steps;
  return out;
}

std::string ReplayCommand(const Args& args, const char* argv0, uint64_t seed) {
  if (args.node) {
    return Cat(argv0, " --node --seed ", seed, " --nodes ", JoinSizes(args.sizes), " --chaos-ms ",
               args.chaos_ms);
  }
  return Cat(argv0, " --seed ", seed, " --nodes ", JoinSizes(args.sizes), " --steps ", args.steps);
}

void PrintSummaryLine(uint64_t seed, const Outcome& o) {
  std::cout << "seed " << seed << ": " << (o.ok ? "ok" : "FAIL") << " steps=" << o.steps;
  if (o.node_mode) {
    const WorldResult& r = o.node;
    std::cout << " t=" << r.time << "ms committed=" << r.committed << " acked=" << r.pushes_acked
              << " retries=" << r.retries
              << " retries_to_replaying_leader=" << r.retries_to_replaying_leader
              << " busy=" << r.busy << " expired_refusals=" << r.expired_refusals
              << " given_up=" << r.given_up << " crashes=" << r.crashes
              << " full_restarts=" << r.full_restarts << " partitions=" << r.partitions
              << " subscriber_events=" << r.subscriber_events
              << " subscriber_restarts=" << r.subscriber_restarts << " fetches=" << r.fetches
              << " snapshots=" << r.snapshots_taken << " compactions=" << r.compactions
              << " installed=" << r.snapshots_installed << " at_start=" << r.snapshots_at_start
              << " chunks=" << r.snapshot_chunks << " compacted_fetches=" << r.compacted_fetches
              << " subscribers_behind=" << r.subscribers_behind
              << " retries_from_snapshot=" << r.retries_from_snapshot << "\n";
    return;
  }
  const RunResult& r = o.core;
  std::cout << " t=" << r.time << " max_term=" << r.max_term << " committed=" << r.committed
            << " accepted=" << r.proposals_accepted << " crashes=" << r.crashes
            << " partitions=" << r.partitions << " old_term_commits=" << r.old_term_commits
            << " heartbeats_acked=" << r.heartbeats_acked << " snapshots=" << r.snapshots_taken
            << " installed=" << r.snapshots_installed << " refused=" << r.snapshots_failed
            << " config_changes=" << r.config_changes << " config_refused=" << r.config_refused
            << " config_committed=" << r.config_committed << " transfers=" << r.transfers
            << " transfers_aborted=" << r.transfers_aborted << " retired=" << r.retired
            << " reads=" << r.reads << " reads_checked=" << r.reads_checked
            << " leader_after_heal=" << r.leader_after_heal
            << " ticks, commit<=" << r.max_commit_ticks << " apply<=" << r.max_apply_ticks
            << " ticks (" << r.worst_bound_percent << "% of a bound)\n";
}

// Prints a failure with its replay command and the trace that led there
// (replaying the seed with the trace on; it must fail the same way).
void PrintFailure(const Args& args, const char* argv0, uint64_t seed, const Outcome& r) {
  Trace trace(args.full_trace ? SIZE_MAX : args.tail, nullptr);
  const Outcome again = Run(args, seed, &trace);
  std::cout << "FAIL seed " << seed << ": " << r.violation.invariant << "\n"
            << "  " << r.violation.detail << "\n"
            << "  scenario: " << r.scenario << "\n"
            << "  replay: " << ReplayCommand(args, argv0, seed) << "\n";
  if (again.ok || again.violation.detail != r.violation.detail || again.steps != r.steps) {
    std::cout << "  NOT REPRODUCIBLE: the replay ended with "
              << (again.ok ? "no violation" : again.violation.detail) << " (a simulator bug)\n";
  }
  std::cout << "  last " << trace.tail().size() << " steps:\n";
  for (const std::string& line : trace.tail()) std::cout << "    " << line << "\n";
}

int RunSingle(const Args& args, const char* argv0) {
  Trace trace(args.tail, args.quiet ? nullptr : &std::cout);
  const Outcome r = Run(args, args.first, &trace);
  PrintSummaryLine(args.first, r);
  if (!r.ok) {
    std::cout << "VIOLATION " << r.violation.invariant << ": " << r.violation.detail << "\n"
              << "  scenario: " << r.scenario << "\n"
              << "  replay: " << ReplayCommand(args, argv0, args.first) << "\n";
    if (args.quiet) {
      for (const std::string& line : trace.tail()) std::cout << "    " << line << "\n";
    }
  }
  if (!args.expect_violation.empty()) {
    return !r.ok && Expected(args, r.violation.invariant) ? 0 : 1;
  }
  return r.ok ? 0 : 1;
}

int RunCampaign(const Args& args, const char* argv0) {
  const auto start = std::chrono::steady_clock::now();
  uint64_t passed = 0, failed = 0, seeds = 0;
  Time worst_leader = 0, worst_commit = 0, worst_apply = 0;
  uint64_t worst_percent = 0;
  uint64_t snapshots_taken = 0, snapshots_installed = 0, snapshots_failed = 0;
  uint64_t config_changes = 0, config_refused = 0, config_committed = 0, transfers = 0,
           transfers_aborted = 0, retired = 0, reads = 0, reads_checked = 0;
  WorldResult total;  // --node: the passed seeds' counts, summed
  uint64_t seeds_with_installs = 0;
  bool found_safety = false;
  std::string found;  // the invariant of the first non-liveness violation
  for (uint64_t seed = args.first; seed <= args.last; ++seed) {
    ++seeds;
    const Outcome r = Run(args, seed, nullptr);
    if (args.verbose) PrintSummaryLine(seed, r);
    if (r.ok) {
      ++passed;
      worst_leader = std::max(worst_leader, r.core.leader_after_heal);
      worst_commit = std::max(worst_commit, r.core.max_commit_ticks);
      worst_apply = std::max(worst_apply, r.core.max_apply_ticks);
      worst_percent = std::max(worst_percent, r.core.worst_bound_percent);
      snapshots_taken += r.core.snapshots_taken;
      snapshots_installed += r.core.snapshots_installed;
      snapshots_failed += r.core.snapshots_failed;
      config_changes += r.core.config_changes;
      config_refused += r.core.config_refused;
      config_committed += r.core.config_committed;
      transfers += r.core.transfers;
      transfers_aborted += r.core.transfers_aborted;
      retired += r.core.retired;
      reads += r.core.reads;
      reads_checked += r.core.reads_checked;
      total.pushes_acked += r.node.pushes_acked;
      total.retries += r.node.retries;
      total.retries_to_replaying_leader += r.node.retries_to_replaying_leader;
      total.busy += r.node.busy;
      total.expired_refusals += r.node.expired_refusals;
      total.given_up += r.node.given_up;
      total.crashes += r.node.crashes;
      total.full_restarts += r.node.full_restarts;
      total.partitions += r.node.partitions;
      total.subscriber_events += r.node.subscriber_events;
      total.subscriber_restarts += r.node.subscriber_restarts;
      total.fetches += r.node.fetches;
      total.snapshots_taken += r.node.snapshots_taken;
      total.compactions += r.node.compactions;
      total.snapshots_installed += r.node.snapshots_installed;
      total.snapshots_at_start += r.node.snapshots_at_start;
      total.snapshot_chunks += r.node.snapshot_chunks;
      total.compacted_fetches += r.node.compacted_fetches;
      total.subscribers_behind += r.node.subscribers_behind;
      total.retries_from_snapshot += r.node.retries_from_snapshot;
      if (r.node.snapshots_installed > 0) ++seeds_with_installs;
      continue;
    }
    ++failed;
    PrintFailure(args, argv0, seed, r);
    // A deliberate bug must be caught by the invariant it breaks; a
    // liveness failure on the way (the bug can also stall a run) is not it.
    if (!args.expect_violation.empty() && r.violation.invariant != "liveness") {
      found_safety = true;
      found = r.violation.invariant;
      break;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.node) {
    std::cout << "raftlog-sim: whole-node seeds " << args.first << ".." << args.last << " (nodes "
              << JoinSizes(args.sizes) << ", " << args.chaos_ms << " ms of faults): " << passed
              << " passed, " << failed << " failed, " << seeds << " run in " << seconds << " s ("
              << (seconds > 0 ? seeds / seconds : 0)
              << " seeds/s); in the passed ones: " << total.pushes_acked << " pushes acked, "
              << total.retries << " retries (" << total.retries_to_replaying_leader
              << " to a leader still applying its log, " << total.busy << " answered busy, "
              << total.expired_refusals << " refused as from an expired producer, "
              << total.given_up << " given up by their producer, " << total.retries_from_snapshot
              << " answered with an index the node had compacted), " << total.crashes
              << " crashes (" << total.full_restarts << " whole-cluster restarts), "
              << total.partitions << " partitions, " << total.subscriber_events
              << " subscriber events checked (" << total.subscriber_restarts
              << " subscriber restarts, " << total.fetches << " fetches, "
              << total.compacted_fetches << " answered compacted, " << total.subscribers_behind
              << " subscribers behind every node's log head); " << total.snapshots_taken
              << " local snapshots (" << total.compactions << " compactions), "
              << total.snapshots_installed << " installed from a leader (in " << seeds_with_installs
              << " seeds; " << total.snapshot_chunks << " chunks sent), "
              << total.snapshots_at_start << " nodes started from one\n";
  } else {
    std::cout << "raftlog-sim: seeds " << args.first << ".." << args.last << " (nodes "
              << JoinSizes(args.sizes) << ", " << args.steps << " steps): " << passed << " passed, "
              << failed << " failed, " << seeds << " run in " << seconds
              << " s; after healing: leader within " << worst_leader
              << " ticks, proposals committed within " << worst_commit
              << " ticks and applied everywhere within " << worst_apply << " ticks (at worst "
              << worst_percent << "% of a bound); in the passed ones: " << snapshots_taken
              << " snapshots taken, " << snapshots_installed << " installed from a leader, "
              << snapshots_failed << " refused by the CRC32C check; " << config_changes
              << " membership changes taken (" << config_refused << " refused, " << config_committed
              << " config entries committed, " << retired << " removed nodes retired at healing), "
              << transfers << " leadership transfers (" << transfers_aborted << " given up), "
              << reads << " read_index calls (" << reads_checked << " read states checked)\n";
  }
  if (!args.expect_violation.empty()) {
    if (!found_safety) {
      std::cout << "raftlog-sim: expected a violation of " << Join(args.expect_violation)
                << " but found none: the checker lost its teeth\n";
      return 1;
    }
    if (!Expected(args, found)) {
      std::cout << "raftlog-sim: expected a violation of " << Join(args.expect_violation) << " but "
                << found << " fired first\n";
      return 1;
    }
    std::cout << "raftlog-sim: found the expected violation of " << found << "\n";
    return 0;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace raftlog::sim

int main(int argc, char** argv) {
  raftlog::sim::Args args;
  if (int status = raftlog::sim::Parse(argc, argv, &args); status != 0) return status;
  return args.single ? raftlog::sim::RunSingle(args, argv[0])
                     : raftlog::sim::RunCampaign(args, argv[0]);
}
