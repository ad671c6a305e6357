// The low-level SHA256_* functions are deprecated in OpenSSL 3 in favour of EVP, but
// EVP has no way to copy a pre-keyed state as cheaply as a plain struct copy
// (EVP_MD_CTX_copy_ex allocates); bench/pseudonymize compares both.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "pseudonymize/pseudonym.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace furrow::pseudonymize {

struct PseudonymHasher::States {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

void HexEncode(const uint8_t* bytes, size_t n, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0x0F];
  }
}

Result<PseudonymHasher> PseudonymHasher::Create(std::string_view key_bytes) {
  if (key_bytes.empty()) return InvalidArgumentError("pseudonymization key is empty");
  uint8_t block[SHA256_CBLOCK] = {};
  if (key_bytes.size() > SHA256_CBLOCK) {
    SHA256(reinterpret_cast<const uint8_t*>(key_bytes.data()), key_bytes.size(), block);
  } else {
    std::memcpy(block, key_bytes.data(), key_bytes.size());
  }
  auto states = std::make_unique<States>();
  uint8_t pad[SHA256_CBLOCK];
  for (size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&states->inner);
  SHA256_Update(&states->inner, pad, SHA256_CBLOCK);
  for (size_t i = 0; i < SHA256_CBLOCK; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&states->outer);
  SHA256_Update(&states->outer, pad, SHA256_CBLOCK);
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
  return PseudonymHasher(std::move(states));
}

PseudonymHasher::PseudonymHasher(std::unique_ptr<States> states) : states_(std::move(states)) {}
PseudonymHasher::PseudonymHasher(PseudonymHasher&&) noexcept = default;
PseudonymHasher& PseudonymHasher::operator=(PseudonymHasher&&) noexcept = default;
PseudonymHasher::~PseudonymHasher() {
  if (states_) OPENSSL_cleanse(states_.get(), sizeof(States));
}

void PseudonymHasher::Mac(std::string_view value, uint8_t out[32]) const {
  SHA256_CTX ctx = states_->inner;
  SHA256_Update(&ctx, value.data(), value.size());
  uint8_t inner_digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(inner_digest, &ctx);
  ctx = states_->outer;
  SHA256_Update(&ctx, inner_digest, sizeof(inner_digest));
  SHA256_Final(out, &ctx);
}

Pseudonym PseudonymHasher::Pseudonymize(ClearValue value) const {
  uint8_t mac[SHA256_DIGEST_LENGTH];
  Mac(value.bytes(), mac);
  Pseudonym p;
  HexEncode(mac, sizeof(mac), p.hex_.data());
  return p;
}

void PseudonymHasher::AppendHex(std::string_view value, std::string* out) const {
  uint8_t mac[SHA256_DIGEST_LENGTH];
  Mac(value, mac);
  size_t at = out->size();
  out->resize(at + kPseudonymHexLength);
  HexEncode(mac, sizeof(mac), out->data() + at);
}

}  // namespace furrow::pseudonymize
