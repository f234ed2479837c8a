#pragma once

// For the store benchmarks: Store::write as a blocking call.
#include <chrono>
#include <exception>
#include <future>
#include <stdexcept>
#include <utility>

#include "store/store.hpp"

namespace almanac::bench {

// Runs `work` on the store's writer and waits for it: rethrows what it threw, and throws
// std::runtime_error if the writer has not answered within 5 minutes.
inline void write_or_throw(store::Store& store, store::Store::WriteWork work) {
  std::promise<std::exception_ptr> outcome;
  std::future<std::exception_ptr> future = outcome.get_future();
  store.write(std::move(work), [&outcome](std::exception_ptr error) { outcome.set_value(error); });
  if (future.wait_for(std::chrono::minutes(5)) != std::future_status::ready) {
    throw std::runtime_error("write() did not call done within 5 minutes");
  }
  if (const std::exception_ptr error = future.get()) std::rethrow_exception(error);
}

}  // namespace almanac::bench
