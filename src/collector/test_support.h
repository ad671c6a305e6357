// Test doubles for the collector's unit tests and fuzz entry point (not linked into
// the furrow binary): an in-memory Producer, a Responder that captures the answer,
// and a deterministic RandomSource.
//
// FakeProducer is safe for concurrent use; in its default mode every Append completes
// synchronously with OK. With hold_callbacks(true) callbacks wait until Release().
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/random_source.h"
#include "net/http_server.h"
#include "stream/stream.h"

namespace furrow::collector::testing {

class FakeProducer final : public stream::Producer {
 public:
  explicit FakeProducer(size_t max_record_bytes = 1000000) : max_record_bytes_(max_record_bytes) {}

  void Append(std::string payload, stream::AppendCallback done) override;
  Status AppendSync(std::string payload) override;
  size_t max_record_bytes() const override { return max_record_bytes_; }
  bool Writable() const override { return writable_; }
  Status Flush() override;
  // The number of records stored (released) so far.
  Result<uint64_t> EndOffset() override;

  // Every later append is refused with `status` (OK restores normal operation).
  void FailWith(Status status);
  void set_writable(bool writable) { writable_ = writable; }
  // While held, callbacks are queued; Release() runs them.
  void HoldCallbacks(bool hold);
  void Release();

  std::vector<std::string> records() const;

 private:
  const size_t max_record_bytes_;
  std::atomic<bool> writable_{true};
  mutable std::mutex mu_;
  Status fail_with_;                                            // guarded by mu_
  bool hold_ = false;                                           // guarded by mu_
  std::vector<std::pair<std::string, stream::AppendCallback>> held_;  // guarded by mu_
  std::vector<std::string> records_;                            // guarded by mu_
};

class CapturingResponder final : public net::Responder {
 public:
  void Send(net::HttpResponse response) override;
  bool sent() const;
  int sends() const;
  net::HttpResponse response() const;
  // All values of header `name` (case-sensitive as the collector writes them).
  std::vector<std::string> HeaderValues(const std::string& name) const;
  std::optional<std::string> Header(const std::string& name) const;

 private:
  mutable std::mutex mu_;
  int sends_ = 0;                 // guarded by mu_
  net::HttpResponse response_;    // guarded by mu_
};

// Bytes 0, 1, 2, ... wrapping at 256, continuing across calls.
class CountingRandomSource final : public RandomSource {
 public:
  void Fill(uint8_t* out, size_t n) override;

 private:
  std::atomic<uint32_t> next_{0};
};

}  // namespace furrow::collector::testing
