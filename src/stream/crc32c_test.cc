#include "stream/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace furrow::stream {
namespace {

TEST(Crc32cTest, MatchesRfc3720CheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cPortableExtend(0, "123456789", 9), 0xE3069283u);
}

// RFC 3720 appendix B.4 test patterns (32 bytes each).
TEST(Crc32cTest, MatchesRfc3720TestPatterns) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32cTest, EmptyInputIsZero) { EXPECT_EQ(Crc32c("", 0), 0u); }

TEST(Crc32cTest, ExtendEqualsWholeComputation) {
  std::string text = "The quick brown fox jumps over the lazy dog, twice over.";
  for (size_t split = 0; split <= text.size(); ++split) {
    uint32_t head = Crc32c(text.data(), split);
    EXPECT_EQ(Crc32cExtend(head, text.data() + split, text.size() - split), Crc32c(text))
        << "split at " << split;
    uint32_t portable_head = Crc32cPortableExtend(0, text.data(), split);
    EXPECT_EQ(Crc32cPortableExtend(portable_head, text.data() + split, text.size() - split),
              Crc32c(text));
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnRandomInputs) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::string data(rng() % 300, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    EXPECT_EQ(Crc32c(data), Crc32cPortableExtend(0, data.data(), data.size()))
        << "size " << data.size() << " hardware=" << Crc32cUsesHardware();
  }
}

}  // namespace
}  // namespace furrow::stream
