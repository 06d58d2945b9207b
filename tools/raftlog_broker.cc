// raftlog-broker: one place to subscribe to a whole cluster's PUB stream.
//
//   raftlog-broker --xsub ENDPOINT --xpub ENDPOINT
//
// Nodes connect their PUB sockets to the XSUB endpoint (raftlogd
// --pub-connect); subscribers connect to the XPUB endpoint and receive what
// every node publishes (the Subscriber drops the duplicates by index).
// Subscriptions travel the other way, so topic filtering still happens at
// the nodes. Exits 0 on SIGTERM or SIGINT, 1 if an endpoint cannot be bound,
// 2 for a usage error.
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace po = boost::program_options;

namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr const char* kControlEndpoint = "inproc://raftlog-broker-control";

}  // namespace

int main(int argc, char** argv) {
  std::string xsub_endpoint, xpub_endpoint;
  po::options_description desc(
      "Usage: raftlog-broker --xsub ENDPOINT --xpub ENDPOINT\n"
      "Forwards every node's PUB stream (connected to --xsub) to subscribers (on --xpub)");
  desc.add_options()("help,h", "print this help and exit")(
      "xsub", po::value(&xsub_endpoint)->required(), "bind here; nodes' PUB sockets connect")(
      "xpub", po::value(&xpub_endpoint)->required(), "bind here; subscribers connect");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "raftlog-broker: " << e.what() << "\n" << desc << "\n";
    return kExitUsage;
  }

  // The signals go to a thread of our own that asks the proxy to stop:
  // blocked here, before libzmq starts its threads (they inherit the mask),
  // so no signal can slip in between a check and the proxy's wait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  zmq::context_t context(1);
  zmq::socket_t xsub(context, zmq::socket_type::xsub);
  zmq::socket_t xpub(context, zmq::socket_type::xpub);
  zmq::socket_t control(context, zmq::socket_type::pair);
  try {
    for (zmq::socket_t* s : {&xsub, &xpub, &control}) s->set(zmq::sockopt::linger, 0);
    control.bind(kControlEndpoint);
    xsub.bind(xsub_endpoint);
    xpub.bind(xpub_endpoint);
  } catch (const zmq::error_t& e) {
    std::cerr << "raftlog-broker: cannot bind: " << e.what() << "\n";
    return kExitError;
  }

  std::atomic<bool> proxy_done{false};
  std::thread stopper([&context, &stop_signals, &proxy_done] {
    const timespec tick{0, 100000000L};  // 100 ms: how soon a failed proxy is noticed
    while (!proxy_done) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) < 0) continue;  // timeout or EINTR
      zmq::socket_t s(context, zmq::socket_type::pair);
      s.set(zmq::sockopt::linger, 1000);  // long enough to hand TERMINATE over
      s.connect(kControlEndpoint);
      s.send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
      return;
    }
  });
  std::cerr << "raftlog-broker: forwarding " << xsub_endpoint << " -> " << xpub_endpoint << "\n";
  int code = 0;
  try {
    zmq::proxy_steerable(xsub, xpub, zmq::socket_ref(), control);
  } catch (const zmq::error_t& e) {
    std::cerr << "raftlog-broker: " << e.what() << "\n";
    code = kExitError;
  }
  proxy_done = true;
  stopper.join();
  return code;
}
