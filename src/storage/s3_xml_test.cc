#include "storage/s3_xml.h"

#include <gtest/gtest.h>

namespace furrow::storage::s3xml {
namespace {

TEST(S3XmlTest, ParsesErrorCodeAndMessage) {
  ErrorBody error = ParseError(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName>"
      "</Error>");
  EXPECT_EQ(error.code, "NoSuchBucket");
  EXPECT_EQ(error.message, "The specified bucket does not exist");
}

TEST(S3XmlTest, ErrorOfEmptyOrForeignBodyIsEmpty) {
  EXPECT_TRUE(ParseError("").code.empty());
  EXPECT_TRUE(ParseError("<html><body>Bad Gateway</body></html>").code.empty());
  EXPECT_TRUE(ParseError("<Error><Code>unterminated").code.empty());
  EXPECT_TRUE(ParseError("\x01\x02 not xml").code.empty());
}

TEST(S3XmlTest, ParsesListPagesWithEscapedKeys) {
  Result<ListPage> page = ParseListObjectsV2(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>"
      "<Contents><Key>p/a&amp;b.gz</Key><Size>12</Size><ETag>\"x\"</ETag></Contents>"
      "<Contents><Key>p/c</Key><Size>0</Size></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].first, "p/a&b.gz");
  EXPECT_EQ(page->objects[0].second, 12u);
  EXPECT_EQ(page->objects[1].second, 0u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "tok+/=");
}

TEST(S3XmlTest, RejectsMalformedListPages) {
  for (const char* body :
       {"", "garbage", "<Other/>",
        "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"}) {
    Result<ListPage> page = ParseListObjectsV2(body);
    EXPECT_EQ(page.status().code(), StatusCode::kUnavailable) << body;
  }
}

TEST(S3XmlTest, ParsesUploadIdAndBuildsCompleteBody) {
  Result<std::string> id = ParseUploadId(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>abc-123</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "abc-123");
  EXPECT_FALSE(ParseUploadId("<InitiateMultipartUploadResult/>").ok());
  EXPECT_EQ(CompleteMultipartUploadBody({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;"
            "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

}  // namespace
}  // namespace furrow::storage::s3xml
