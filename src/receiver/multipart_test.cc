#include "receiver/multipart.h"

#include <gtest/gtest.h>

namespace furrow::receiver {
namespace {

TEST(MultipartTest, ExtractsTheNamedFileField) {
  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ping.json\"\r\n"
      "Content-Type: application/json\r\n\r\n{\"uuid\":\"u\"}\r\n--XyZ--\r\n";
  Result<std::string> b = MultipartBoundary("multipart/form-data; boundary=XyZ");
  ASSERT_TRUE(b.ok());
  Result<std::string> f = MultipartField(body, *b, "file");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, "{\"uuid\":\"u\"}");
  EXPECT_EQ(*MultipartField(body, *b, "note"), "hello");
}

TEST(MultipartTest, QuotedBoundaryAndMissingField) {
  Result<std::string> b = MultipartBoundary("multipart/form-data; boundary=\"a b\"");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "a b");
  std::string body = "--a b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--a b--\r\n";
  EXPECT_EQ(MultipartField(body, *b, "file").status().code(), StatusCode::kNotFound);
}

TEST(MultipartTest, RejectsMalformedBodies) {
  EXPECT_EQ(MultipartBoundary("application/json").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartBoundary("multipart/form-data").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartField("no boundary here", "B", "file").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartField("--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nunterminated", "B", "file")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MultipartField("--B\r\nno header end", "B", "file").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace furrow::receiver
