// nats-load: publishes to a NATS JetStream stream over the NATS text
// protocol and waits for JetStream's PubAck on a reply inbox, keeping
// --inflight publishes outstanding on one connection (closed loop), from one
// thread. Creates the stream (file storage, --replicas copies) if needed and
// connects to the server that leads it, as a JetStream-aware client would.
// Prints one JSON line (latency.h).
//
// The protocol, as nats-server speaks it: the server opens with INFO {...};
// the client sends CONNECT {...}, SUB <subject> <sid>, and
// PUB <subject> <reply> <bytes>\r\n<payload>; the server delivers
// MSG <subject> <sid> [reply] <bytes>\r\n<payload>, and PING wants PONG.
#include <poll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "latency.h"
#include "tcp.h"

namespace po = boost::program_options;
using namespace raftlog::bench;

namespace {

constexpr const char* kInbox = "_INBOX.natsload.";

// One connection, blocking reads with a timeout.
class NatsConn {
 public:
  ~NatsConn() {
    if (fd_ >= 0) close(fd_);
  }
  bool open(const std::string& url, std::string* error) {
    fd_ = ConnectTcp(url, error);
    if (fd_ < 0) return false;
    std::string_view info;
    if (!read_line(&info, 5000) || info.substr(0, 5) != "INFO ") {
      *error = "no INFO from " + url;
      return false;
    }
    info_ = std::string(info);
    std::string hello =
        "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"name\":\"nats-load\","
        "\"lang\":\"c++\",\"version\":\"1\",\"protocol\":1}\r\nSUB " +
        std::string(kInbox) + "* 1\r\nPING\r\n";
    SendAll(fd_, hello);
    std::string_view line;
    while (read_line(&line, 5000)) {
      if (line == "PONG") return true;
      if (line.substr(0, 4) == "-ERR") break;
    }
    *error = "no PONG from " + url;
    return false;
  }
  const std::string& info() const { return info_; }
  int fd() const { return fd_; }
  ReadBuffer& in() { return in_; }

  bool read_line(std::string_view* out, int timeout_ms) {
    while (!in_.line(out)) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0 || in_.fill(fd_) <= 0) return false;
    }
    return true;
  }
  bool read_bytes(size_t n, std::string* out, int timeout_ms) {
    while (in_.data().size() < n + 2) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0 || in_.fill(fd_) <= 0) return false;
    }
    out->assign(in_.data().substr(0, n));
    in_.consume(n + 2);
    return true;
  }

  // A request/reply exchange on the inbox (for the JetStream API).
  // A reply subject of its own per request, so that a late reply to an
  // earlier request (one that timed out) is not taken for this one's.
  bool request(const std::string& subject, const std::string& body, std::string* reply) {
    reply->clear();
    std::string reply_to = std::string(kInbox) + "api" + std::to_string(++requests_);
    SendAll(fd_, "PUB " + subject + " " + reply_to + " " + std::to_string(body.size()) + "\r\n" +
                     body + "\r\n");
    std::string_view line;
    while (read_line(&line, 5000)) {
      if (line == "PING") {
        SendAll(fd_, "PONG\r\n");
        continue;
      }
      if (line.substr(0, 4) != "MSG ") continue;
      std::istringstream words{std::string(line)};
      std::string msg, subj, sid, size;
      words >> msg >> subj >> sid >> size;
      if (!read_bytes(std::stoul(size), reply, 5000)) return false;
      if (subj == reply_to) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  std::string info_;
  ReadBuffer in_;
  uint64_t requests_ = 0;
};

// The string value of "key":"..." in a JSON text, or "".
std::string JsonString(const std::string& json, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  return json.substr(at, json.find('"', at) - at);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> urls;
  std::string stream;
  int inflight = 1, value_size = 256, replicas = 3;
  double warmup = 1, duration = 5;
  bool json = false;
  po::options_description desc("nats-load: closed-loop JetStream publishes with acks");
  desc.add_options()("help", "this text")("url", po::value(&urls)->composing(),
                                          "a server's client address host:port (repeat)")(
      "stream", po::value(&stream)->default_value("BENCH"), "stream name; subjects <name>.>")(
      "replicas", po::value(&replicas)->default_value(3), "the stream's replicas if created")(
      "inflight", po::value(&inflight)->default_value(1), "publishes awaiting their ack")(
      "value-size", po::value(&value_size)->default_value(256), "bytes per message")(
      "warmup", po::value(&warmup)->default_value(1), "seconds not measured first")(
      "duration", po::value(&duration)->default_value(5), "seconds measured")(
      "json", po::bool_switch(&json), "one JSON line instead of text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "nats-load: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help") || urls.empty()) {
    std::cout << desc;
    return vm.count("help") ? 0 : 2;
  }

  // Create the stream (creating an identical one again is not an error),
  // then wait until it has a leader. A cluster just started has no
  // JetStream meta leader for a while: until it has, the create request gets
  // no reply or an error ("JetStream system temporarily unavailable"), so
  // connecting and creating are retried for up to 30 s.
  std::string err, reply, leader;
  {
    // The servers may not even listen yet: connecting is retried too.
    Clock::time_point create_deadline = Clock::now() + std::chrono::seconds(30);
    std::unique_ptr<NatsConn> admin;
    for (;;) {
      admin = std::make_unique<NatsConn>();
      if (admin->open(urls[0], &err)) break;
      if (Clock::now() >= create_deadline) {
        std::cerr << "nats-load: " << err << "\n";
        return 1;
      }
      usleep(250000);
    }
    std::string config = "{\"name\":\"" + stream + "\",\"subjects\":[\"" + stream +
                         ".>\"],\"storage\":\"file\",\"num_replicas\":" + std::to_string(replicas) +
                         "}";
    std::string last_error;
    for (;;) {
      bool answered = admin->request("$JS.API.STREAM.CREATE." + stream, config, &reply);
      // An empty reply is no answer either.
      if (answered && !reply.empty() && reply.find("\"error\"") == std::string::npos) break;
      std::string why = "no reply from JetStream";
      if (!reply.empty()) {
        why = JsonString(reply, "description");
        if (why.empty()) why = reply;
      }
      if (why != last_error)
        std::cerr << "nats-load: creating the stream: " << why << "; retrying\n";
      last_error = why;
      if (Clock::now() >= create_deadline) {
        std::cerr << "nats-load: could not create the stream within 30 s: " << why << "\n";
        return 1;
      }
      usleep(250000);
    }
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(15);
    while (leader.empty() && Clock::now() < deadline) {
      if (admin->request("$JS.API.STREAM.INFO." + stream, "", &reply))
        leader = JsonString(reply, "leader");
      if (leader.empty()) usleep(100000);
    }
    if (leader.empty()) {
      std::cerr << "nats-load: the stream has no leader: " << reply << "\n";
      return 1;
    }
  }
  // Publish to the stream leader's server.
  NatsConn conn;
  bool found = false;
  for (const std::string& url : urls) {
    NatsConn probe;
    if (probe.open(url, &err) && JsonString(probe.info(), "server_name") == leader) {
      found = conn.open(url, &err);
      break;
    }
  }
  if (!found && !conn.open(urls[0], &err)) {
    std::cerr << "nats-load: " << err << "\n";
    return 1;
  }

  const std::string payload(static_cast<size_t>(value_size), 'v');
  const std::string subject = stream + ".bench";
  constexpr size_t kRing = 1 << 20;  // send times by publish id; inflight is far below
  std::vector<int64_t> sent(kRing);
  uint64_t next_id = 0;
  std::string out;
  auto publish = [&] {
    uint64_t id = next_id++;
    sent[id % kRing] = NowNs();
    out += "PUB " + subject + " " + kInbox + std::to_string(id) + " " +
           std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
  };

  const int64_t start = NowNs();
  const int64_t measure_from = start + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = measure_from + static_cast<int64_t>(duration * 1e9);
  LatencyLog log;
  uint64_t errors = 0;
  std::string first_error, ack;
  for (int i = 0; i < inflight; ++i) publish();
  SendAll(conn.fd(), out);
  out.clear();
  int64_t now = start, last_ack = start;
  SetNonBlocking(conn.fd());
  ReadBuffer& in = conn.in();
  while (now < end) {
    pollfd p{conn.fd(), POLLIN, 0};
    poll(&p, 1, 100);
    long got = in.fill(conn.fd());
    now = NowNs();
    if (got == 0 || got == -1) {
      std::cerr << "nats-load: connection closed by the server\n";
      return 1;
    }
    // Whole MSG records only: header line and payload must both be there.
    for (;;) {
      std::string_view d = in.data();
      size_t eol = d.find("\r\n");
      if (eol == std::string_view::npos) break;
      std::string_view line = d.substr(0, eol);
      if (line.substr(0, 4) != "MSG ") {
        if (line == "PING") out += "PONG\r\n";
        if (line.substr(0, 4) == "-ERR" && first_error.empty()) first_error = std::string(line);
        in.consume(eol + 2);
        continue;
      }
      size_t sp = line.rfind(' ');
      size_t size = std::stoul(std::string(line.substr(sp + 1)));
      if (d.size() < eol + 2 + size + 2) break;
      std::string_view body = d.substr(eol + 2, size);
      size_t inbox = line.find(kInbox);
      uint64_t id = std::stoull(std::string(line.substr(inbox + std::string_view(kInbox).size())));
      if (body.find("\"error\"") != std::string_view::npos) {
        if (first_error.empty()) first_error = std::string(body);
        ++errors;
      } else if (now >= measure_from && now < end) {
        log.add(now - sent[id % kRing]);
      }
      in.consume(eol + 2 + size + 2);
      last_ack = now;
      publish();
    }
    if (!out.empty()) {
      if (!SendAll(conn.fd(), out)) return 1;
      out.clear();
    }
    if (now - last_ack > 5'000'000'000) {
      std::cerr << "nats-load: no ack for 5 s\n";
      return 1;
    }
  }
  Summary s = log.summarize(duration, static_cast<size_t>(value_size));
  if (!first_error.empty()) std::cerr << "nats-load: first error: " << first_error << "\n";
  if (json)
    std::cout << SummaryJson("nats", inflight, s, errors, "\"leader\":\"" + leader + "\"")
              << std::endl;
  else
    std::cout << SummaryText("NATS JetStream, " + std::to_string(inflight) + " in flight", s);
  return log.size() == 0 ? 1 : 0;
}
