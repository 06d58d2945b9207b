// What src/client and the tests use of a Client beyond its public API: raw
// requests, any op with Value args and the reply as it came. Kept out of
// raftlog/client.h so that the public client API does not carry the
// generic Value model (raftlog/wire/value.h).
#pragma once

#include <string>

#include "raftlog/client.h"
#include "raftlog/status.h"
#include "raftlog/wire/client_codec.h"

namespace raftlog {

class ClientInternals {
 public:
  // One request to one endpoint. The reply's code is not interpreted.
  // IOError when no reply comes within request_timeout; Busy, at once, when
  // a signal interrupts the wait (Call returns Busy for nothing else).
  static Status Call(Client& client, const std::string& endpoint, const std::string& op,
                     wire::Value::Map args, wire::ClientReply* reply);
};

// The Status a non-ok reply stands for: NotLeader (with the hint), Busy,
// InvalidInput, NotFound, or the rest as an error with the reply's message.
Status ReplyStatus(const wire::ClientReply& reply);

}  // namespace raftlog
