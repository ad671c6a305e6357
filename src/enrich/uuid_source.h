// UuidSource: where enrich gets event ids for events that arrive without `eid`.
// Injected so that tests are deterministic. Implementations are safe for
// concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace furrow::enrich {

class UuidSource {
 public:
  virtual ~UuidSource() = default;
  // A random (version 4, variant 1) UUID in lower-case 8-4-4-4-12 form.
  virtual std::string NewUuidV4() = 0;
};

// Cryptographically random UUIDs from OpenSSL's RAND_bytes.
class RandomUuidSource final : public UuidSource {
 public:
  std::string NewUuidV4() override;
};

// Deterministic UUIDs from a counter (tests and benchmarks): the n-th call
// formats n into the random bits.
class CountingUuidSource final : public UuidSource {
 public:
  explicit CountingUuidSource(uint64_t start = 1) : next_(start) {}
  std::string NewUuidV4() override;

 private:
  std::atomic<uint64_t> next_;
};

// Formats 16 bytes as a v4 UUID (sets the version and variant bits).
std::string FormatUuidV4(const unsigned char bytes[16]);

// True for 8-4-4-4-12 hex (any case, any version).
bool IsUuid(std::string_view text);

}  // namespace furrow::enrich
