// A TCP proxy that adds a fixed delay to every byte in each direction, to measure the server
// with its database one network hop away (bench/run.py --pg-rtt-ms). The box has no netem (no
// qdiscs in its kernel), and a global delay on loopback would slow everything else on it.
//
//   latency_proxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT ONE_WAY_DELAY_US
//
// Listens on 127.0.0.1:LISTEN_PORT; each accepted connection gets its own connection to the
// upstream. What one side sends is handed to the other ONE_WAY_DELAY_US microseconds after it
// was read (so a request/response exchange takes 2 x the delay more: the round-trip time added),
// in order, with TCP_NODELAY on both sides. One thread, epoll and timerfd (Asio): a few
// microseconds of CPU per chunk forwarded. Prints "ready" on stdout once listening; runs until
// killed (SIGTERM/SIGINT end it cleanly). A wake-up can still come late when the box is busy:
// measure what it adds (docs/scaling.md says how it was checked).
#include <sys/prctl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct Chunk {
  Clock::time_point due;
  std::vector<char> bytes;
};

// One direction of one connection: the reader queues what it reads, stamped with its due time;
// the writer sends each chunk when it is due.
struct Direction {
  explicit Direction(asio::any_io_executor executor) : wake(executor) {}
  std::deque<Chunk> queue;
  asio::steady_timer wake;
  bool closed = false;
};

struct Link : std::enable_shared_from_this<Link> {
  Link(tcp::socket client_socket, tcp::socket upstream_socket)
      : client(std::move(client_socket)),
        upstream(std::move(upstream_socket)),
        up(client.get_executor()),
        down(client.get_executor()) {}
  tcp::socket client;
  tcp::socket upstream;
  Direction up;    // client -> upstream
  Direction down;  // upstream -> client

  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    upstream.close(ignored);
    up.closed = down.closed = true;
    up.wake.cancel();
    down.wake.cancel();
  }
};

asio::awaitable<void> read_side(std::shared_ptr<Link> link, tcp::socket& from, Direction& dir,
                                Clock::duration delay) {
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto [error, n] = co_await from.async_read_some(asio::buffer(buffer), kUseTuple);
    if (error) break;
    const bool was_empty = dir.queue.empty();
    dir.queue.push_back(
        Chunk{Clock::now() + delay, std::vector<char>(buffer.begin(), buffer.begin() + n)});
    if (was_empty) dir.wake.cancel();  // the writer sleeps until told
  }
  link->close();
}

asio::awaitable<void> write_side(std::shared_ptr<Link> link, tcp::socket& to, Direction& dir) {
  while (!dir.closed) {
    if (dir.queue.empty()) {
      dir.wake.expires_at(Clock::time_point::max());
      co_await dir.wake.async_wait(kUseTuple);
      continue;
    }
    if (dir.queue.front().due > Clock::now()) {
      dir.wake.expires_at(dir.queue.front().due);
      co_await dir.wake.async_wait(kUseTuple);
      continue;
    }
    // Everything due now goes out in one write.
    std::vector<char> out = std::move(dir.queue.front().bytes);
    dir.queue.pop_front();
    const Clock::time_point now = Clock::now();
    while (!dir.queue.empty() && dir.queue.front().due <= now) {
      out.insert(out.end(), dir.queue.front().bytes.begin(), dir.queue.front().bytes.end());
      dir.queue.pop_front();
    }
    auto [error, n] = co_await asio::async_write(to, asio::buffer(out), kUseTuple);
    if (error) break;
  }
  link->close();
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, tcp::endpoint upstream_endpoint,
                                  Clock::duration delay) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto [error, client] = co_await acceptor.async_accept(kUseTuple);
    if (error) co_return;
    tcp::socket upstream(executor);
    auto [connect_error] = co_await upstream.async_connect(upstream_endpoint, kUseTuple);
    if (connect_error) continue;  // the client sees its connection closed
    client.set_option(tcp::no_delay(true));
    upstream.set_option(tcp::no_delay(true));
    auto link = std::make_shared<Link>(std::move(client), std::move(upstream));
    asio::co_spawn(executor, read_side(link, link->client, link->up, delay), asio::detached);
    asio::co_spawn(executor, read_side(link, link->upstream, link->down, delay), asio::detached);
    asio::co_spawn(executor, write_side(link, link->upstream, link->up), asio::detached);
    asio::co_spawn(executor, write_side(link, link->client, link->down), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: latency_proxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT ONE_WAY_DELAY_US\n";
    return 2;
  }
  const auto listen_port = static_cast<unsigned short>(std::atoi(argv[1]));
  const std::string upstream_host = argv[2];
  const auto upstream_port = static_cast<unsigned short>(std::atoi(argv[3]));
  const auto delay = std::chrono::microseconds(std::atoll(argv[4]));
  // Linux wakes a sleeping thread up to 50 us late by default (timer slack): ask for 1 ns, so
  // that the delay added is the one asked for, not 0.1 ms more per round trip.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  try {
    asio::io_context io(1);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), listen_port));
    const tcp::endpoint upstream(asio::ip::make_address(upstream_host), upstream_port);
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](auto, int) { io.stop(); });
    asio::co_spawn(io, accept_loop(acceptor, upstream, delay), asio::detached);
    std::cout << "ready" << std::endl;
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "latency_proxy: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
