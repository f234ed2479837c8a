#include "http/server.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <condition_variable>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "domain/error.hpp"
#include "http/error_response.hpp"
#include "util/log.hpp"

namespace almanac::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using domain::Error;
using domain::ErrorCode;
using util::field;
using util::LogLevel;

namespace {

using Clock = std::chrono::steady_clock;

// A connection as the shutdown and the timeout sweep see it: idle connections (waiting for the
// next request) are closed at once on shutdown, busy ones finish their request first.
struct ConnectionState {
  tcp::socket* socket;
  bool idle = false;
  // When the read or write under way must have finished; Clock::time_point::max() while none is
  // (the handler's own time is not limited here).
  Clock::time_point deadline = Clock::time_point::max();
};

// How often a worker looks for connections past their deadline. A timeout fires this much late
// at most, never early.
constexpr std::chrono::milliseconds kSweepInterval{250};

struct Worker {
  // Declared before the io_context so that they outlive the coroutine frames the io_context
  // destroys, whose clean-up unregisters from them. `closing`: the destructor has begun, and
  // sweep_timer (declared after the io_context, destroyed before it) is gone or going.
  std::list<ConnectionState*> connections;
  bool closing = false;
  asio::io_context ioc{1};
  std::thread thread;
  asio::steady_timer sweep_timer{ioc};  // cancelled when the last connection ends
  bool sweeping = false;  // a sweep() coroutine runs; it ends when the last connection does

  Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { closing = true; }
};

// Timeouts: one periodic sweep per worker, running only while the worker has connections, cancels
// the pending operation of each connection past its deadline (the session then ends). Setting a
// deadline is a store to a field. Beast's tcp_stream had a timer per operation instead: arming,
// cancelling and the timer queue's lock were ~4% of a point read's CPU time (profiled).
asio::awaitable<void> sweep(Worker& worker) {
  while (!worker.connections.empty()) {
    worker.sweep_timer.expires_after(kSweepInterval);
    beast::error_code ec;
    co_await worker.sweep_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    const Clock::time_point now = Clock::now();
    for (ConnectionState* connection : worker.connections) {
      if (connection->deadline > now) continue;
      connection->deadline = Clock::time_point::max();
      connection->socket->cancel(ec);  // the pending read or write ends with operation_aborted
    }
  }
  worker.sweeping = false;
}

void expires_after(ConnectionState& connection, std::chrono::seconds timeout) {
  connection.deadline = Clock::now() + timeout;
}
void no_deadline(ConnectionState& connection) { connection.deadline = Clock::time_point::max(); }

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t bits = generator();
  std::string id(16, '0');
  for (char& c : id) {
    c = kHex[bits & 0xf];
    bits >>= 4;
  }
  return id;
}

// The Date header, formatted once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buffer;
    cached_second = now;
  }
  return cached;
}

// Whether a response with this status never carries a body nor its length (RFC 9110 8.6).
bool is_bodiless(Status status) {
  const auto code = static_cast<unsigned>(status);
  return code / 100 == 1 || code == 204 || code == 304;
}

// The status line and header fields of `response`, ending with the empty line: Date,
// Content-Type (when set), X-Request-Id, the handler's headers, Content-Length (unless the status
// has no body) and the Connection field that HTTP/1.0 and HTTP/1.1 need to say `keep_alive`.
std::string response_head(const Response& response, unsigned version, bool keep_alive,
                          const std::string& request_id) {
  std::string head;
  head.reserve(256);
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(static_cast<unsigned>(response.status));
  head += ' ';
  head += bhttp::obsolete_reason(response.status);
  head += "\r\nDate: ";
  head += http_date();
  if (!response.content_type.empty()) {
    head += "\r\nContent-Type: ";
    head += response.content_type;
  }
  head += "\r\nX-Request-Id: ";
  head += request_id;
  for (const auto& [name, value] : response.headers) {
    head += "\r\n";
    head += name;
    head += ": ";
    head += value;
  }
  if (!is_bodiless(response.status)) {
    head += "\r\nContent-Length: ";
    head += std::to_string(response.body.size());
  }
  if (version == 10 && keep_alive) head += "\r\nConnection: keep-alive";
  if (version != 10 && !keep_alive) head += "\r\nConnection: close";
  head += "\r\n\r\n";
  return head;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The client went away, or was too slow: there is nobody to answer.
bool is_disconnect(const beast::error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
}

Error payload_too_large() {
  return Error(ErrorCode::kPayloadTooLarge, "The request body is too large.", "payload_too_large");
}

// The size of the header block as sent: request line, fields, and their line endings.
std::size_t header_size(const bhttp::request_parser<bhttp::string_body>::value_type& header) {
  std::size_t size = header.method_string().size() + header.target().size() + 12;
  for (const auto& f : header) size += f.name_string().size() + f.value().size() + 4;
  return size + 2;
}

// Request framing we refuse: any Transfer-Encoding other than a single "chunked", and
// Content-Length together with Transfer-Encoding. Beast 1.81 accepts `Transfer-Encoding: gzip` as
// a request without a body, which would let a second request hide inside the first.
bool has_ambiguous_framing(const bhttp::request_parser<bhttp::string_body>::value_type& header) {
  std::size_t te_count = 0;
  std::size_t cl_count = 0;
  bool te_is_chunked = false;
  for (const auto& f : header) {
    if (f.name() == bhttp::field::transfer_encoding) {
      ++te_count;
      te_is_chunked = iequals(trim(f.value()), "chunked");
    } else if (f.name() == bhttp::field::content_length) {
      ++cl_count;
    }
  }
  if (cl_count > 1) return true;
  if (te_count == 0) return false;
  return te_count > 1 || !te_is_chunked || cl_count > 0;
}

// Per I/O thread: requests handled so far, and whether an idle check is queued. The check is
// posted behind the ready work; when it runs and no request was handled since it was posted, the
// thread has gone quiet. Under load one check per thread circulates, re-posted each round.
struct IdleWatch {
  std::uint64_t handled = 0;
  bool queued = false;
};
thread_local IdleWatch t_idle_watch;

void post_idle_check(asio::io_context& ioc, const std::function<void()>& on_idle) {
  asio::post(ioc, [&ioc, &on_idle, mark = t_idle_watch.handled] {
    if (t_idle_watch.handled != mark) {
      post_idle_check(ioc, on_idle);
      return;
    }
    t_idle_watch.queued = false;
    on_idle();
  });
}

void request_handled(asio::io_context& ioc, const std::function<void()>& on_idle) {
  ++t_idle_watch.handled;
  if (!on_idle || t_idle_watch.queued) return;
  t_idle_watch.queued = true;
  post_idle_check(ioc, on_idle);
}

}  // namespace

asio::awaitable<Response> respond(const App& app, Request& request) {
  try {
    co_return co_await app(request);
  } catch (const Error& error) {
    if (error.code() == ErrorCode::kInternal) {
      util::log(LogLevel::kError, "internal error",
                {field("request_id", request.request_id()), field("error", error.message())});
    }
    co_return error_response(error);
  } catch (const std::exception& e) {
    util::log(LogLevel::kError, "unhandled exception",
              {field("request_id", request.request_id()), field("route", request.route()),
               field("error", e.what())});
  } catch (...) {
    util::log(LogLevel::kError, "unhandled exception of unknown type",
              {field("request_id", request.request_id())});
  }
  co_return internal_error_response();
}

struct Server::Impl {
  ServerOptions options;
  App app;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::size_t next_worker = 0;

  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stop_requested = false;
  unsigned running_threads = 0;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket, Worker& worker);
  asio::awaitable<void> write(ConnectionState& connection, Response& response, unsigned version,
                              bool keep_alive, const std::string& request_id,
                              beast::error_code& ec);
  asio::awaitable<void> refuse(ConnectionState& connection, const Error& error);
  asio::awaitable<void> lingering_close(ConnectionState& connection);
};

Server::Server(ServerOptions options, App app) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->app = std::move(app);
  const unsigned threads = std::max(1U, impl_->options.threads);
  for (unsigned i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

Server::~Server() = default;

void Server::listen() {
  asio::ip::address address;
  const std::string host = impl_->options.host == "localhost" ? "127.0.0.1" : impl_->options.host;
  beast::error_code ec;
  address = asio::ip::make_address(host, ec);
  if (ec) {
    throw std::system_error(ec,
                            "cannot listen on '" + impl_->options.host + "': not an IP address");
  }
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor.emplace(impl_->workers[0]->ioc);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

std::uint16_t Server::port() const { return impl_->acceptor->local_endpoint().port(); }

void Server::stop() {
  const std::lock_guard lock(impl_->stop_mutex);
  impl_->stop_requested = true;
  impl_->stop_cv.notify_all();
}

void Server::run(bool handle_signals) {
  Impl& impl = *impl_;
  Worker& first = *impl.workers[0];
  if (handle_signals) {
    impl.signals.emplace(first.ioc, SIGINT, SIGTERM);
    impl.signals->async_wait([this](const beast::error_code& ec, int signal) {
      if (ec) return;
      util::log(LogLevel::kInfo, "signal received, stopping", {field("signal", signal)});
      stop();
    });
  }
  asio::co_spawn(first.ioc, impl.accept_loop(), asio::detached);

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& worker : impl.workers) guards.push_back(asio::make_work_guard(worker->ioc));
  impl.running_threads = static_cast<unsigned>(impl.workers.size());
  for (auto& worker : impl.workers) {
    worker->thread = std::thread([&impl, &ioc = worker->ioc] {
      for (;;) {
        try {
          ioc.run();
          break;
        } catch (const std::exception& e) {
          // Handlers catch their own errors; anything reaching here is a bug worth a log line,
          // not a dead server.
          util::log(LogLevel::kError, "uncaught exception in I/O thread",
                    {field("error", e.what())});
        }
      }
      const std::lock_guard lock(impl.stop_mutex);
      --impl.running_threads;
      impl.stop_cv.notify_all();
    });
  }

  {
    std::unique_lock lock(impl.stop_mutex);
    impl.stop_cv.wait(lock, [&] { return impl.stop_requested; });
  }

  // Graceful stop: no new connections, idle ones closed now, busy ones after their response.
  impl.stopping = true;
  asio::post(first.ioc, [&impl] {
    beast::error_code ignored;
    if (impl.acceptor) impl.acceptor->close(ignored);
    if (impl.signals) impl.signals->cancel(ignored);
  });
  for (auto& worker : impl.workers) {
    asio::post(worker->ioc, [&w = *worker] {
      for (ConnectionState* connection : w.connections) {
        beast::error_code ignored;
        if (connection->idle) connection->socket->cancel(ignored);
      }
    });
  }
  guards.clear();
  {
    std::unique_lock lock(impl.stop_mutex);
    const bool drained = impl.stop_cv.wait_for(lock, impl.options.shutdown_grace,
                                               [&] { return impl.running_threads == 0; });
    if (!drained) {
      util::log(LogLevel::kWarn, "shutdown grace period over, closing remaining connections");
      for (auto& worker : impl.workers) worker->ioc.stop();
    }
  }
  for (auto& worker : impl.workers) worker->thread.join();
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    Worker& worker = *workers[next_worker++ % workers.size()];
    beast::error_code ec;
    tcp::socket socket =
        co_await acceptor->async_accept(worker.ioc, asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: say so and breathe rather than spin.
      util::log(LogLevel::kWarn, "accept failed", {field("error", ec.message())});
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(worker.ioc, session(std::move(socket), worker), asio::detached);
  }
}

asio::awaitable<void> Server::Impl::write(ConnectionState& connection, Response& response,
                                          unsigned version, bool keep_alive,
                                          const std::string& request_id, beast::error_code& ec) {
  // The head is written by hand into one string and sent with the body in one gather write: the
  // same bytes Beast's serializer produces, at a fraction of its cost per response (profiled).
  std::string head = response_head(response, version, keep_alive, request_id);
  const std::string_view body =
      is_bodiless(response.status) ? std::string_view() : std::string_view(response.body);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(body)};
  expires_after(connection, options.body_timeout);
  co_await asio::async_write(*connection.socket, buffers,
                             asio::redirect_error(asio::use_awaitable, ec));
  no_deadline(connection);
}

// Answers a request we will not read (limits, framing) and closes the connection.
asio::awaitable<void> Server::Impl::refuse(ConnectionState& connection, const Error& error) {
  beast::error_code ec;
  const auto started = std::chrono::steady_clock::now();
  if (options.observer != nullptr) options.observer->request_started();
  Response response = error_response(error);
  const std::string request_id = new_request_id();
  co_await write(connection, response, 11, false, request_id, ec);
  if (options.observer != nullptr) {
    options.observer->request_finished({}, static_cast<int>(response.status),
                                       std::chrono::steady_clock::now() - started);
  }
  util::log(LogLevel::kInfo, "request refused",
            {field("status", static_cast<int>(status_of(error.code()))),
             field("reason", error.message())});
  if (!ec) co_await lingering_close(connection);
}

// After refusing a request whose body is still arriving, closing at once could make the kernel
// reset the connection and destroy our response before the client reads it. Send FIN, then read
// and discard for a short, bounded while (nginx's lingering close).
asio::awaitable<void> Server::Impl::lingering_close(ConnectionState& connection) {
  beast::error_code ec;
  tcp::socket& socket = *connection.socket;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 16384> sink;
  std::size_t discarded = 0;
  expires_after(connection, std::chrono::seconds(1));
  while (!ec && discarded < (4U << 20)) {
    discarded += co_await socket.async_read_some(asio::buffer(sink),
                                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  no_deadline(connection);
}

asio::awaitable<void> Server::Impl::session(tcp::socket socket, Worker& worker) {
  beast::error_code ec;
  const auto remote_endpoint = socket.remote_endpoint(ec);
  const std::string remote = ec ? std::string() : remote_endpoint.address().to_string();

  ConnectionState state{&socket};
  const auto registration = worker.connections.insert(worker.connections.end(), &state);
  struct Unregister {
    Worker& worker;
    std::list<ConnectionState*>::iterator it;
    ~Unregister() {
      worker.connections.erase(it);
      // Lets the sweep end now rather than at its next tick.
      if (worker.connections.empty() && !worker.closing) worker.sweep_timer.cancel();
    }
  } unregister{worker, registration};
  if (!worker.sweeping) {
    worker.sweeping = true;
    asio::co_spawn(worker.ioc, sweep(worker), asio::detached);
  }

  beast::flat_buffer buffer;
  bool first = true;
  while (!stopping) {
    if (buffer.size() == 0) {
      // Waiting for the next request: the idle timeout, or the header timeout for the first one.
      state.idle = true;
      expires_after(state, first ? options.header_timeout : options.idle_timeout);
      const std::size_t n = co_await socket.async_read_some(
          buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      state.idle = false;
      if (ec) break;
      buffer.commit(n);
    }
    first = false;

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    expires_after(state, options.header_timeout);
    co_await bhttp::async_read_header(socket, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    no_deadline(state);
    if (ec == bhttp::error::header_limit) {
      // The parser had not finished the request line: it is the URL that is too long.
      const bool in_request_line = parser.get().target().empty();
      const Error refusal =
          in_request_line
              ? Error(ErrorCode::kUriTooLong, "The request URL is too long.")
              : Error(ErrorCode::kHeadersTooLarge, "The request header fields are too large.");
      co_await refuse(state, refusal);
      break;
    }
    if (ec == bhttp::error::body_limit) {
      // Content-Length above the limit: Beast says so with the header, before a byte of the body
      // is read.
      const Error refusal = payload_too_large();
      co_await refuse(state, refusal);
      break;
    }
    if (is_disconnect(ec)) break;
    if (ec) {
      {
        const Error refusal(ErrorCode::kInvalidArgument, "Malformed HTTP request.", "bad_request");
        co_await refuse(state, refusal);
      }
      break;
    }
    if (header_size(parser.get()) > options.max_header_bytes) {
      // Beast applies its limit to the request line and the fields separately and per read, so
      // a header block can pass it by up to a factor of two; this is the exact check.
      const Error refusal(ErrorCode::kHeadersTooLarge, "The request header fields are too large.");
      co_await refuse(state, refusal);
      break;
    }
    if (has_ambiguous_framing(parser.get())) {
      {
        const Error refusal(ErrorCode::kInvalidArgument,
                            "Unsupported Transfer-Encoding or ambiguous message length.",
                            "bad_request");
        co_await refuse(state, refusal);
      }
      break;
    }
    if (!parser.is_done()) {
      if (iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        expires_after(state, options.body_timeout);
        co_await asio::async_write(socket, asio::buffer(kContinue),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      expires_after(state, options.body_timeout);
      co_await bhttp::async_read(socket, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      no_deadline(state);
      if (ec == bhttp::error::body_limit) {  // a chunked body grew past the limit
        const Error refusal = payload_too_large();
        co_await refuse(state, refusal);
        break;
      }
      if (is_disconnect(ec)) break;
      if (ec) {
        {
          const Error refusal(ErrorCode::kInvalidArgument, "Malformed HTTP request body.",
                              "bad_request");
          co_await refuse(state, refusal);
        }
        break;
      }
    }

    const auto started = std::chrono::steady_clock::now();
    const std::string_view client_id = parser.get()["X-Request-Id"];
    std::string request_id =
        is_sane_request_id(client_id) ? std::string(client_id) : new_request_id();
    const unsigned version = parser.get().version();
    const bool keep_alive = parser.get().keep_alive();
    Request request(parser.release(), std::move(request_id), remote);
    if (options.observer != nullptr) options.observer->request_started();

    Response response = co_await respond(app, request);
    request_handled(worker.ioc, options.on_idle);
    const int status = static_cast<int>(response.status);
    const bool keep_open = keep_alive && !stopping;
    co_await write(state, response, version, keep_open, request.request_id(), ec);
    if (options.on_request_done) options.on_request_done();

    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (options.observer != nullptr) {
      options.observer->request_finished(request.route(), status, elapsed);
    }
    if (util::log_enabled(LogLevel::kInfo)) {
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
      util::log(
          LogLevel::kInfo, "request",
          {field("method", request.method_string()),
           field("route",
                 request.route().empty() ? std::string_view("unmatched") : request.route()),
           field("status", status), field("duration_ms", static_cast<double>(micros) / 1000.0),
           field("user_id", request.has_user() ? request.user().id : 0),
           field("request_id", request.request_id()), field("remote", remote)});
    }
    if (ec || !keep_open) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace almanac::http
