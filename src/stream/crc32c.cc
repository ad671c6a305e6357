#include "stream/crc32c.h"

#include <boost/crc.hpp>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace furrow::stream {
namespace {

using PortableCrc = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
// The running state of the crc32 instruction is the pre-inverted CRC, as in
// boost's remainder; callers pass and receive the finalised value.
__attribute__((target("sse4.2"))) uint32_t HardwareExtend(uint32_t crc, const void* data,
                                                          size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t state = ~crc;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    state = _mm_crc32_u64(state, word);
    p += 8;
    size -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  while (size > 0) {
    state32 = _mm_crc32_u8(state32, *p);
    ++p;
    --size;
  }
  return ~state32;
}

bool DetectHardware() { return __builtin_cpu_supports("sse4.2"); }
#else
uint32_t HardwareExtend(uint32_t crc, const void* data, size_t size) {
  return Crc32cPortableExtend(crc, data, size);
}
bool DetectHardware() { return false; }
#endif

const bool kHasHardware = DetectHardware();

}  // namespace

uint32_t Crc32cPortableExtend(uint32_t crc, const void* data, size_t size) {
  // The running remainder is the finalised CRC inverted; boost takes an initial
  // remainder in unreflected bit order and reflects it itself.
  uint32_t remainder = ~crc;
  uint32_t unreflected = 0;
  for (int i = 0; i < 32; ++i) unreflected |= ((remainder >> i) & 1u) << (31 - i);
  PortableCrc engine(unreflected);
  engine.process_bytes(data, size);
  return engine.checksum();
}

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size) {
  return kHasHardware ? HardwareExtend(crc, data, size) : Crc32cPortableExtend(crc, data, size);
}

uint32_t Crc32c(const void* data, size_t size) { return Crc32cExtend(0, data, size); }

bool Crc32cUsesHardware() { return kHasHardware; }

}  // namespace furrow::stream
