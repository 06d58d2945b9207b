// The client endpoints of a cluster, read from any node's config file: its
// `peer = ID=PEER,CLIENT[,PUB]` lines, parsed by server::ParseMember.
#pragma once

#include <string>
#include <vector>

#include "raftlog/status.h"

namespace raftlog::tools {

// Appends each member's client endpoint to *out, in file order.
// InvalidInput if the file cannot be read, has a bad peer line or none.
Status EndpointsFromConfig(const std::string& path, std::vector<std::string>* out);

}  // namespace raftlog::tools
