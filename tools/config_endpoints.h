// A cluster's members as any node's config file lists them: its
// `peer = ID=PEER,CLIENT[,PUB]` lines, parsed by server::ParseMember. The
// tools (raftlog-ctl, raftlog-push, raftlog-sub) take `-c FILE` this way.
#pragma once

#include <string>
#include <vector>

#include "raftlog/status.h"
#include "server/options.h"

namespace raftlog::tools {

// Appends each member, in file order. InvalidInput if the file cannot be
// read, has a bad peer line, or has none.
Status MembersFromConfig(const std::string& path, std::vector<server::Member>* out);

// The members' client endpoints, in file order (same errors).
Status EndpointsFromConfig(const std::string& path, std::vector<std::string>* out);

}  // namespace raftlog::tools
