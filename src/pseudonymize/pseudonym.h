// Pseudonyms: lowercase hex HMAC-SHA256(key, value), and the hasher that makes them.
//
//   FURROW_ASSIGN_OR_RETURN(PseudonymHasher hasher, PseudonymHasher::Create(key_bytes));
//   Pseudonym p = hasher.Pseudonymize(ClearValue("alice@example.com"));
//   std::string_view hex = p.hex();   // 64 lowercase hex characters
//
// The result equals `openssl dgst -sha256 -hmac KEY` over the same bytes (RFC 2104).
//
// Speed: HMAC hashes the key padded with ipad and with opad before every message.
// The hasher does that once, at construction, and keeps the two SHA-256 states; each
// value then costs a copy of those states and the message's own compression rounds
// (for a value under 56 bytes: two compressions instead of four). OpenSSL picks
// SHA-NI or AVX2 code on its own. bench/pseudonymize measures it against OpenSSL's
// one-shot HMAC().
//
// Strong types: a ClearValue is personal data; a Pseudonym is not. Nothing converts
// one into the other except a PseudonymHasher, so clear data cannot reach an output
// by accident through a pseudonym-typed path.
//
// Thread safety: a PseudonymHasher is immutable after Create; Pseudonymize is safe
// for concurrent use. The key bytes are not kept (only the derived states), never
// printed and never part of an error message.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::pseudonymize {

// A value that may be personal data, on its way to being pseudonymized.
class ClearValue {
 public:
  explicit ClearValue(std::string_view bytes) : bytes_(bytes) {}
  std::string_view bytes() const { return bytes_; }

 private:
  std::string_view bytes_;
};

inline constexpr size_t kPseudonymHexLength = 64;

// The pseudonym of a value: 64 lowercase hex characters.
class Pseudonym {
 public:
  std::string_view hex() const { return std::string_view(hex_.data(), hex_.size()); }
  friend bool operator==(const Pseudonym&, const Pseudonym&) = default;

 private:
  friend class PseudonymHasher;
  std::array<char, kPseudonymHexLength> hex_{};
};

class PseudonymHasher {
 public:
  // An empty key is kInvalidArgument (HMAC would accept it; furrow must not).
  static Result<PseudonymHasher> Create(std::string_view key_bytes);

  PseudonymHasher(PseudonymHasher&&) noexcept;
  PseudonymHasher& operator=(PseudonymHasher&&) noexcept;
  ~PseudonymHasher();

  Pseudonym Pseudonymize(ClearValue value) const;
  // The raw 32-byte HMAC, for callers that encode it themselves.
  void Mac(std::string_view value, uint8_t out[32]) const;
  // Appends the 64 hex characters of the pseudonym of `value` to `out`.
  void AppendHex(std::string_view value, std::string* out) const;

 private:
  struct States;
  explicit PseudonymHasher(std::unique_ptr<States> states);
  std::unique_ptr<States> states_;
};

// Lowercase hex of `n` bytes into `out` (2n characters).
void HexEncode(const uint8_t* bytes, size_t n, char* out);

}  // namespace furrow::pseudonymize
