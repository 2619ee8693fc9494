#include "nats_server.h"

#include <fstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

#include "achat/socket.h"
#include "test_client.h"

extern char** environ;

namespace achat::testing {

std::uint16_t free_port() {
  Socket probe = Socket::listen_on(Endpoint{"127.0.0.1", 0}, 1);
  return probe.local_port();
}

std::filesystem::path fresh_directory(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

NatsServer::NatsServer(std::string name, std::filesystem::path directory, std::vector<std::uint16_t> routes,
                       std::uint16_t route_port)
    : name_(std::move(name)),
      directory_(std::move(directory)),
      routes_(std::move(routes)),
      route_port_(route_port),
      client_port_(free_port()) {
  std::filesystem::create_directories(directory_);
}

NatsServer::~NatsServer() {
  if (running()) kill(SIGKILL);
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void NatsServer::start() {
  std::vector<std::string> args{"nats-server", "-a", "127.0.0.1", "-p", std::to_string(client_port_),
                                "-js", "-sd", (directory_ / "store").string(), "--server_name", name_};
  if (!routes_.empty()) {
    std::string routes;
    for (const auto port : routes_) {
      routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(port);
    }
    args.insert(args.end(), {"--cluster_name", "achat-test", "--cluster",
                             "nats://127.0.0.1:" + std::to_string(route_port_), "--routes", routes});
  }
  if (!config_.empty()) {
    const auto file = directory_ / "nats.conf";
    std::filesystem::create_directories(directory_);
    std::ofstream(file) << config_ << "\n";
    args.insert(args.end(), {"-c", file.string()});
  }
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = (directory_ / "nats.log").string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Debian installs it in /usr/sbin, which a non-root PATH may lack.
  const char* binary = ::access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "nats-server";
  const int rc = ::posix_spawnp(&pid_, binary, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start nats-server (scripts/setup.sh installs it)");
  const bool accepting = eventually([&] {
    try {
      Socket::connect_to(Endpoint{"127.0.0.1", client_port_});
      return true;
    } catch (const std::system_error&) {
      return false;
    }
  });
  if (!accepting) throw std::runtime_error("nats-server " + name_ + " did not start; see " + log);
}

void NatsServer::kill(int signal) {
  ::kill(pid_, signal);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

NatsCluster::NatsCluster() : directory_(fresh_directory("achat-nats")) {
  const std::vector<std::uint16_t> routes{free_port(), free_port(), free_port()};
  for (std::size_t i = 0; i < routes.size(); ++i) {
    const std::string name = "n" + std::to_string(i + 1);
    servers_.push_back(std::make_unique<NatsServer>(name, directory_ / name, routes, routes[i]));
  }
  for (auto& server : servers_) server->start();
}

std::string NatsCluster::urls_from(std::size_t first) const {
  std::string urls;
  for (std::size_t i = 0; i < servers_.size(); ++i) {
    urls += (i == 0 ? "" : ",") + servers_[(first + i) % servers_.size()]->url();
  }
  return urls;
}

std::string NatsCluster::bucket_holder() const {
  std::string leader;
  natsConnection* connection = nullptr;
  for (const auto& server : servers_) {
    if (server->running() && natsConnection_ConnectTo(&connection, server->url().c_str()) == NATS_OK) break;
  }
  if (!connection) return leader;
  jsCtx* js = nullptr;
  jsStreamInfo* info = nullptr;
  if (natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
      js_GetStreamInfo(&info, js, "KV_achat_logins", nullptr, nullptr) == NATS_OK && info->Cluster &&
      info->Cluster->Leader) {
    leader = info->Cluster->Leader;
  }
  jsStreamInfo_Destroy(info);
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  return leader;
}

}  // namespace achat::testing
