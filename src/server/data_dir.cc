#include "server/data_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace raftlog::server {

namespace {

Status Fail(const char* what, const std::string& dir, int err) {
  return Status::IOError(std::string("cannot ") + what + " data directory " + dir + ": " +
                         std::strerror(err));
}

// mkdir, where a directory already there is success; ENOTDIR when
// something else is there.
int MakeOne(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return 0;
  int err = errno;
  struct stat st;
  if (err == EEXIST) {
    if (stat(path.c_str(), &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    return errno;
  }
  return err;
}

}  // namespace

Status PrepareDataDir(const std::string& dir) {
  if (dir.empty()) return Status::IOError("the data directory is empty");
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    // ENOTDIR: a parent is a file; mkdir below says so.
    if (errno != ENOENT && errno != ENOTDIR) return Fail("use", dir, errno);
    // Every prefix that ends at a '/', then dir itself (like mkdir -p).
    for (size_t slash = dir.find('/', 1); slash != std::string::npos;
         slash = dir.find('/', slash + 1)) {
      if (dir[slash - 1] == '/') continue;  // "a//b"
      if (int err = MakeOne(dir.substr(0, slash)); err != 0) return Fail("create", dir, err);
    }
    if (int err = MakeOne(dir); err != 0) return Fail("create", dir, err);
    if (stat(dir.c_str(), &st) != 0) return Fail("use", dir, errno);
  }
  if (!S_ISDIR(st.st_mode)) return Fail("use", dir, ENOTDIR);
  // LevelDB creates its files in it (root passes this whatever the mode).
  if (access(dir.c_str(), W_OK | X_OK) != 0) return Fail("use", dir, errno);
  return Status::Ok();
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

}  // namespace raftlog::server
