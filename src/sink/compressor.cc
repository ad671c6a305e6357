#include "sink/compressor.h"

#include <zlib.h>
#include <zstd.h>

namespace furrow::sink {
namespace {

constexpr size_t kChunk = 64 * 1024;

class GzipCompressor final : public Compressor {
 public:
  explicit GzipCompressor(int level) {
    // windowBits 15 + 16 selects the gzip wrapper.
    ok_ = deflateInit2(&z_, level > 0 ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipCompressor() override { deflateEnd(&z_); }

  Status Append(std::string_view data) override { return Run(data, Z_NO_FLUSH); }
  Status Finish() override { return Run({}, Z_FINISH); }

 private:
  Status Run(std::string_view data, int flush) {
    if (!ok_) return InternalError("gzip compressor is not usable");
    bytes_in_ += data.size();
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    do {
      size_t before = output_.size();
      output_.resize(before + kChunk);
      z_.next_out = reinterpret_cast<Bytef*>(output_.data() + before);
      z_.avail_out = kChunk;
      int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) {
        ok_ = false;
        return InternalError("gzip deflate failed");
      }
      size_t produced = kChunk - z_.avail_out;
      output_.resize(before + produced);
      bytes_out_ += produced;
      if (flush == Z_FINISH && rc == Z_STREAM_END) break;
    } while (z_.avail_out == 0 || (flush == Z_FINISH));
    return Status::Ok();
  }

  z_stream z_{};
  bool ok_ = false;
};

class ZstdCompressor final : public Compressor {
 public:
  explicit ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()) {
    if (cctx_) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level > 0 ? level : 3);
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }

  Status Append(std::string_view data) override { return Run(data, ZSTD_e_continue); }
  Status Finish() override { return Run({}, ZSTD_e_end); }

 private:
  Status Run(std::string_view data, ZSTD_EndDirective mode) {
    if (cctx_ == nullptr) return InternalError("zstd compressor is not usable");
    bytes_in_ += data.size();
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (true) {
      size_t before = output_.size();
      output_.resize(before + kChunk);
      ZSTD_outBuffer out{output_.data() + before, kChunk, 0};
      size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
      output_.resize(before + out.pos);
      bytes_out_ += out.pos;
      if (ZSTD_isError(remaining)) {
        return InternalError(std::string("zstd: ") + ZSTD_getErrorName(remaining));
      }
      bool done = mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size;
      if (done) break;
    }
    return Status::Ok();
  }

  ZSTD_CCtx* cctx_;
};

class NoCompressor final : public Compressor {
 public:
  Status Append(std::string_view data) override {
    output_.append(data);
    bytes_in_ += data.size();
    bytes_out_ += data.size();
    return Status::Ok();
  }
  Status Finish() override { return Status::Ok(); }
};

Result<std::string> InflateGzip(std::string_view data, size_t max_bytes) {
  std::string out;
  FURROW_RETURN_IF_ERROR(ForEachGunzippedChunk(data, [&](std::string_view chunk) {
    out.append(chunk);
    if (out.size() > max_bytes) return ResourceExhaustedError("decompressed size exceeds limit");
    return Status::Ok();
  }));
  return out;
}

Result<std::string> DecompressZstd(std::string_view data, size_t max_bytes) {
  ZSTD_DCtx* d = ZSTD_createDCtx();
  if (d == nullptr) return InternalError("ZSTD_createDCtx failed");
  std::string out;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  size_t last = 1;
  while (in.pos < in.size) {
    size_t before = out.size();
    out.resize(before + kChunk);
    ZSTD_outBuffer o{out.data() + before, kChunk, 0};
    last = ZSTD_decompressStream(d, &o, &in);
    out.resize(before + o.pos);
    if (ZSTD_isError(last)) {
      ZSTD_freeDCtx(d);
      return DataLossError(std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
    }
    if (out.size() > max_bytes) {
      ZSTD_freeDCtx(d);
      return ResourceExhaustedError("decompressed size exceeds limit");
    }
    if (o.pos == 0 && last != 0 && in.pos == in.size) break;
  }
  // Drain what is still buffered inside the decoder.
  while (last != 0) {
    size_t before = out.size();
    out.resize(before + kChunk);
    ZSTD_outBuffer o{out.data() + before, kChunk, 0};
    last = ZSTD_decompressStream(d, &o, &in);
    out.resize(before + o.pos);
    if (ZSTD_isError(last) || o.pos == 0) break;
  }
  ZSTD_freeDCtx(d);
  if (last != 0) return DataLossError("truncated zstd data");
  return out;
}

}  // namespace

Result<Compression> ParseCompression(std::string_view name) {
  if (name == "gzip" || name == "gz") return Compression::kGzip;
  if (name == "zstd" || name == "zst") return Compression::kZstd;
  if (name == "none") return Compression::kNone;
  return InvalidArgumentError("unknown compression '" + std::string(name) + "' (gzip, zstd or none)");
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gzip";
    case Compression::kZstd: return "zstd";
    case Compression::kNone: return "none";
  }
  return "none";
}

std::string_view CompressionExtension(Compression c) {
  switch (c) {
    case Compression::kGzip: return ".gz";
    case Compression::kZstd: return ".zst";
    case Compression::kNone: return "";
  }
  return "";
}

std::unique_ptr<Compressor> Compressor::Create(Compression compression, int level) {
  switch (compression) {
    case Compression::kGzip: return std::make_unique<GzipCompressor>(level);
    case Compression::kZstd: return std::make_unique<ZstdCompressor>(level);
    case Compression::kNone: return std::make_unique<NoCompressor>();
  }
  return nullptr;
}

Result<std::string> Decompress(Compression compression, std::string_view data, size_t max_bytes) {
  switch (compression) {
    case Compression::kGzip: return InflateGzip(data, max_bytes);
    case Compression::kZstd: return DecompressZstd(data, max_bytes);
    case Compression::kNone: return std::string(data);
  }
  return InternalError("unknown compression");
}

Status ForEachGunzippedChunk(std::string_view data, const std::function<Status(std::string_view)>& chunk) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return InternalError("inflateInit2 failed");
  std::string out(kChunk, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  Status delivered;
  while (delivered.ok()) {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = kChunk;
    rc = inflate(&z, Z_NO_FLUSH);
    size_t produced = kChunk - z.avail_out;
    if (produced > 0) delivered = chunk(std::string_view(out.data(), produced));
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are one file (gzip -c a b > c).
      if (z.avail_in > 0 && inflateReset(&z) == Z_OK) continue;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  FURROW_RETURN_IF_ERROR(delivered);
  if (rc != Z_STREAM_END) return DataLossError("corrupt or truncated gzip data");
  return Status::Ok();
}

}  // namespace furrow::sink
