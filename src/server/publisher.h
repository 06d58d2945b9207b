// Publisher: the node's stream of committed events (docs/protocol.md, "The
// PUB stream"), encoded here and sent through a PubChannel: raftlogd's XPUB
// socket (PubEndpoint) or the simulator's subscribers. A send never blocks:
// a subscriber past its high-water mark loses messages, and the Subscriber
// library fills the gap through fetch.
//
// An event is encoded only while someone subscribes to something (the
// channel reports subscriptions). Heartbeats go out regardless.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "raftlog/wire/event_ops.h"
#include "server/event_machine.h"

namespace raftlog::server {

// Where published messages go: [topic] [body].
class PubChannel {
 public:
  virtual ~PubChannel() = default;
  virtual void send(std::string_view topic, std::string_view body) = 0;
};

class Publisher : public EventSink {
 public:
  // channel == nullptr: a node that publishes nothing.
  explicit Publisher(PubChannel* channel) : channel_(channel) {}
  void publish(std::string_view topic, const wire::PublishedEventView& event) override;
  void heartbeat(const wire::PublishedHeartbeat& heartbeat);
  // A subscription message as XPUB delivers it: 1 (subscribe) or 0
  // (unsubscribe), then the topic prefix. Anything else is ignored.
  void on_subscription(std::string_view message);
  // Whether any subscription (to any topic prefix) is open now.
  bool subscribed() const { return !subscriptions_.empty(); }

 private:
  PubChannel* channel_;
  std::string buffer_;
  std::map<std::string, int, std::less<>> subscriptions_;  // topic prefix -> count
};

}  // namespace raftlog::server
