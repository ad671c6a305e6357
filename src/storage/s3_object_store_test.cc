// Unit tests of S3ObjectStore that need no server: option validation and the
// addressing rules. Requests against real and scripted servers are in
// tests/storage/.
#include "storage/s3_object_store.h"

#include <gtest/gtest.h>

namespace furrow::storage {
namespace {

S3Options Base() {
  S3Options options;
  options.bucket = "bucket";
  options.credentials = {"AKID", "SECRET", ""};
  return options;
}

std::unique_ptr<S3ObjectStore> Make(S3Options options) {
  auto store = S3ObjectStore::Create(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST(S3ObjectStoreTest, AwsUsesVirtualHostedStyleWithEncodedKeys) {
  S3Options options = Base();
  options.region = "eu-west-1";
  auto store = Make(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->UrlFor("a b/c+d=é", ""),
            "https://bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd%3D%C3%A9");
  EXPECT_EQ(store->UrlFor("", "list-type=2&prefix=x%2F"),
            "https://bucket.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=x%2F");
}

TEST(S3ObjectStoreTest, DottedBucketsAndCustomEndpointsUsePathStyle) {
  S3Options dotted = Base();
  dotted.bucket = "my.bucket";
  auto a = Make(dotted);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->UrlFor("k", ""), "https://s3.us-east-1.amazonaws.com/my.bucket/k");

  S3Options custom = Base();
  custom.endpoint = "http://127.0.0.1:9000/";
  auto b = Make(custom);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->UrlFor("k/x", "uploads="), "http://127.0.0.1:9000/bucket/k/x?uploads=");
  EXPECT_EQ(b->UrlFor("", "list-type=2"), "http://127.0.0.1:9000/bucket?list-type=2");

  custom.addressing_style = S3AddressingStyle::kVirtualHosted;
  auto c = Make(custom);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->UrlFor("k", ""), "http://bucket.127.0.0.1:9000/k");

  S3Options forced_path = Base();
  forced_path.addressing_style = S3AddressingStyle::kPath;
  auto d = Make(forced_path);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->UrlFor("k", ""), "https://s3.us-east-1.amazonaws.com/bucket/k");
}

TEST(S3ObjectStoreTest, DescribeShowsBucketAndPrefixButNoSecrets) {
  S3Options options = Base();
  options.key_prefix = "events/prod/";
  auto store = Make(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Describe(), "s3://bucket/events/prod");
  EXPECT_EQ(Make(Base())->Describe(), "s3://bucket");
}

TEST(S3ObjectStoreTest, RejectsInvalidOptions) {
  auto expect_invalid = [](S3Options options) {
    EXPECT_EQ(S3ObjectStore::Create(std::move(options)).status().code(),
              StatusCode::kInvalidArgument);
  };
  S3Options o = Base();
  o.bucket = "";
  expect_invalid(o);
  o = Base();
  o.credentials = {};
  expect_invalid(o);
  o = Base();
  o.part_size = kS3MinPartSize - 1;
  expect_invalid(o);
  o = Base();
  o.endpoint = "ftp://host";
  expect_invalid(o);
  o = Base();
  o.endpoint = "http://host/path";
  expect_invalid(o);
  o = Base();
  o.endpoint = "host:9000";
  expect_invalid(o);
  o = Base();
  o.key_prefix = "../up";
  expect_invalid(o);
  o = Base();
  o.max_attempts = 0;
  expect_invalid(o);
}

TEST(S3ObjectStoreTest, RejectsInvalidKeysBeforeAnyRequest) {
  S3Options options = Base();
  options.endpoint = "http://127.0.0.1:1";  // nothing listens; no request is made
  options.max_attempts = 1;
  auto store = Make(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Put("../x", "b", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put("ok", "b", {{"Bad Name", "v"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->List("/abs").status().code(), StatusCode::kInvalidArgument);
}

TEST(S3ObjectStoreTest, ParsesAddressingStyles) {
  S3AddressingStyle style;
  ASSERT_TRUE(ParseS3AddressingStyle("path", &style));
  EXPECT_EQ(style, S3AddressingStyle::kPath);
  ASSERT_TRUE(ParseS3AddressingStyle("virtual", &style));
  EXPECT_EQ(style, S3AddressingStyle::kVirtualHosted);
  ASSERT_TRUE(ParseS3AddressingStyle("auto", &style));
  EXPECT_EQ(style, S3AddressingStyle::kAuto);
  EXPECT_FALSE(ParseS3AddressingStyle("Path", &style));
}

}  // namespace
}  // namespace furrow::storage
