// storage_bench: synced append throughput of the LevelDB LogStore beside raw
// LevelDB doing the same batched synced writes (same keys, same value
// sizes, same options), at batch sizes 1, 16, 256 and entry sizes 64 B,
// 256 B, 4 KiB.
//
// The machine's disk is shared and its fsync latency drifts, so each
// benchmark alternates the two writers batch by batch (each going first on
// every other turn) and times each write on its own: both see the same disk
// weather. Databases go in fresh directories under $RAFTLOG_BENCH_DIR
// (default $TMPDIR or /tmp). The closing table gives the medians of the
// repetitions: entries/s of each and their ratio.
#include <benchmark/benchmark.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "raftlog/storage/leveldb_store.h"
#include "storage/coding.h"
#include "storage/leveldb_log_store.h"

namespace raftlog::storage {
namespace {

using Clock = std::chrono::steady_clock;

// Untimed synced writes first: a new database's first fsyncs (creating
// files, syncing the directory) are not the steady state.
constexpr int kWarmUpWrites = 20;

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("RAFTLOG_BENCH_DIR");
    if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/raftlog-bench-XXXXXX";
    if (mkdtemp(path_.data()) == nullptr) std::abort();
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Appends batches of entries to the LogStore.
class StoreWriter {
 public:
  StoreWriter(size_t batch_size, size_t entry_size) : batch_(batch_size) {
    for (size_t i = 0; i < batch_size; ++i) {
      batch_[i].term = 1;
      batch_[i].type = core::EntryType::kCommand;
      batch_[i].data.assign(entry_size, static_cast<char>('a' + i % 26));
    }
    Status s = OpenLevelDbLogStore(dir_.path(), LevelDbOptions(), &store_);
    if (!s.ok()) error_ = s.message();
  }
  // False (and error() says why) if the write failed.
  bool write() {
    for (core::Entry& e : batch_) e.index = next_++;
    Status s = store_->append(std::nullopt, batch_);
    if (!s.ok()) error_ = s.message();
    return s.ok();
  }
  const std::string& error() const { return error_; }

 private:
  TempDir dir_;
  std::vector<core::Entry> batch_;
  std::unique_ptr<LogStore> store_;
  core::LogIndex next_ = 1;
  std::string error_;
};

// The same writes straight to LevelDB: the store's default options, its
// keys, and values as long as its records (payload plus header).
class RawWriter {
 public:
  RawWriter(size_t batch_size, size_t entry_size) : batch_size_(batch_size) {
    const LevelDbOptions defaults;
    cache_.reset(leveldb::NewLRUCache(defaults.block_cache_bytes));
    leveldb::Options o;
    o.create_if_missing = true;
    o.paranoid_checks = true;
    o.write_buffer_size = defaults.write_buffer_size;
    o.block_cache = cache_.get();
    o.compression = leveldb::kNoCompression;
    o.max_open_files = defaults.max_open_files;
    leveldb::DB* db = nullptr;
    leveldb::Status s = leveldb::DB::Open(o, dir_.path(), &db);
    db_.reset(db);
    if (!s.ok()) error_ = s.ToString();
    core::Entry e;
    e.data.assign(entry_size, 'a');
    std::string record;
    EncodeEntry(e, &record);
    value_.assign(record.size(), 'v');
  }
  bool write() {
    leveldb::WriteBatch batch;
    for (size_t i = 0; i < batch_size_; ++i) batch.Put(EntryKey(next_++), value_);
    leveldb::WriteOptions sync;
    sync.sync = true;
    leveldb::Status s = db_->Write(sync, &batch);
    if (!s.ok()) error_ = s.ToString();
    return s.ok();
  }
  const std::string& error() const { return error_; }

 private:
  TempDir dir_;
  size_t batch_size_;
  std::unique_ptr<leveldb::Cache> cache_;  // outlives db_
  std::unique_ptr<leveldb::DB> db_;
  std::string value_;
  core::LogIndex next_ = 1;
  std::string error_;
};

template <typename Writer>
double Timed(Writer& w, bool* ok) {
  const auto start = Clock::now();
  *ok = w.write() && *ok;
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void BM_SyncedAppend(benchmark::State& state) {
  const auto batch_size = static_cast<size_t>(state.range(0));
  const auto entry_size = static_cast<size_t>(state.range(1));
  ::sync();  // the previous benchmark's dirty pages are not this one's problem
  StoreWriter store(batch_size, entry_size);
  RawWriter raw(batch_size, entry_size);
  bool ok = store.error().empty() && raw.error().empty();
  for (int i = 0; i < kWarmUpWrites && ok; ++i) ok = store.write() && raw.write();
  double store_seconds = 0, raw_seconds = 0;
  std::vector<double> pair_ratios;  // raw time / store time of each adjacent pair
  bool store_first = true;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    if (!ok) break;
    double store_t = 0, raw_t = 0;
    if (store_first) {
      store_t = Timed(store, &ok);
      raw_t = Timed(raw, &ok);
    } else {
      raw_t = Timed(raw, &ok);
      store_t = Timed(store, &ok);
    }
    store_seconds += store_t;
    raw_seconds += raw_t;
    pair_ratios.push_back(raw_t / store_t);
    store_first = !store_first;
  }
  if (!ok) {
    state.SkipWithError((store.error() + raw.error()).c_str());
    return;
  }
  const double entries = static_cast<double>(state.iterations() * batch_size);
  state.counters["raw_entries/s"] = entries / raw_seconds;
  state.counters["store_entries/s"] = entries / store_seconds;
  state.counters["store/raw"] = raw_seconds / store_seconds;
  // The same comparison, robust to the odd fsync that stalls for a while.
  std::nth_element(pair_ratios.begin(), pair_ratios.begin() + pair_ratios.size() / 2,
                   pair_ratios.end());
  state.counters["pair_median"] = pair_ratios[pair_ratios.size() / 2];
}

// Append latency while compaction's background cleanup deletes a large
// prefix, beside the latency of the same appends before it: the cleanup
// should not hold appends up for long. One scenario, run once.
void BM_AppendDuringCleanup(benchmark::State& state) {
  constexpr core::LogIndex kPrefix = 200000;  // 256-byte entries to compact away
  ::sync();
  TempDir dir;
  std::unique_ptr<LevelDbLogStore> store;
  Status s = LevelDbLogStore::Open(dir.path(), LevelDbOptions(), &store);
  std::vector<core::Entry> batch(1000);
  core::LogIndex next = 1;
  auto append = [&](size_t n, size_t bytes) {
    batch.resize(n);
    for (core::Entry& e : batch) {
      e.index = next++;
      e.term = 1;
      e.data.assign(bytes, 'x');
    }
    if (s.ok()) s = store->append(std::nullopt, batch);
  };
  while (s.ok() && next <= kPrefix) append(1000, 256);
  // Latencies (microseconds) of 16-entry synced appends while `until` is false.
  auto measure = [&](const std::atomic<bool>& until, size_t max_count) {
    std::vector<double> us;
    while (s.ok() && !until && us.size() < max_count) {
      const auto start = Clock::now();
      append(16, 256);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
    std::sort(us.begin(), us.end());
    return us;
  };
  auto report = [&](const char* prefix, const std::vector<double>& us) {
    if (us.empty()) return;
    state.counters[std::string(prefix) + "_p50_us"] = us[us.size() / 2];
    state.counters[std::string(prefix) + "_p99_us"] = us[us.size() * 99 / 100];
    state.counters[std::string(prefix) + "_max_us"] = us.back();
  };
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the benchmark idiom
    std::atomic<bool> never{false}, cleaned{false};
    report("before", measure(never, 500));
    SnapshotMeta meta;
    meta.last_index = kPrefix;
    meta.last_term = 1;
    if (s.ok()) s = store->save_snapshot(meta);
    const auto start = Clock::now();
    if (s.ok()) s = store->compact(kPrefix);
    state.counters["compact_call_us"] =
        std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    std::thread waiter([&] {
      store->wait_for_cleanup();
      cleaned = true;
    });
    std::vector<double> during = measure(cleaned, SIZE_MAX);
    waiter.join();
    state.counters["cleanup_ms"] =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    state.counters["appends_during"] = static_cast<double>(during.size());
    report("during", during);
  }
  if (!s.ok()) state.SkipWithError(s.message().c_str());
}

BENCHMARK(BM_AppendDuringCleanup)
    ->Name("append_during_cleanup")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// Prints the usual table, then the medians of each configuration.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_name.function_name != "synced_append") continue;
      if (run.run_type != Run::RT_Aggregate || run.aggregate_name != "median") continue;
      if (run.error_occurred) continue;
      summary_.push_back({run.run_name.args, run.counters.at("raw_entries/s").value,
                          run.counters.at("store_entries/s").value,
                          run.counters.at("store/raw").value,
                          run.counters.at("pair_median").value});
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    // store/raw: ratio of total times; pair median: the median over adjacent
    // pairs of writes of raw time / store time.
    std::printf("\nmedians of 5 repetitions\n%-22s %15s %15s %9s %11s\n", "", "raw entries/s",
                "store entries/s", "store/raw", "pair median");
    for (const Row& r : summary_) {
      std::printf("%-22s %15.0f %15.0f %9.2f %11.2f\n", r.args.c_str(), r.raw, r.store, r.ratio,
                  r.pair_median);
    }
  }

 private:
  struct Row {
    std::string args;
    double raw, store, ratio, pair_median;
  };
  std::vector<Row> summary_;
};

}  // namespace
}  // namespace raftlog::storage

int main(int argc, char** argv) {
  using namespace raftlog::storage;
  for (int64_t batch : {1, 16, 256}) {
    for (int64_t bytes : {64, 256, 4096}) {
      benchmark::RegisterBenchmark("synced_append", BM_SyncedAppend)
          ->Args({batch, bytes})
          ->ArgNames({"batch", "entry"})
          ->UseRealTime()  // waiting for fsync is the point, not CPU time
          ->MinTime(0.5)
          ->Repetitions(5)
          ->ReportAggregatesOnly(true)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
