// Compressor: streaming gzip or zstd compression of newline-delimited records.
//
// gzip (RFC 1952, what Snowplow's S3 loader writes) for compatibility, zstd for
// speed. Output accumulates in an in-memory buffer that the owner drains (e.g. into
// a spool file) with TakeOutput(), so memory stays bounded by how often it drains.
// Not safe for concurrent use. Errors: kInternal if the compression library fails
// (out of memory), which leaves the compressor unusable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::sink {

enum class Compression { kGzip, kZstd, kNone };

// "gzip" | "zstd" | "none".
Result<Compression> ParseCompression(std::string_view name);
std::string_view CompressionName(Compression c);
// ".gz", ".zst" or "".
std::string_view CompressionExtension(Compression c);

class Compressor {
 public:
  virtual ~Compressor() = default;

  // `level`: zlib 1..9 (default 6 is Snowplow's), zstd 1..19 (default 3).
  static std::unique_ptr<Compressor> Create(Compression compression, int level = 0);

  // Compresses `data` (buffered internally as the library decides).
  virtual Status Append(std::string_view data) = 0;
  // Ends the stream; no Append after this.
  virtual Status Finish() = 0;

  // Moves the compressed bytes produced so far out of the compressor.
  std::string TakeOutput() { return std::move(output_); }
  size_t pending_output_bytes() const { return output_.size(); }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

 protected:
  std::string output_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

// One-shot decompression of a whole gzip or zstd file (for tests and the warehouse
// loader). Errors: kDataLoss for corrupt input; kResourceExhausted past `max_bytes`.
Result<std::string> Decompress(Compression compression, std::string_view data,
                               size_t max_bytes = size_t{1} << 32);

// Streaming gzip decompression: calls `chunk` with each piece of output (up to 64 KiB,
// reused between calls) as it is inflated, so a large file is never whole in memory.
// Stops at the first error `chunk` returns and returns it; kDataLoss for corrupt or
// truncated input (after the chunks before the damage were delivered).
[[nodiscard]] Status ForEachGunzippedChunk(std::string_view data, const std::function<Status(std::string_view)>& chunk);

}  // namespace furrow::sink
