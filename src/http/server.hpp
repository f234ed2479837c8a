#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"
#include "http/response.hpp"

namespace almanac::http {

// What the server reports about each request, for metrics. Called on the I/O threads for every
// request: implementations must be cheap (no lock per call) and must not throw.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  // A request was read (or is being refused) and is now in flight.
  virtual void request_started() noexcept = 0;
  // Its response was written (or the client went away). `route`: the matched route template,
  // empty when no route matched (404, 405, requests refused before routing).
  virtual void request_finished(std::string_view route, int status,
                                std::chrono::nanoseconds duration) noexcept = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  // 0: any free port (tests read port())
  unsigned threads = 1;
  std::size_t max_header_bytes = std::size_t{8} * 1024;
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{30};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds shutdown_grace{30};
  RequestObserver* observer = nullptr;  // null: no metrics; not owned
  // Called on an I/O thread once it has handled a request and then run out of ready work (no
  // other request finished on that thread in the meantime): the moment to give back what the
  // thread's reads keep between requests (store::Store::on_thread_idle). Never called while a
  // handler runs on that thread. Empty: not called.
  std::function<void()> on_idle;
  // Called on the I/O thread after each request's response was written (store::Store::
  // on_request_done). Empty: not called.
  std::function<void()> on_request_done;
};

// Everything above the transport: routing, authentication, handlers. Exceptions it throws are
// rendered by error_response() (domain::Error) or logged and answered 500 (anything else).
using App = std::function<boost::asio::awaitable<Response>(Request&)>;

// Runs `app` on a parsed request and renders whatever it throws: a domain::Error through
// error_response() (internal ones logged), anything else logged and answered 500. Never throws.
// What the server does with each request it has read; the fuzz targets call it without a socket.
boost::asio::awaitable<Response> respond(const App& app, Request& request);

// The HTTP/1.1 server: one io_context per thread, so each connection's coroutine only ever runs
// on the thread that owns it and needs no strand. One acceptor hands connections out round-robin.
class Server {
 public:
  Server(ServerOptions options, App app);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Throws std::system_error when the address cannot be bound.
  void listen();
  // The bound port (after listen()).
  std::uint16_t port() const;

  // Serves until stop() is called or, when `handle_signals`, SIGINT/SIGTERM arrives. Then stops
  // accepting, lets in-flight requests finish (closing idle keep-alive connections at once), and
  // returns when every connection is closed or the shutdown grace period has passed.
  void run(bool handle_signals);

  // Starts the graceful stop from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace almanac::http
