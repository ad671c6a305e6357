// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected, init and xor-out
// 0xFFFFFFFF): the checksum of every stream log record (docs/stream-log.md).
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run
// time) and boost::crc_optimal otherwise; both give the same value. Test vector
// from RFC 3720 B.4: Crc32c("123456789") == 0xE3069283.
//
// Pure functions; safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace furrow::stream {

// CRC32C of `size` bytes at `data`.
uint32_t Crc32c(const void* data, size_t size);
inline uint32_t Crc32c(std::string_view bytes) { return Crc32c(bytes.data(), bytes.size()); }

// The CRC32C of A followed by `data`, given `crc` == Crc32c(A). Extend(0, x, n) ==
// Crc32c(x, n).
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t size);

// The portable implementation, exposed so tests can compare it with the
// hardware one on the same input.
uint32_t Crc32cPortableExtend(uint32_t crc, const void* data, size_t size);

// True if the SSE4.2 path is in use on this machine.
bool Crc32cUsesHardware();

}  // namespace furrow::stream
