// ServerOptions::on_idle: called on an I/O thread after it handled requests and ran out of ready
// work, never while a handler runs. The server listens on 127.0.0.1 on a port this test chose
// below 32768 (a successful bind in this process is what proves the port is ours).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <thread>

#include "http/request.hpp"
#include "http/response.hpp"
#include "http/server.hpp"
#include "running_server.hpp"

namespace almanac::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Only guards against a hang; never what a test checks.
constexpr std::chrono::seconds kDeadline{60};

struct Counters {
  std::atomic<int> in_handler{0};
  std::atomic<int> handled{0};
  std::atomic<int> idle_calls{0};
  std::atomic<int> idle_during_handler{0};
};

// A one-thread server that counts its handler's runs and its idle calls.
class RunningServer : public testing::RunningServer {
 public:
  explicit RunningServer(Counters& counters)
      : testing::RunningServer(options(counters),
                               [&counters](Request&) -> asio::awaitable<Response> {
                                 ++counters.in_handler;
                                 ++counters.handled;
                                 Response response;
                                 response.body = "{}";
                                 --counters.in_handler;
                                 co_return response;
                               }) {}

 private:
  static ServerOptions options(Counters& counters) {
    ServerOptions options;
    options.threads = 1;
    options.on_idle = [&counters] {
      if (counters.in_handler.load() != 0) ++counters.idle_during_handler;
      ++counters.idle_calls;
    };
    return options;
  }
};

// Sends `count` requests on one keep-alive connection, reading each answer's head.
void send_requests(std::uint16_t port, int count) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  for (int i = 0; i < count; ++i) {
    const std::string request = "GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    asio::streambuf head;
    asio::read_until(socket, head, "\r\n\r\n{}");
  }
}

bool wait_for(const std::atomic<int>& value, int at_least) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (value.load() < at_least) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(ServerIdleHook, RunsAfterRequestsOnceTheThreadIsQuiet) {
  Counters counters;
  RunningServer server(counters);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(counters.idle_calls.load(), 0);  // nothing handled yet: nothing to give back
  send_requests(server.port(), 5);
  ASSERT_TRUE(wait_for(counters.idle_calls, 1));
  const int after_first_batch = counters.idle_calls.load();
  EXPECT_LE(after_first_batch, 5);  // at most one per request, never spinning on its own
  send_requests(server.port(), 3);
  ASSERT_TRUE(wait_for(counters.idle_calls, after_first_batch + 1));
  EXPECT_EQ(counters.handled.load(), 8);
  EXPECT_EQ(counters.idle_during_handler.load(), 0);
}

}  // namespace
}  // namespace almanac::http
