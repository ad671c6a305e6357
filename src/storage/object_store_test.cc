#include "storage/object_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace furrow::storage {
namespace {

TEST(ObjectStoreKeyTest, AcceptsOrdinaryKeys) {
  for (const char* key : {"a", "output/2026/11/25/10/part-0001.tsv.gz", "pings/x y+z=1",
                          "a.b/c..d", "unicode/\xc3\xa9t\xc3\xa9"}) {
    EXPECT_TRUE(ValidateKey(key).ok()) << key;
  }
}

TEST(ObjectStoreKeyTest, RejectsKeysThatDoNotMapSafelyOntoPaths) {
  for (const std::string& key : std::vector<std::string>{"", "/a", "a/", "a//b", ".", "..", "a/../b", "a/./b", ".tmp.1.x",
                          "d/.meta.x", std::string("a\nb"), std::string("a\0b", 3),
                          std::string(kMaxKeyBytes + 1, 'k')}) {
    Status s = ValidateKey(key);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << key;
  }
}

TEST(ObjectStoreKeyTest, PrefixesMayEndWithSlashOrBePartial) {
  EXPECT_TRUE(ValidatePrefix("").ok());
  EXPECT_TRUE(ValidatePrefix("output/").ok());
  EXPECT_TRUE(ValidatePrefix("output/20").ok());
  EXPECT_FALSE(ValidatePrefix("/").ok());
  EXPECT_FALSE(ValidatePrefix("a//").ok());
  EXPECT_FALSE(ValidatePrefix("../").ok());
}

TEST(ObjectStoreMetadataTest, ValidatesNamesValuesAndTotalSize) {
  EXPECT_TRUE(ValidateMetadata({}).ok());
  EXPECT_TRUE(ValidateMetadata({{"key-id", "k1"}, {"range", "0-9"}, {"empty", ""}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"Key", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"key_id", "v"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", "tab\there"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", " padded"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", "\xc3\xa9"}}).ok());
  EXPECT_FALSE(ValidateMetadata({{"k", std::string(kMaxMetadataBytes, 'v')}}).ok());
}

}  // namespace
}  // namespace furrow::storage
