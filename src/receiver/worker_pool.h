// WorkerPool: a fixed number of threads running submitted tasks from a bounded queue,
// so that blocking work (store writes) never runs on HTTP I/O threads and overload is
// answered at once instead of queued without bound.
//
// TrySubmit returns false when `capacity` tasks are already waiting (the caller
// answers 503). Shutdown() runs every task already queued, then joins the threads;
// TrySubmit after Shutdown returns false. Safe for concurrent use; tasks must not
// throw.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace furrow::receiver {

class WorkerPool {
 public:
  // threads >= 1, capacity >= 1 (smaller values are raised to 1).
  WorkerPool(int threads, size_t capacity);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] bool TrySubmit(std::function<void()> task);
  void Shutdown();
  size_t queued() const;

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  size_t capacity_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace furrow::receiver
