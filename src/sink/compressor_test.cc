#include "sink/compressor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace furrow::sink {
namespace {

std::string Lines(int n) {
  std::string s;
  std::mt19937 rng(42);
  for (int i = 0; i < n; ++i) {
    s += "app\tweb\t2026-11-25 00:00:00.000\tevent-" + std::to_string(rng()) + "\n";
  }
  return s;
}

std::string CompressAll(Compression c, const std::string& text, size_t piece) {
  auto comp = Compressor::Create(c);
  std::string out;
  for (size_t i = 0; i < text.size(); i += piece) {
    EXPECT_TRUE(comp->Append(std::string_view(text).substr(i, piece)).ok());
    out += comp->TakeOutput();
  }
  EXPECT_TRUE(comp->Finish().ok());
  out += comp->TakeOutput();
  EXPECT_EQ(comp->bytes_in(), text.size());
  EXPECT_EQ(comp->bytes_out(), out.size());
  return out;
}

class CompressorRoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(CompressorRoundTrip, RoundTripsInPieces) {
  std::string text = Lines(20000);
  std::string packed = CompressAll(GetParam(), text, 777);
  auto back = Decompress(GetParam(), packed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, text);
  if (GetParam() != Compression::kNone) {
    EXPECT_LT(packed.size(), text.size() / 2);
  }
}

TEST_P(CompressorRoundTrip, EmptyStreamIsValid) {
  std::string packed = CompressAll(GetParam(), "", 1);
  auto back = Decompress(GetParam(), packed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "");
}

INSTANTIATE_TEST_SUITE_P(All, CompressorRoundTrip,
                         ::testing::Values(Compression::kGzip, Compression::kZstd, Compression::kNone));

TEST(CompressorTest, TruncatedInputIsDataLoss) {
  std::string packed = CompressAll(Compression::kGzip, Lines(100), 4096);
  EXPECT_EQ(Decompress(Compression::kGzip, packed.substr(0, packed.size() / 2)).status().code(),
            StatusCode::kDataLoss);
  packed = CompressAll(Compression::kZstd, Lines(100), 4096);
  EXPECT_EQ(Decompress(Compression::kZstd, packed.substr(0, packed.size() / 2)).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(Decompress(Compression::kGzip, "not gzip at all").status().code(), StatusCode::kDataLoss);
}

TEST(CompressorTest, DecompressionIsBounded) {
  std::string packed = CompressAll(Compression::kGzip, std::string(1 << 20, 'a'), 1 << 20);
  EXPECT_EQ(Decompress(Compression::kGzip, packed, 1000).status().code(),
            StatusCode::kResourceExhausted);
}

// The system gzip tool reads what furrow writes (what users and S3 loaders expect).
TEST(CompressorTest, GzipOutputReadsWithGunzip) {
  std::string text = Lines(500);
  std::string packed = CompressAll(Compression::kGzip, text, 1000);
  std::string path = ::testing::TempDir() + "/furrow_compressor_test.gz";
  std::ofstream(path, std::ios::binary) << packed;
  std::string cmd = "gzip -dc " + path;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(out, text);
  std::remove(path.c_str());
}

TEST(CompressorTest, ParsesNames) {
  EXPECT_EQ(*ParseCompression("gzip"), Compression::kGzip);
  EXPECT_EQ(*ParseCompression("zstd"), Compression::kZstd);
  EXPECT_EQ(ParseCompression("lz4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CompressionExtension(Compression::kZstd), ".zst");
}

}  // namespace
}  // namespace furrow::sink
