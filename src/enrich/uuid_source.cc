#include "enrich/uuid_source.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace furrow::enrich {

std::string FormatUuidV4(const unsigned char input[16]) {
  unsigned char b[16];
  std::memcpy(b, input, 16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

std::string RandomUuidSource::NewUuidV4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    // RAND_bytes only fails when the OS entropy source is unusable; fall back to
    // the process's random device rather than emitting a fixed id.
    std::memset(b, 0, sizeof(b));
    FILE* f = std::fopen("/dev/urandom", "rb");
    if (f != nullptr) {
      size_t got = std::fread(b, 1, sizeof(b), f);
      (void)got;
      std::fclose(f);
    }
  }
  return FormatUuidV4(b);
}

std::string CountingUuidSource::NewUuidV4() {
  uint64_t n = next_.fetch_add(1);
  unsigned char b[16] = {};
  for (int i = 0; i < 8; ++i) b[15 - i] = static_cast<unsigned char>(n >> (8 * i));
  return FormatUuidV4(b);
}

bool IsUuid(std::string_view v) {
  if (v.size() != 36) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace furrow::enrich
