// etcd-load: puts into etcd through its v3 gRPC-JSON gateway
// (POST /v3/kv/put), with N HTTP/1.1 keep-alive connections each keeping one
// request in flight (closed loop), from one thread with epoll, so the load
// generator spends little CPU. Keys are 8 bytes, sequential; values are
// --value-size bytes. Prints one JSON line (latency.h).
//
// Why the gateway and not gRPC: it is plain HTTP/1.1, so the client is a
// page of code; the price is that etcd does JSON and an in-process gRPC hop
// per request, which docs/benchmarks.md weighs against etcd's own tool.
#include <sys/epoll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "latency.h"
#include "tcp.h"
#include "tools/base64.h"

namespace po = boost::program_options;
using namespace raftlog::bench;

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Parses one complete HTTP/1.1 response at the front of d (Content-Length
// or chunked body). Returns false while incomplete; else sets *consumed,
// *status and *body.
bool ParseResponse(std::string_view d, size_t* consumed, int* status, std::string* body) {
  size_t head_end = d.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return false;
  std::string_view head = d.substr(0, head_end);
  *status = head.size() > 12 ? std::atoi(std::string(head.substr(9, 3)).c_str()) : 0;
  long length = -1;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    size_t next = head.find("\r\n", pos + 2);
    std::string_view h =
        head.substr(pos + 2, next == std::string_view::npos ? head.npos : next - pos - 2);
    size_t colon = h.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = h.substr(0, colon), value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (IEquals(name, "content-length")) length = std::atol(std::string(value).c_str());
      if (IEquals(name, "transfer-encoding") && IEquals(value, "chunked")) chunked = true;
    }
    pos = next;
  }
  size_t at = head_end + 4;
  body->clear();
  if (!chunked) {
    if (length < 0) length = 0;
    if (d.size() < at + static_cast<size_t>(length)) return false;
    body->assign(d.substr(at, static_cast<size_t>(length)));
    *consumed = at + static_cast<size_t>(length);
    return true;
  }
  for (;;) {  // chunk: hex size \r\n data \r\n, ending with a 0-size chunk and \r\n
    size_t eol = d.find("\r\n", at);
    if (eol == std::string_view::npos) return false;
    size_t size = std::stoul(std::string(d.substr(at, eol - at)), nullptr, 16);
    if (d.size() < eol + 2 + size + 2) return false;
    body->append(d.substr(eol + 2, size));
    at = eol + 2 + size + 2;
    if (size == 0) break;
  }
  *consumed = at;
  return true;
}

struct Conn {
  int fd = -1;
  ReadBuffer in;
  int64_t sent_ns = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint;
  int inflight = 1, value_size = 256;
  double warmup = 1, duration = 5;
  bool json = false;
  po::options_description desc("etcd-load: closed-loop puts through etcd's v3 JSON gateway");
  desc.add_options()("help", "this text")("endpoint",
                                          po::value(&endpoint)->default_value("127.0.0.1:2379"),
                                          "the leader's client URL, host:port")(
      "inflight", po::value(&inflight)->default_value(1), "connections, one put in flight each")(
      "value-size", po::value(&value_size)->default_value(256), "bytes per value")(
      "warmup", po::value(&warmup)->default_value(1), "seconds not measured first")(
      "duration", po::value(&duration)->default_value(5), "seconds measured")(
      "json", po::bool_switch(&json), "one JSON line instead of text");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "etcd-load: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }

  const std::string value_b64 =
      raftlog::tools::Base64(std::string(static_cast<size_t>(value_size), 'v'));
  uint64_t next_key = 0;
  auto request = [&] {
    char key[9];
    std::snprintf(key, sizeof(key), "%08llu",
                  static_cast<unsigned long long>(next_key++ % 100000000));
    std::string body =
        "{\"key\":\"" + raftlog::tools::Base64(key) + "\",\"value\":\"" + value_b64 + "\"}";
    return "POST /v3/kv/put HTTP/1.1\r\nHost: " + endpoint +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };

  int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<size_t>(inflight));
  for (size_t i = 0; i < conns.size(); ++i) {
    std::string err;
    conns[i].fd = ConnectTcp(endpoint, &err);
    if (conns[i].fd < 0) {
      std::cerr << "etcd-load: " << err << "\n";
      return 1;
    }
    SetNonBlocking(conns[i].fd);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }

  const int64_t start = NowNs();
  const int64_t measure_from = start + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = measure_from + static_cast<int64_t>(duration * 1e9);
  LatencyLog log;
  uint64_t errors = 0;
  std::string first_error;
  for (Conn& c : conns) {
    c.sent_ns = NowNs();
    SendAll(c.fd, request());
  }
  std::vector<epoll_event> events(conns.size());
  std::string body;
  int64_t now = start;
  while (now < end) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    now = NowNs();
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[events[i].data.u64];
      long got = c.in.fill(c.fd);
      if (got == 0 || got == -1) {
        std::cerr << "etcd-load: connection closed by etcd\n";
        return 1;
      }
      size_t used = 0;
      int status = 0;
      while (ParseResponse(c.in.data(), &used, &status, &body)) {
        c.in.consume(used);
        if (status != 200 || body.find("\"error\"") != std::string::npos) {
          if (first_error.empty()) first_error = std::to_string(status) + " " + body;
          ++errors;
        } else if (now >= measure_from && now < end) {
          log.add(now - c.sent_ns);
        }
        c.sent_ns = NowNs();
        if (!SendAll(c.fd, request())) {
          std::cerr << "etcd-load: send failed\n";
          return 1;
        }
      }
    }
  }
  for (Conn& c : conns) close(c.fd);
  close(ep);
  Summary s = log.summarize(duration, static_cast<size_t>(value_size));
  if (!first_error.empty()) std::cerr << "etcd-load: first error: " << first_error << "\n";
  if (json)
    std::cout << SummaryJson("etcd", inflight, s, errors) << std::endl;
  else
    std::cout << SummaryText("etcd, " + std::to_string(inflight) + " in flight", s);
  return log.size() == 0 ? 1 : 0;
}
