// The server's timeouts (ServerOptions::header_timeout, body_timeout, idle_timeout): a connection
// that stalls while a read is under way is closed once its timeout has passed, never before; a
// handler's own time is not limited by them. The checks are a lower bound on when the server
// closes (it cannot close earlier by construction) and a generous deadline against a hang: no
// test here depends on how fast the machine is. The server listens on 127.0.0.1 on a port this
// test chose below 32768 (a successful bind in this process is what proves the port is ours).
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
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
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kTimeout{1};
// Only guards against a hang; never what a test checks.
constexpr std::chrono::seconds kDeadline{60};

// A one-thread server whose three timeouts are kTimeout. Requests to /slow are answered after
// 2 x kTimeout.
class RunningServer : public testing::RunningServer {
 public:
  RunningServer()
      : testing::RunningServer(options(), [](Request& request) -> asio::awaitable<Response> {
          if (request.path() == "/slow") {
            asio::steady_timer wait(co_await asio::this_coro::executor, 2 * kTimeout);
            co_await wait.async_wait(asio::use_awaitable);
          }
          Response response;
          response.body = "{}";
          co_return response;
        }) {}

 private:
  static ServerOptions options() {
    ServerOptions options;
    options.threads = 1;
    options.header_timeout = kTimeout;
    options.body_timeout = kTimeout;
    options.idle_timeout = kTimeout;
    return options;
  }
};

// A blocking client connection with a receive timeout of kDeadline, so that no read can hang.
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(ioc_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    const timeval deadline{static_cast<time_t>(kDeadline.count()), 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // One whole response to a request, up to its "{}" body.
  std::string read_response() {
    std::string response;
    asio::read_until(socket_, asio::dynamic_buffer(response), "\r\n\r\n{}");
    return response;
  }
  // Reads until the server closes; returns what it sent meanwhile. Fails the test (through the
  // returned error) when the receive timeout ran out instead.
  std::string read_until_closed(std::error_code& error) {
    std::string received;
    char chunk[512];
    for (;;) {
      boost::system::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
      received.append(chunk, n);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return received;
      if (ec) {
        error = ec;
        return received;
      }
    }
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
};

TEST(ServerTimeouts, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  RunningServer server;
  ASSERT_TRUE(server.ok());
  Client client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_NE(client.read_response().find("200 OK"), std::string::npos);
  const auto idle_since = Clock::now();
  std::error_code error;
  const std::string more = client.read_until_closed(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(more, "");
  EXPECT_GE(Clock::now() - idle_since, kTimeout);
}

TEST(ServerTimeouts, AConnectionThatNeverSendsItsHeaderIsClosedUnanswered) {
  RunningServer server;
  ASSERT_TRUE(server.ok());
  const auto opened = Clock::now();
  Client client(server.port());
  client.send("GET / HTTP/1.1\r\nHost: te");
  std::error_code error;
  const std::string answer = client.read_until_closed(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer, "");
  EXPECT_GE(Clock::now() - opened, kTimeout);
}

TEST(ServerTimeouts, ABodyThatStopsArrivingIsClosedUnanswered) {
  RunningServer server;
  ASSERT_TRUE(server.ok());
  Client client(server.port());
  client.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n{\"a\"");
  const auto stalled_since = Clock::now();
  std::error_code error;
  const std::string answer = client.read_until_closed(error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(answer, "");
  EXPECT_GE(Clock::now() - stalled_since, kTimeout);
}

TEST(ServerTimeouts, AHandlerSlowerThanEveryTimeoutStillAnswersOnAConnectionKeptOpen) {
  RunningServer server;
  ASSERT_TRUE(server.ok());
  Client client(server.port());
  client.send("GET /slow HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_NE(client.read_response().find("200 OK"), std::string::npos);
  client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");  // the connection is still usable
  EXPECT_NE(client.read_response().find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace almanac::http
