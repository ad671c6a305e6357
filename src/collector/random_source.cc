#include "collector/random_source.h"

#include <openssl/rand.h>

#include <random>

namespace furrow::collector {

void SystemRandomSource::Fill(uint8_t* out, size_t n) {
  if (n == 0) return;
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  thread_local std::random_device device;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(device());
}

SystemRandomSource& SystemRandomSource::Instance() {
  static SystemRandomSource instance;
  return instance;
}

std::string NewUuidV4(RandomSource& random) {
  uint8_t b[16];
  random.Fill(b, sizeof(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

}  // namespace furrow::collector
