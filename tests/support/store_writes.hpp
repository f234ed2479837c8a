#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "store/store.hpp"

// Waiting for the outcome of Store::write() in tests: the writer calls `done` on its own thread,
// so a test parks on a future that `done` fulfils. No sleeps and no timing: the only clock is a
// guard against a lost `done`.
namespace almanac::test_support {

// Only a guard against a hang (a lost `done`), never part of what a test checks: an outcome that
// takes this long is a failure whatever it turns out to be.
inline constexpr std::chrono::seconds kWriteHangGuard{120};

// Queues `work` and returns the future outcome that its `done` delivers (nullptr on success).
inline std::future<std::exception_ptr> queue_write(store::Store& store,
                                                   store::Store::WriteWork work) {
  // Shared, so that an abandoned future (after the hang guard fired) leaves nothing dangling.
  auto outcome = std::make_shared<std::promise<std::exception_ptr>>();
  std::future<std::exception_ptr> future = outcome->get_future();
  store.write(std::move(work), [outcome](std::exception_ptr error) { outcome->set_value(error); });
  return future;
}

// Waits for an outcome of queue_write(). A lost `done` is a test failure and an error outcome.
inline std::exception_ptr await_write(std::future<std::exception_ptr>& future) {
  if (future.wait_for(kWriteHangGuard) != std::future_status::ready) {
    ADD_FAILURE() << "write() never called done";
    return std::make_exception_ptr(std::runtime_error("done was never called"));
  }
  return future.get();
}

// Queues `work`, waits for its outcome and returns it.
inline std::exception_ptr write_and_wait(store::Store& store, store::Store::WriteWork work) {
  std::future<std::exception_ptr> future = queue_write(store, std::move(work));
  return await_write(future);
}

// Queues `work`, waits for it and rethrows its failure: for set-up steps that must succeed.
inline void write_or_throw(store::Store& store, store::Store::WriteWork work) {
  if (const std::exception_ptr error = write_and_wait(store, std::move(work))) {
    std::rethrow_exception(error);
  }
}

// A readable account of an outcome for failure messages.
inline std::string describe_outcome(const std::exception_ptr& error) {
  if (!error) return "success";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace almanac::test_support
