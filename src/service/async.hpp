#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "domain/error.hpp"
#include "store/store.hpp"
#include "util/worker_pool.hpp"

// Bridges from the I/O threads' coroutines to work done on other threads (the store's writer,
// its readers, the password-hashing pool): the coroutine suspends, the work runs there, and the
// coroutine resumes on its own thread with the result or the exception.
//
// g++ 12 mishandles temporaries with destructors inside a co_await expression (it may destroy a
// lambda's captures twice). Callers therefore build the work as a named local first:
//   std::function<User(store::StoreWriter&)> work = [...](...) {...};
//   User user = co_await write(store, std::move(work));
// and these functions are plain functions, not coroutines, so no frame holds their parameters.
namespace almanac::service {

namespace detail {

template <typename T>
struct SignatureOf {
  using type = void(std::exception_ptr, T);
};
template <>
struct SignatureOf<void> {
  using type = void(std::exception_ptr);
};
template <typename T>
using Signature = typename SignatureOf<T>::type;

// Wraps an asio completion handler so that it can be completed from any thread: it is invoked
// on its own executor, which is kept busy (tracked work) until then.
template <typename T, typename Handler>
class Completion {
 public:
  explicit Completion(Handler handler)
      : executor_(boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                      boost::asio::execution::outstanding_work.tracked)),
        handler_(std::make_shared<Handler>(std::move(handler))) {}

  // Takes `error` over: the completing thread keeps no reference to it (see
  // SqliteStore::run_group).
  void fail(std::exception_ptr error) const {
    if constexpr (std::is_void_v<T>) {
      post([error = std::move(error)](Handler& h) { std::move(h)(error); });
    } else {
      post([error = std::move(error)](Handler& h) { std::move(h)(error, T{}); });
    }
  }

  template <typename... Value>
  void succeed(Value&&... value) const {
    if constexpr (std::is_void_v<T>) {
      post([](Handler& h) { std::move(h)(std::exception_ptr()); });
    } else {
      post([v = T(std::forward<Value>(value)...)](Handler& h) mutable {
        std::move(h)(std::exception_ptr(), std::move(v));
      });
    }
  }

 private:
  template <typename F>
  void post(F f) const {
    boost::asio::post(executor_, [handler = handler_, f = std::move(f)]() mutable { f(*handler); });
  }

  decltype(boost::asio::prefer(std::declval<boost::asio::associated_executor_t<Handler>>(),
                               boost::asio::execution::outstanding_work.tracked)) executor_;
  std::shared_ptr<Handler> handler_;
};

}  // namespace detail

// Runs `work` in a write transaction (see Store::write) and returns its result once the commit
// holding it is durable. Raises what `work` raised, or the commit's failure.
template <typename T>
boost::asio::awaitable<T> write(store::Store& store, std::function<T(store::StoreWriter&)> work) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, detail::Signature<T>>(
      [&store](auto handler, std::function<T(store::StoreWriter&)> work) {
        const detail::Completion<T, decltype(handler)> completion(std::move(handler));
        auto result = std::make_shared<std::conditional_t<std::is_void_v<T>, bool, T>>();
        store.write(
            [result, work = std::move(work)](store::StoreWriter& writer) {
              if constexpr (std::is_void_v<T>) {
                work(writer);
              } else {
                *result = work(writer);
              }
            },
            [result, completion](std::exception_ptr error) {
              if (error) {
                completion.fail(std::move(error));
              } else if constexpr (std::is_void_v<T>) {
                completion.succeed();
              } else {
                completion.succeed(std::move(*result));
              }
            });
      },
      boost::asio::use_awaitable, std::move(work));
}

// Runs `work` in a read transaction and raises what it raised. A store whose reads run on the
// calling thread (SQLite: a connection per I/O thread, a point read in microseconds) runs it
// here; otherwise it runs on the store's reader threads (Store::read_async) while the coroutine
// waits. `work` may write into the caller's locals: they outlive it, as the caller waits.
inline boost::asio::awaitable<void> read(store::Store& store,
                                         std::function<void(store::StoreReader&)> work) {
  if (!store.reads_off_thread()) {
    store.read(work);
    co_return;
  }
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                       void(std::exception_ptr)>(
      // NOLINTNEXTLINE(performance-unnecessary-value-param): moved into read_async below
      [&store](auto handler, std::function<void(store::StoreReader&)> work) {
        const detail::Completion<void, decltype(handler)> completion(std::move(handler));
        store.read_async(std::move(work), [completion](std::exception_ptr error) {
          if (error) {
            completion.fail(std::move(error));
          } else {
            completion.succeed();
          }
        });
      },
      boost::asio::use_awaitable, std::move(work));
}

// Runs `job` on `pool` and returns its result. When the pool's queue is full it raises
// Error{kUnavailable} with a Retry-After, so that a burst cannot pile up memory. The result is
// handed back in the pool's `then` step: with a lowered pool, at normal priority (posting takes
// the io_context's lock, which a preempted low-priority thread must never hold).
template <typename T>
boost::asio::awaitable<T> offload(util::WorkerPool& pool, std::function<T()> job) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, detail::Signature<T>>(
      [&pool](auto handler, std::function<T()> job) {
        const detail::Completion<T, decltype(handler)> completion(std::move(handler));
        struct Outcome {
          std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
          std::exception_ptr error;
        };
        auto outcome = std::make_shared<Outcome>();
        const bool queued = pool.try_submit(
            [outcome, job = std::move(job)]() {
              try {
                if constexpr (std::is_void_v<T>) {
                  job();
                } else {
                  outcome->value.emplace(job());
                }
              } catch (...) {
                outcome->error = std::current_exception();
              }
            },
            [outcome, completion]() {
              if (outcome->error) {
                completion.fail(std::move(outcome->error));
              } else if constexpr (std::is_void_v<T>) {
                completion.succeed();
              } else {
                completion.succeed(std::move(*outcome->value));
              }
            });
        if (!queued) {
          domain::Error busy(domain::ErrorCode::kUnavailable,
                             "The server is busy; try again shortly.", "busy");
          busy.retry_after = 1;
          completion.fail(std::make_exception_ptr(busy));
        }
      },
      boost::asio::use_awaitable, std::move(job));
}

}  // namespace almanac::service
