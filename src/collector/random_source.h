// RandomSource: where the collector's randomness comes from (fresh network user ids),
// injected so that tests are deterministic.
//
// Implementations are safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace furrow::collector {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out[0..n)` with random bytes.
  virtual void Fill(uint8_t* out, size_t n) = 0;
};

// Cryptographically strong bytes from OpenSSL's RAND_bytes (network user ids must
// not be guessable). If OpenSSL's generator fails, falls back to std::random_device.
class SystemRandomSource final : public RandomSource {
 public:
  void Fill(uint8_t* out, size_t n) override;
  static SystemRandomSource& Instance();
};

// A random (version 4, variant 1) UUID in lower-case canonical form,
// e.g. "c8f1d2a4-3b6e-4f7a-9d0c-1e2f3a4b5c6d".
std::string NewUuidV4(RandomSource& random);

}  // namespace furrow::collector
