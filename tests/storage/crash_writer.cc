// storage_crash_writer <dir> <seed>: the victim of crash_test.cc. Opens the
// LevelDB store in dir and appends forever: mostly batches at the tail,
// sometimes a batch that replaces the last few entries with a higher term,
// sometimes a snapshot and compaction. After each call returns it writes one
// line to stdout (unbuffered), which is its promise of what is durable:
//   A <last index> <last term>    an append returned ok
//   C <head index>                a compaction returned ok
// Payloads are testing::Payload(index, term), so the checker can tell an
// intact entry from a damaged one. Exits 2 with a message on any error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "raftlog/storage/leveldb_store.h"
#include "test_util.h"

using raftlog::Status;
using namespace raftlog::storage;

namespace {

[[noreturn]] void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "crash_writer: %s: %s\n", what, s.message().c_str());
  std::exit(2);
}

void Say(const std::string& line) {
  // One write(2) per line: a line in the pipe is whole, and says only what
  // had already returned.
  if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::exit(3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: storage_crash_writer <dir> <seed>\n");
    return 1;
  }
  LevelDbOptions options;
  options.write_buffer_size = 256 << 10;  // memtable flushes and compactions happen too
  options.cleanup_batch = 64;
  std::unique_ptr<LogStore> store;
  Status s = OpenLevelDbLogStore(argv[1], options, &store);
  if (!s.ok()) Die("open", s);
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  auto chance = [&](int one_in) { return rng() % one_in == 0; };

  for (;;) {
    const raftlog::core::LogIndex head = store->head_index(), last = store->last_index();
    raftlog::core::Term last_term = 0;
    s = store->term(last, &last_term);
    if (!s.ok()) Die("term", s);

    raftlog::core::LogIndex from = last + 1;
    raftlog::core::Term term = chance(20) ? last_term + 1 : std::max<uint64_t>(last_term, 1);
    if (last > head + 5 && chance(10)) {
      from = last - rng() % 5;  // a new leader overwrites an unreplicated suffix
      term = last_term + 1;
    }
    // Always end past the old tail, so every reported index stays in the log.
    const raftlog::core::LogIndex to = last + 1 + rng() % 20;
    std::vector<raftlog::core::Entry> batch;
    for (auto i = from; i <= to; ++i)
      batch.push_back(testing::MakeEntry(i, term, 16 + rng() % 300));
    s = store->append(raftlog::core::HardState{term, 1, from - 1}, batch);
    if (!s.ok()) Die("append", s);
    Say("A " + std::to_string(to) + " " + std::to_string(term) + "\n");

    if (to > head + 200 && chance(15)) {
      SnapshotMeta meta;
      meta.last_index = to - 100;
      s = store->term(meta.last_index, &meta.last_term);
      if (s.ok()) s = store->save_snapshot(meta);
      if (s.ok()) s = store->compact(meta.last_index);
      if (!s.ok()) Die("snapshot and compact", s);
      Say("C " + std::to_string(meta.last_index) + "\n");
    }
  }
}
