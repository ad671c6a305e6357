#include "storage/s3_xml.h"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <charconv>
#include <sstream>

namespace furrow::storage::s3xml {

namespace pt = boost::property_tree;

namespace {

// Parses `body` into a tree; false when it is not well-formed XML.
bool ParseTree(std::string_view body, pt::ptree* tree) {
  try {
    std::istringstream in{std::string(body)};
    pt::read_xml(in, *tree, pt::xml_parser::no_comments);
    return true;
  } catch (const pt::ptree_error&) {
    return false;
  }
}

Status Malformed(std::string_view what) {
  return UnavailableError("malformed S3 response: " + std::string(what));
}

std::string EscapeXml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

ErrorBody ParseError(std::string_view body) {
  ErrorBody out;
  pt::ptree tree;
  if (body.empty() || !ParseTree(body, &tree)) return out;
  auto error = tree.get_child_optional("Error");
  if (!error) return out;
  out.code = error->get<std::string>("Code", "");
  out.message = error->get<std::string>("Message", "");
  return out;
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  pt::ptree tree;
  if (!ParseTree(body, &tree)) return Malformed("ListObjectsV2 body is not XML");
  auto result = tree.get_child_optional("ListBucketResult");
  if (!result) return Malformed("ListObjectsV2 body has no ListBucketResult");
  ListPage page;
  for (const auto& [name, child] : *result) {
    if (name != "Contents") continue;
    auto key = child.get_optional<std::string>("Key");
    std::string size_text = child.get<std::string>("Size", "");
    uint64_t size = 0;
    auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (!key || key->empty() || ec != std::errc() || ptr != size_text.data() + size_text.size()) {
      return Malformed("ListObjectsV2 entry without a key or a size");
    }
    page.objects.emplace_back(*key, size);
  }
  std::string truncated = result->get<std::string>("IsTruncated", "false");
  page.truncated = truncated == "true";
  page.next_continuation_token = result->get<std::string>("NextContinuationToken", "");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Malformed("truncated ListObjectsV2 page without NextContinuationToken");
  }
  return page;
}

Result<std::string> ParseUploadId(std::string_view body) {
  pt::ptree tree;
  if (!ParseTree(body, &tree)) return Malformed("InitiateMultipartUpload body is not XML");
  std::string id = tree.get<std::string>("InitiateMultipartUploadResult.UploadId", "");
  if (id.empty()) return Malformed("InitiateMultipartUpload body has no UploadId");
  return id;
}

std::string CompleteMultipartUploadBody(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           EscapeXml(etags[i]) + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace furrow::storage::s3xml
