#include "iglu/schema_key.h"

#include <charconv>
#include <string>

namespace furrow::iglu {
namespace {

constexpr size_t kMaxPartBytes = 255;
constexpr std::string_view kIgluPrefix = "iglu:";

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsValidPart(std::string_view part, bool allow_dot) {
  if (part.empty() || part.size() > kMaxPartBytes) return false;
  if (allow_dot && (part.front() == '.' || part.back() == '.' ||
                    part.find("..") != std::string_view::npos)) {
    return false;
  }
  for (char c : part) {
    if (IsAlnum(c) || c == '_' || c == '-' || (allow_dot && c == '.')) continue;
    return false;
  }
  return true;
}

// Parses a non-negative decimal without leading zeros; nullopt on failure.
std::optional<int> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 200;
  std::string out = "\"";
  out.append(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out.append("...");
  out.push_back('"');
  return out;
}

struct Parts {
  std::string_view vendor, name, format, version;
};

Result<Parts> SplitPath(std::string_view path, std::string_view original) {
  Parts parts;
  std::string_view* fields[] = {&parts.vendor, &parts.name, &parts.format, &parts.version};
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t slash = path.find('/', start);
    if (i < 3) {
      if (slash == std::string_view::npos) {
        return InvalidArgumentError("schema key " + Quote(original) +
                                    " must have the form vendor/name/format/M-R-A");
      }
      *fields[i] = path.substr(start, slash - start);
      start = slash + 1;
    } else {
      if (slash != std::string_view::npos) {
        return InvalidArgumentError("schema key " + Quote(original) +
                                    " has more than four parts");
      }
      *fields[i] = path.substr(start);
    }
  }
  if (!IsValidPart(parts.vendor, true)) {
    return InvalidArgumentError("schema key " + Quote(original) + " has an invalid vendor");
  }
  if (!IsValidPart(parts.name, false)) {
    return InvalidArgumentError("schema key " + Quote(original) + " has an invalid name");
  }
  if (!IsValidPart(parts.format, false)) {
    return InvalidArgumentError("schema key " + Quote(original) + " has an invalid format");
  }
  return parts;
}

Result<std::string_view> StripIglu(std::string_view uri) {
  if (uri.substr(0, kIgluPrefix.size()) != kIgluPrefix) {
    return InvalidArgumentError("schema key " + Quote(uri) + " does not start with \"iglu:\"");
  }
  return uri.substr(kIgluPrefix.size());
}

// Splits "M-R-A" into three fields.
bool SplitVersion(std::string_view text, std::string_view out[3]) {
  size_t first = text.find('-');
  if (first == std::string_view::npos) return false;
  size_t second = text.find('-', first + 1);
  if (second == std::string_view::npos) return false;
  if (text.find('-', second + 1) != std::string_view::npos) return false;
  out[0] = text.substr(0, first);
  out[1] = text.substr(first + 1, second - first - 1);
  out[2] = text.substr(second + 1);
  return true;
}

}  // namespace

Result<SchemaVer> SchemaVer::Parse(std::string_view text) {
  std::string_view fields[3];
  if (!SplitVersion(text, fields)) {
    return InvalidArgumentError("SchemaVer " + Quote(text) + " must be MODEL-REVISION-ADDITION");
  }
  std::optional<int> model = ParseNumber(fields[0]);
  std::optional<int> revision = ParseNumber(fields[1]);
  std::optional<int> addition = ParseNumber(fields[2]);
  if (!model || !revision || !addition) {
    return InvalidArgumentError("SchemaVer " + Quote(text) +
                                " must be three decimal numbers without leading zeros");
  }
  if (*model < 1) return InvalidArgumentError("SchemaVer " + Quote(text) + " has MODEL 0");
  return SchemaVer{*model, *revision, *addition};
}

std::string SchemaVer::ToString() const {
  return std::to_string(model) + "-" + std::to_string(revision) + "-" + std::to_string(addition);
}

Result<SchemaKey> SchemaKey::ParsePath(std::string_view path) {
  FURROW_ASSIGN_OR_RETURN(Parts parts, SplitPath(path, path));
  Result<SchemaVer> version = SchemaVer::Parse(parts.version);
  if (!version.ok()) {
    return InvalidArgumentError("schema key " + Quote(path) + ": " + version.status().message());
  }
  return SchemaKey{std::string(parts.vendor), std::string(parts.name), std::string(parts.format),
                   *version};
}

Result<SchemaKey> SchemaKey::ParseUri(std::string_view uri) {
  FURROW_ASSIGN_OR_RETURN(std::string_view path, StripIglu(uri));
  FURROW_ASSIGN_OR_RETURN(Parts parts, SplitPath(path, uri));
  Result<SchemaVer> version = SchemaVer::Parse(parts.version);
  if (!version.ok()) {
    return InvalidArgumentError("schema key " + Quote(uri) + ": " + version.status().message());
  }
  return SchemaKey{std::string(parts.vendor), std::string(parts.name), std::string(parts.format),
                   *version};
}

std::string SchemaKey::ToPath() const {
  std::string out;
  out.reserve(vendor.size() + name.size() + format.size() + 12);
  out.append(vendor).append("/").append(name).append("/").append(format).append("/");
  out.append(version.ToString());
  return out;
}

std::string SchemaKey::ToUri() const { return std::string(kIgluPrefix) + ToPath(); }

Result<SchemaCriterion> SchemaCriterion::Parse(std::string_view uri) {
  FURROW_ASSIGN_OR_RETURN(std::string_view path, StripIglu(uri));
  FURROW_ASSIGN_OR_RETURN(Parts parts, SplitPath(path, uri));
  std::string_view fields[3];
  if (!SplitVersion(parts.version, fields)) {
    return InvalidArgumentError("schema criterion " + Quote(uri) +
                                " must end with MODEL-REVISION-ADDITION");
  }
  SchemaCriterion criterion;
  criterion.vendor = std::string(parts.vendor);
  criterion.name = std::string(parts.name);
  criterion.format = std::string(parts.format);
  std::optional<int> model = ParseNumber(fields[0]);
  if (!model || *model < 1) {
    return InvalidArgumentError("schema criterion " + Quote(uri) +
                                " must have a concrete MODEL >= 1");
  }
  criterion.model = *model;
  if (fields[1] != "*") {
    criterion.revision = ParseNumber(fields[1]);
    if (!criterion.revision) {
      return InvalidArgumentError("schema criterion " + Quote(uri) + " has an invalid REVISION");
    }
  }
  if (fields[2] != "*") {
    criterion.addition = ParseNumber(fields[2]);
    if (!criterion.addition) {
      return InvalidArgumentError("schema criterion " + Quote(uri) + " has an invalid ADDITION");
    }
    if (!criterion.revision) {
      return InvalidArgumentError("schema criterion " + Quote(uri) +
                                  ": ADDITION cannot be concrete when REVISION is *");
    }
  }
  return criterion;
}

bool SchemaCriterion::Matches(const SchemaKey& key) const {
  return key.vendor == vendor && key.name == name && key.format == format &&
         key.version.model == model && (!revision || *revision == key.version.revision) &&
         (!addition || *addition == key.version.addition);
}

std::string SchemaCriterion::ToUri() const {
  std::string out(kIgluPrefix);
  out.append(vendor).append("/").append(name).append("/").append(format).append("/");
  out.append(std::to_string(model)).append("-");
  out.append(revision ? std::to_string(*revision) : "*").append("-");
  out.append(addition ? std::to_string(*addition) : "*");
  return out;
}

bool IsValidVendor(std::string_view vendor) { return IsValidPart(vendor, true); }

}  // namespace furrow::iglu

size_t std::hash<furrow::iglu::SchemaKey>::operator()(
    const furrow::iglu::SchemaKey& key) const noexcept {
  size_t h = std::hash<std::string>()(key.vendor);
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(std::hash<std::string>()(key.name));
  mix(std::hash<std::string>()(key.format));
  mix(static_cast<size_t>(key.version.model) * 1000003u +
      static_cast<size_t>(key.version.revision) * 1009u +
      static_cast<size_t>(key.version.addition));
  return h;
}
