#include "receiver/multipart.h"

#include <algorithm>
#include <cctype>

namespace furrow::receiver {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The value of parameter `name` in a header value like `form-data; name="file"`.
std::string Parameter(std::string_view header, std::string_view name) {
  std::string lower = Lower(header);
  std::string needle = std::string(name) + "=";
  size_t pos = 0;
  while ((pos = lower.find(needle, pos)) != std::string::npos) {
    bool at_start = pos == 0 || lower[pos - 1] == ';' || lower[pos - 1] == ' ' || lower[pos - 1] == '\t';
    if (!at_start) {
      pos += needle.size();
      continue;
    }
    size_t v = pos + needle.size();
    if (v < header.size() && header[v] == '"') {
      size_t end = header.find('"', v + 1);
      if (end == std::string_view::npos) return "";
      return std::string(header.substr(v + 1, end - v - 1));
    }
    size_t end = header.find(';', v);
    std::string_view raw = header.substr(v, end == std::string_view::npos ? std::string_view::npos : end - v);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
    return std::string(raw);
  }
  return "";
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  std::string lower = Lower(content_type);
  if (lower.rfind("multipart/form-data", 0) != 0) {
    return InvalidArgumentError("expected Content-Type multipart/form-data");
  }
  std::string boundary = Parameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 70) {
    return InvalidArgumentError("multipart/form-data without a valid boundary");
  }
  return boundary;
}

Result<std::string> MultipartField(std::string_view body, std::string_view boundary, std::string_view field) {
  const std::string delimiter = "--" + std::string(boundary);
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return InvalidArgumentError("multipart body without its boundary");
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return InvalidArgumentError("malformed multipart delimiter line");
    pos += 2;
    size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return InvalidArgumentError("multipart part without headers end");
    std::string_view headers = body.substr(pos, headers_end - pos);
    size_t content_start = headers_end + 4;
    size_t next = body.find("\r\n" + delimiter, content_start);
    if (next == std::string_view::npos) return InvalidArgumentError("multipart part without closing boundary");
    std::string name;
    size_t line_start = 0;
    while (line_start <= headers.size()) {
      size_t line_end = headers.find("\r\n", line_start);
      std::string_view line =
          headers.substr(line_start, line_end == std::string_view::npos ? std::string_view::npos : line_end - line_start);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos && Lower(line.substr(0, colon)) == "content-disposition") {
        name = Parameter(line.substr(colon + 1), "name");
      }
      if (line_end == std::string_view::npos) break;
      line_start = line_end + 2;
    }
    if (name == field) return std::string(body.substr(content_start, next - content_start));
    pos = next + 2;
  }
  return NotFoundError("the form has no field \"" + std::string(field) + "\"");
}

}  // namespace furrow::receiver
