#include "server/publisher.h"

namespace raftlog::server {

void Publisher::on_subscription(std::string_view message) {
  if (message.empty()) return;
  std::string_view prefix = message.substr(1);
  if (message[0] == 1) {
    auto it = subscriptions_.find(prefix);
    if (it == subscriptions_.end()) it = subscriptions_.emplace(std::string(prefix), 0).first;
    ++it->second;
  } else if (message[0] == 0) {
    auto it = subscriptions_.find(prefix);
    if (it != subscriptions_.end() && --it->second <= 0) subscriptions_.erase(it);
  }
}

void Publisher::publish(std::string_view topic, const wire::PublishedEventView& event) {
  if (channel_ == nullptr || subscriptions_.empty()) return;  // nobody would get it
  buffer_.clear();
  wire::EncodePublishedEvent(event, &buffer_);
  channel_->send(topic, buffer_);
}

void Publisher::heartbeat(const wire::PublishedHeartbeat& heartbeat) {
  if (channel_ == nullptr) return;
  buffer_.clear();
  wire::EncodePublishedHeartbeat(heartbeat, &buffer_);
  channel_->send(wire::kHeartbeatTopic, buffer_);
}

}  // namespace raftlog::server
