// Helpers shared by the storage tests: temporary directories, entries with
// recognisable payloads, and LevelDB environments that count or fail I/O.
#pragma once

#include <leveldb/env.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "raftlog/core/types.h"

namespace raftlog::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/raftlog-storage-XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The payload entry (index, term) carries in these tests: distinct per entry,
// recognisable in a file ("payload-000017-t2-..."), of a length that varies.
inline std::string Payload(core::LogIndex index, core::Term term, size_t size = 0) {
  std::string p = "payload-" +
                  std::string(6 - std::min<size_t>(6, std::to_string(index).size()), '0') +
                  std::to_string(index) + "-t" + std::to_string(term) + "-";
  const size_t n = size ? size : 16 + (index * 7 + term) % 50;
  for (size_t i = 0; p.size() < n; ++i) p.push_back(static_cast<char>('a' + (index + i) % 26));
  return p;
}

inline core::Entry MakeEntry(core::LogIndex index, core::Term term, size_t size = 0) {
  core::Entry e;
  e.index = index;
  e.term = term;
  e.type = core::EntryType::kCommand;
  e.data = Payload(index, term, size);
  return e;
}

// Entries [lo, hi] of one term.
inline std::vector<core::Entry> MakeEntries(core::LogIndex lo, core::LogIndex hi, core::Term term,
                                            size_t size = 0) {
  std::vector<core::Entry> v;
  for (core::LogIndex i = lo; i <= hi; ++i) v.push_back(MakeEntry(i, term, size));
  return v;
}

// Fails writes and/or syncs of every writable file while the flags are set,
// as a full disk (ENOSPC) or a dying device would.
class FaultEnv : public leveldb::EnvWrapper {
 public:
  FaultEnv() : EnvWrapper(leveldb::Env::Default()) {}
  std::atomic<bool> fail_append{false};
  std::atomic<bool> fail_sync{false};
  std::atomic<int> syncs{0};  // successful syncs so far

  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override {
    leveldb::WritableFile* file = nullptr;
    leveldb::Status s = target()->NewWritableFile(f, &file);
    if (s.ok()) *r = new File(this, file);
    return s;
  }

 private:
  class File : public leveldb::WritableFile {
   public:
    File(FaultEnv* env, leveldb::WritableFile* f) : env_(env), f_(f) {}
    leveldb::Status Append(const leveldb::Slice& data) override {
      if (env_->fail_append) return leveldb::Status::IOError("injected", "No space left on device");
      return f_->Append(data);
    }
    leveldb::Status Close() override { return f_->Close(); }
    leveldb::Status Flush() override {
      if (env_->fail_append) return leveldb::Status::IOError("injected", "No space left on device");
      return f_->Flush();
    }
    leveldb::Status Sync() override {
      if (env_->fail_sync) return leveldb::Status::IOError("injected", "fsync: Input/output error");
      leveldb::Status s = f_->Sync();
      if (s.ok()) ++env_->syncs;
      return s;
    }

   private:
    FaultEnv* env_;
    std::unique_ptr<leveldb::WritableFile> f_;
  };
};

// Counts the bytes read through random-access files (LevelDB's tables).
class CountingEnv : public leveldb::EnvWrapper {
 public:
  CountingEnv() : EnvWrapper(leveldb::Env::Default()) {}
  std::atomic<uint64_t> table_bytes_read{0};

  leveldb::Status NewRandomAccessFile(const std::string& f,
                                      leveldb::RandomAccessFile** r) override {
    leveldb::RandomAccessFile* file = nullptr;
    leveldb::Status s = target()->NewRandomAccessFile(f, &file);
    if (s.ok()) *r = new File(this, file);
    return s;
  }

 private:
  class File : public leveldb::RandomAccessFile {
   public:
    File(CountingEnv* env, leveldb::RandomAccessFile* f) : env_(env), f_(f) {}
    leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                         char* scratch) const override {
      leveldb::Status s = f_->Read(offset, n, result, scratch);
      env_->table_bytes_read += result->size();
      return s;
    }

   private:
    CountingEnv* env_;
    std::unique_ptr<leveldb::RandomAccessFile> f_;
  };
};

}  // namespace raftlog::storage::testing
