#include "storage/object_store.h"

#include <string>

namespace furrow::storage {

Result<std::vector<ObjectInfo>> ObjectStore::List(std::string_view prefix) {
  std::vector<ObjectInfo> out;
  Status s = ForEach(prefix, [&out](const ObjectInfo& info) {
    out.push_back(info);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// Checks the characters and segments of a key-like string; `allow_trailing_slash`
// for prefixes.
Status CheckSegments(std::string_view text, std::string_view what, bool allow_trailing_slash) {
  if (text.size() > kMaxKeyBytes) {
    return InvalidArgumentError(std::string(what) + " longer than " +
                                std::to_string(kMaxKeyBytes) + " bytes");
  }
  for (unsigned char c : text) {
    if (IsControl(c)) {
      return InvalidArgumentError(std::string(what) + " contains a control character");
    }
  }
  if (!text.empty() && text.front() == '/') {
    return InvalidArgumentError(std::string(what) + " starts with '/': " + std::string(text));
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('/', start);
    bool last = end == std::string_view::npos;
    if (last) end = text.size();
    std::string_view segment = text.substr(start, end - start);
    if (segment.empty()) {
      if (!(last && allow_trailing_slash && !text.empty())) {
        return InvalidArgumentError(std::string(what) + " has an empty segment: '" +
                                    std::string(text) + "'");
      }
    } else if (segment.front() == '.') {
      return InvalidArgumentError(std::string(what) + " has a segment starting with '.': '" +
                                  std::string(text) + "'");
    }
    if (last) break;
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("empty object key");
  return CheckSegments(key, "object key", /*allow_trailing_slash=*/false);
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  return CheckSegments(prefix, "list prefix", /*allow_trailing_slash=*/true);
}

Status ValidateMetadata(const ObjectMetadata& metadata) {
  size_t total = 0;
  for (const auto& [name, value] : metadata) {
    if (name.empty() || name.size() > 64) {
      return InvalidArgumentError("metadata name must be 1..64 bytes: '" + name + "'");
    }
    for (char c : name) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return InvalidArgumentError("metadata name must be [a-z0-9-]: '" + name + "'");
    }
    for (unsigned char c : value) {
      if (c < 0x20 || c > 0x7e) {
        return InvalidArgumentError("metadata value of '" + name +
                                    "' must be printable ASCII");
      }
    }
    if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) {
      return InvalidArgumentError("metadata value of '" + name +
                                  "' has leading or trailing spaces");
    }
    total += name.size() + value.size();
  }
  if (total > kMaxMetadataBytes) {
    return InvalidArgumentError("metadata larger than " + std::to_string(kMaxMetadataBytes) +
                                " bytes");
  }
  return Status::Ok();
}

}  // namespace furrow::storage
