#pragma once

// A Server for the transport's unit tests: on 127.0.0.1, on a port this test chose below 32768
// (a successful bind in this process is what proves the port is ours), run on a thread of its
// own until destroyed.
#include <cstdint>
#include <optional>
#include <random>
#include <system_error>
#include <thread>
#include <utility>

#include "http/server.hpp"

namespace almanac::http::testing {

class RunningServer {
 public:
  // `options`' port is replaced by the one chosen; ok() is false if no port could be bound.
  RunningServer(ServerOptions options, const App& app) {
    std::mt19937 generator{std::random_device{}()};
    std::uniform_int_distribution<int> ports(20000, 32767);
    for (int attempt = 0; attempt < 50 && !server_; ++attempt) {
      port_ = static_cast<std::uint16_t>(ports(generator));
      options.port = port_;
      server_.emplace(options, app);
      try {
        server_->listen();
      } catch (const std::system_error&) {
        server_.reset();  // taken by someone else: try another port
      }
    }
    if (server_) thread_ = std::thread([this] { server_->run(false); });
  }
  ~RunningServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  bool ok() const { return server_.has_value(); }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_ = 0;
  std::optional<Server> server_;
  std::thread thread_;
};

}  // namespace almanac::http::testing
