// Opening the LevelDB-backed LogStore, the one raftlogd uses.
// docs/storage.md describes the on-disk layout.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"

namespace leveldb {
class Env;
}

namespace raftlog::storage {

struct LevelDbOptions {
  // Create the database if it does not exist (otherwise NotFound).
  bool create_if_missing = true;
  // LevelDB memtable size: larger means fewer, bigger level-0 files and less
  // compaction work under a steady append stream.
  size_t write_buffer_size = 64 << 20;
  // Block cache for reads of entries no longer in the memtable (followers
  // catching up, subscribers reading history).
  size_t block_cache_bytes = 32 << 20;
  // Snappy compression of table blocks. Off by default: payloads are
  // usually already compact (msgpack, compressed by the producer) and the
  // CPU is better spent elsewhere.
  bool compress = false;
  int max_open_files = 500;
  // Keys deleted per background batch after compact(): small enough that an
  // append waiting behind one is not delayed for long.
  size_t cleanup_batch = 1000;
  // An append stores its entries as runs of consecutive entries, one key
  // per run, each run closed once it holds this many bytes: LevelDB's cost
  // is mostly per key, so a run of n small entries costs about one, while
  // reading one entry (or losing a damaged block) still touches no more
  // than about this much. An entry larger than this is a run of its own.
  size_t max_run_bytes = 16 << 10;
  // For tests: the LevelDB environment (file system) to use; null is the
  // default, real one. Must outlive the store.
  leveldb::Env* env = nullptr;
};

// Opens (or creates) the store in directory path. Reads only metadata: the
// head, hard state and tail come from a few keys, so opening a log of any
// length is quick. Corruption if that metadata is damaged, IOError if
// LevelDB cannot open (the message says why, e.g. the LOCK is held).
Status OpenLevelDbLogStore(const std::string& path, const LevelDbOptions& options,
                           std::unique_ptr<LogStore>* store);

}  // namespace raftlog::storage
