// ClientEndpoint: raftlogd's client socket (a ROUTER), read on the loop's
// poller. It splits each message into its envelope and its request frame
// for the ClientService and sends the service's replies back to the
// routing id they name. Nothing here knows what a request means.
#pragma once

#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "net/poller.h"
#include "raftlog/status.h"
#include "server/client_service.h"
#include "server/log.h"

namespace raftlog::server {

class ClientEndpoint final : public ReplyChannel {
 public:
  // max_frame_bytes: ZMQ_MAXMSGSIZE, so a larger frame never reaches memory.
  ClientEndpoint(zmq::context_t* context, size_t max_frame_bytes);
  void set_service(ClientService* service) { service_ = service; }
  // Binds the endpoint and has the poller serve it. IOError if the bind fails.
  Status start(const std::string& endpoint, net::Poller* poller);

  // ReplyChannel: [routing id] [empty delimiter, for REQ] frame.
  void send(const ReplyTo& to, std::string_view frame) override;

 private:
  void on_readable();

  zmq::socket_t socket_;
  size_t max_frame_bytes_;
  ClientService* service_ = nullptr;
  std::vector<zmq::message_t> frames_;  // of the message being read
};

}  // namespace raftlog::server
