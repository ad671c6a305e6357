// The XML documents of S3's REST API that S3ObjectStore reads: error bodies,
// ListObjectsV2 pages, and the InitiateMultipartUpload and CompleteMultipartUpload
// results. Parsed with Boost.PropertyTree's XML reader.
//
// The bodies come from the network: every function handles malformed input by
// returning kUnavailable ("malformed S3 response"), never by asserting. Pure
// functions; safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace furrow::storage::s3xml {

struct ErrorBody {
  std::string code;     // "NoSuchBucket"; empty when the body is not an S3 error
  std::string message;  // "The specified bucket does not exist"
};

// The <Error><Code/><Message/></Error> of a failed request; empty fields when `body`
// is empty or not an S3 error document.
ErrorBody ParseError(std::string_view body);

struct ListPage {
  std::vector<std::pair<std::string, uint64_t>> objects;  // key, size
  bool truncated = false;
  std::string next_continuation_token;
};

[[nodiscard]] Result<ListPage> ParseListObjectsV2(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult.
[[nodiscard]] Result<std::string> ParseUploadId(std::string_view body);

// The body of a CompleteMultipartUpload request for parts 1..etags.size().
std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags);

}  // namespace furrow::storage::s3xml
