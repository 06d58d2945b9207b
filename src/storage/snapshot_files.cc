#include "raftlog/storage/snapshot_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "storage/crc32c.h"

namespace raftlog::storage {

namespace {

constexpr char kMagic[8] = {'R', 'L', 'S', 'N', 'A', 'P', '0', '1'};
constexpr const char* kPrefix = "snap-";
constexpr const char* kSuffix = ".snap";
constexpr const char* kTmpSuffix = ".tmp";

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Header(const SnapshotInfo& info) {
  std::string h(SnapshotFiles::kHeaderBytes, '\0');
  std::memcpy(h.data(), kMagic, sizeof(kMagic));
  PutU64(h.data() + 8, info.index);
  PutU64(h.data() + 16, info.term);
  PutU64(h.data() + 24, info.size);
  PutU32(h.data() + 32, info.crc);
  PutU32(h.data() + 36, Crc32c(h.data(), 36));
  return h;
}

Status ParseHeader(const char* h, SnapshotInfo* info) {
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) return Status::Corruption("not a snapshot file");
  if (GetU32(h + 36) != Crc32c(h, 36)) return Status::Corruption("header checksum mismatch");
  info->index = GetU64(h + 8);
  info->term = GetU64(h + 16);
  info->size = GetU64(h + 24);
  info->crc = GetU32(h + 32);
  return Status::Ok();
}

std::string Padded(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(v));
  return buf;
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("write " + path);
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

Status ReadAt(int fd, uint64_t offset, size_t n, std::string* out, const std::string& path) {
  out->resize(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("read " + path);
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  out->resize(done);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  Status s = ::fsync(fd) == 0 ? Status::Ok() : Errno("fsync " + dir);
  ::close(fd);
  return s;
}

}  // namespace

Status SnapshotFiles::Open(const std::string& dir, std::unique_ptr<SnapshotFiles>* out) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir " + dir);
  std::unique_ptr<SnapshotFiles> files(new SnapshotFiles(dir));
  Status s = files->scan();
  if (!s.ok()) return s;
  *out = std::move(files);
  return Status::Ok();
}

SnapshotFiles::~SnapshotFiles() {
  abandon();
}

std::string SnapshotFiles::path_of(const SnapshotInfo& snap) const {
  return dir_ + "/" + kPrefix + Padded(snap.index) + "-" + Padded(snap.term) + kSuffix;
}

Status SnapshotFiles::scan() {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Errno("opendir " + dir_);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  complete_.clear();
  damaged_.clear();
  for (const std::string& name : names) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    const std::string path = dir_ + "/" + name;
    if (EndsWith(name, kTmpSuffix)) {
      // A write a crash interrupted: never finished, so never used.
      if (::unlink(path.c_str()) != 0) return Errno("unlink " + path);
      continue;
    }
    if (!EndsWith(name, kSuffix)) continue;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open " + path);
    std::string header;
    Status s = ReadAt(fd, 0, kHeaderBytes, &header, path);
    struct stat st = {};
    const bool stat_ok = ::fstat(fd, &st) == 0;
    ::close(fd);
    if (!s.ok()) return s;
    SnapshotInfo info;
    if (header.size() < kHeaderBytes) {
      s = Status::Corruption("shorter than a header");
    } else {
      s = ParseHeader(header.data(), &info);
    }
    if (s.ok() && (!stat_ok || static_cast<uint64_t>(st.st_size) != kHeaderBytes + info.size)) {
      s = Status::Corruption("length " + std::to_string(st.st_size) + ", the header says " +
                             std::to_string(kHeaderBytes + info.size));
    }
    if (s.ok() && path_of(info) != path) s = Status::Corruption("its name and header disagree");
    if (!s.ok()) {
      damaged_.push_back(path + ": " + s.message());
      continue;
    }
    complete_.push_back(info);
  }
  std::sort(complete_.begin(), complete_.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.index < b.index; });
  return Status::Ok();
}

Status SnapshotFiles::begin(const SnapshotInfo& info) {
  if (info.index == 0) return Status::InvalidInput("a snapshot at index 0");
  abandon();
  const std::string tmp = path_of(info) + kTmpSuffix;
  fd_ = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return Errno("open " + tmp);
  const std::string header = Header(info);
  Status s = WriteAll(fd_, header.data(), header.size(), tmp);
  if (!s.ok()) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(tmp.c_str());
    return s;
  }
  writing_ = true;
  pending_ = info;
  written_ = 0;
  crc_so_far_ = 0;
  return Status::Ok();
}

Status SnapshotFiles::append(uint64_t offset, std::string_view data) {
  if (!writing_) return Status::InvalidInput("no snapshot is being written");
  if (offset < written_) {
    // A piece sent again (a lost reply): what it overlaps is written already.
    if (offset + data.size() <= written_) return Status::Ok();
    data.remove_prefix(written_ - offset);
    offset = written_;
  }
  if (offset > written_) {
    return Status::InvalidInput("snapshot data at offset " + std::to_string(offset) + " but only " +
                                std::to_string(written_) + " bytes are written");
  }
  if (data.size() > pending_.size - written_) {
    return Status::InvalidInput("snapshot data past its size " + std::to_string(pending_.size));
  }
  Status s = WriteAll(fd_, data.data(), data.size(), path_of(pending_) + kTmpSuffix);
  if (!s.ok()) {
    abandon();
    return s;
  }
  crc_so_far_ = Crc32cExtend(crc_so_far_, data.data(), data.size());
  written_ += data.size();
  return Status::Ok();
}

Status SnapshotFiles::finish() {
  if (!writing_) return Status::InvalidInput("no snapshot is being written");
  const std::string path = path_of(pending_);
  const std::string tmp = path + kTmpSuffix;
  if (written_ != pending_.size || crc_so_far_ != pending_.crc) {
    Status bad = Status::Corruption(
        "snapshot " + std::to_string(pending_.index) + ": " + std::to_string(written_) +
        " bytes with CRC32C " + std::to_string(crc_so_far_) + ", announced " +
        std::to_string(pending_.size) + " bytes with " + std::to_string(pending_.crc));
    abandon();
    return bad;
  }
  Status s = ::fsync(fd_) == 0 ? Status::Ok() : Errno("fsync " + tmp);
  ::close(fd_);
  fd_ = -1;
  writing_ = false;
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("rename " + tmp);
  if (s.ok()) s = SyncDir(dir_);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  auto same = std::find_if(complete_.begin(), complete_.end(),
                           [&](const SnapshotInfo& c) { return c.index == pending_.index; });
  if (same != complete_.end()) complete_.erase(same);
  complete_.push_back(pending_);
  std::sort(complete_.begin(), complete_.end(),
            [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.index < b.index; });
  return Status::Ok();
}

void SnapshotFiles::abandon() {
  if (!writing_) return;
  ::close(fd_);
  fd_ = -1;
  writing_ = false;
  ::unlink((path_of(pending_) + kTmpSuffix).c_str());
}

Status SnapshotFiles::latest(SnapshotInfo* info) const {
  if (complete_.empty()) return Status::NotFound("no snapshot in " + dir_);
  *info = complete_.back();
  return Status::Ok();
}

Status SnapshotFiles::read(const SnapshotInfo& snap, uint64_t offset, size_t max,
                           std::string* out) const {
  if (std::find(complete_.begin(), complete_.end(), snap) == complete_.end()) {
    return Status::NotFound("no snapshot " + std::to_string(snap.index) + "/" +
                            std::to_string(snap.term) + " in " + dir_);
  }
  out->clear();
  if (offset >= snap.size) return Status::Ok();
  const std::string path = path_of(snap);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(max, snap.size - offset));
  Status s = ReadAt(fd, kHeaderBytes + offset, n, out, path);
  ::close(fd);
  if (s.ok() && out->size() != n) s = Status::Corruption(path + ": shorter than its header says");
  return s;
}

Status SnapshotFiles::load(const SnapshotInfo& snap, std::string* data) const {
  Status s = read(snap, 0, snap.size, data);
  if (!s.ok()) return s;
  const uint32_t crc = Crc32c(data->data(), data->size());
  if (crc != snap.crc) {
    return Status::Corruption(path_of(snap) + ": data checksum " + std::to_string(crc) +
                              ", the header says " + std::to_string(snap.crc));
  }
  return Status::Ok();
}

Status SnapshotFiles::remove(const SnapshotInfo& snap) {
  std::vector<SnapshotInfo> kept;
  for (const SnapshotInfo& c : complete_) {
    if (c != snap) kept.push_back(c);
  }
  if (kept.size() == complete_.size()) return Status::Ok();
  const std::string path = path_of(snap);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path);
  complete_ = std::move(kept);
  return Status::Ok();
}

Status SnapshotFiles::remove_below(core::LogIndex keep) {
  std::vector<SnapshotInfo> kept;
  for (const SnapshotInfo& c : complete_) {
    if (c.index >= keep) {
      kept.push_back(c);
      continue;
    }
    const std::string path = path_of(c);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path);
  }
  complete_ = std::move(kept);
  return Status::Ok();
}

}  // namespace raftlog::storage
