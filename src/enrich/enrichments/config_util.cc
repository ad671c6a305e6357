#include "enrich/enrichments/config_util.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace furrow::enrich {

Result<std::filesystem::path> ResolveDataPath(std::string_view uri, std::string_view database,
                                              const std::filesystem::path& base_dir) {
  std::string_view path = uri;
  if (path.substr(0, 7) == "file://") {
    path.remove_prefix(7);
  } else if (path.substr(0, 5) == "file:") {
    path.remove_prefix(5);
  } else if (path.find("://") != std::string_view::npos) {
    return InvalidArgumentError("enrichment data URI " + std::string(uri) +
                                " is remote; download " + std::string(database) +
                                " and point uri at a local directory (file:///dir or /dir)");
  }
  std::filesystem::path dir(path);
  if (dir.is_relative()) dir = base_dir / dir;
  if (database.empty() || database.find('/') != std::string_view::npos || database == "..") {
    return InvalidArgumentError("enrichment database name must be a plain file name, got '" +
                                std::string(database) + "'");
  }
  return dir / std::string(database);
}

Result<std::string> ReadDataFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError("enrichment data file " + path.string() + " does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot open enrichment data file " + path.string(), errno);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return IoError("cannot read enrichment data file " + path.string());
  return buffer.str();
}

Result<std::string> GetString(const rapidjson::Value& object, const char* member,
                              std::string_view what) {
  if (!object.IsObject()) return InvalidArgumentError(std::string(what) + " must be an object");
  auto it = object.FindMember(member);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return InvalidArgumentError(std::string(what) + "." + member + " must be a string");
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Result<std::vector<std::string>> GetStringArray(const rapidjson::Value& object, const char* member,
                                                std::string_view what) {
  if (!object.IsObject()) return InvalidArgumentError(std::string(what) + " must be an object");
  auto it = object.FindMember(member);
  if (it == object.MemberEnd() || !it->value.IsArray()) {
    return InvalidArgumentError(std::string(what) + "." + member + " must be an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) {
      return InvalidArgumentError(std::string(what) + "." + member + " must be an array of strings");
    }
    out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

}  // namespace furrow::enrich
