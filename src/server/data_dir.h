// raftlogd's data directory, made ready before LevelDB opens it.
#pragma once

#include <cstdint>
#include <string>

#include "raftlog/status.h"

namespace raftlog::server {

// Creates dir and its missing parents (mode 0755), and checks that dir is a
// directory this process can write in. The error (IOError) names the
// directory and the reason in words, e.g. "cannot create data directory
// data/node1: Permission denied", "cannot use data directory data/node1:
// Not a directory".
Status PrepareDataDir(const std::string& dir);

// Bytes of every regular file under dir (0 for what cannot be read): a
// node's disk use, as its status reply gives it.
uint64_t DirectoryBytes(const std::string& dir);

}  // namespace raftlog::server
