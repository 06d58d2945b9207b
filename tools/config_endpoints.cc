#include "config_endpoints.h"

#include <boost/program_options.hpp>
#include <fstream>

namespace raftlog::tools {

namespace po = boost::program_options;

Status MembersFromConfig(const std::string& path, std::vector<server::Member>* out) {
  std::ifstream in(path);
  if (!in) return Status::InvalidInput("cannot read config file '" + path + "'");
  po::options_description desc;
  std::vector<std::string> peers;
  desc.add_options()("peer", po::value(&peers)->composing());
  po::variables_map vm;
  try {
    // Only the peer lines matter here; the node's other keys are its own.
    po::store(po::parse_config_file(in, desc, /*allow_unregistered=*/true), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::InvalidInput(path + ": " + e.what());
  }
  for (const std::string& p : peers) {
    server::Member m;
    Status s = server::ParseMember(p, &m);
    if (!s.ok()) return Status::InvalidInput(path + ": " + s.message());
    out->push_back(m);
  }
  if (peers.empty()) return Status::InvalidInput(path + ": no peer lines");
  return Status::Ok();
}

Status EndpointsFromConfig(const std::string& path, std::vector<std::string>* out) {
  std::vector<server::Member> members;
  Status s = MembersFromConfig(path, &members);
  for (const server::Member& m : members) out->push_back(m.client_endpoint);
  return s;
}

}  // namespace raftlog::tools
