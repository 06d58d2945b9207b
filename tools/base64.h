// Standard base64 (RFC 4648, with padding) for the tools that print or send
// binary data as text: raftlog-sub's payload_b64, etcd's JSON gateway in
// bench/etcd-load.
#pragma once

#include <string>
#include <string_view>

namespace raftlog::tools {

std::string Base64(std::string_view in);

}  // namespace raftlog::tools
