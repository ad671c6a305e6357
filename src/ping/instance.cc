#include "ping/instance.h"

#include <sys/utsname.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "core/json_escape.h"

namespace furrow::ping {
namespace {

std::string ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") {  // quoted in YAML: always a string
    std::string out;
    AppendJsonString(&out, s);
    return out;
  }
  if (s == "true" || s == "false") return s;
  if (s == "null" || s == "~" || s.empty()) return "null";
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  bool numeric = end != s.c_str() && *end == '\0' && s.find_first_of("xXnN") == std::string::npos;
  if (numeric) return s;
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string YamlToJson(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) return ScalarToJson(node);
  std::string out;
  if (node.IsSequence()) {
    out = "[";
    bool first = true;
    for (const auto& item : node) {
      if (!first) out += ",";
      first = false;
      out += YamlToJson(item);
    }
    return out + "]";
  }
  out = "{";
  bool first = true;
  for (const auto& entry : node) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(&out, entry.first.Scalar());
    out += ":" + YamlToJson(entry.second);
  }
  return out + "}";
}

Status Field(const std::string& file, std::string_view field, std::string_view what) {
  return InvalidArgumentError(file + ": field `" + std::string(field) + "`: " + std::string(what));
}

Result<bool> Bool(const std::string& file, const YAML::Node& node, std::string_view field, bool fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  if (!node.IsScalar() || (node.Scalar() != "true" && node.Scalar() != "false")) {
    return Field(file, field, "must be true or false");
  }
  return node.Scalar() == "true";
}

}  // namespace

Result<InstanceConfig> LoadInstanceConfig(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFoundError("instance file " + path + " does not exist");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path + ": not valid YAML: " + e.what());
  }
  InstanceConfig config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) return InvalidArgumentError(path + ": must be a YAML mapping");
  for (const auto& entry : root) {
    std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    if (key == "installation_type" || key == "edition" || key == "hostname" || key == "version") {
      if (!v.IsScalar()) return Field(path, key, "must be a string");
      (key == "installation_type" ? config.installation_type
       : key == "edition"         ? config.edition
       : key == "hostname"        ? config.hostname
                                  : config.version) = v.Scalar();
    } else if (key == "active_user_count") {
      char* end = nullptr;
      long long n = v.IsScalar() ? std::strtoll(v.Scalar().c_str(), &end, 10) : -1;
      if (!v.IsScalar() || *end != '\0' || n < 0) return Field(path, key, "must be a non-negative integer");
      config.active_user_count = n;
    } else if (key == "service_ping") {
      if (!v.IsMap()) return Field(path, key, "must be a mapping");
      for (const auto& s : v) {
        std::string name = s.first.Scalar();
        if (name != "enabled" && name != "generation_enabled" && name != "include_optional_metrics") {
          return Field(path, "service_ping." + name, "unknown key");
        }
      }
      FURROW_ASSIGN_OR_RETURN(config.ping_enabled, Bool(path, v["enabled"], "service_ping.enabled", true));
      FURROW_ASSIGN_OR_RETURN(config.generation_enabled,
                              Bool(path, v["generation_enabled"], "service_ping.generation_enabled", true));
      FURROW_ASSIGN_OR_RETURN(config.include_optional_metrics,
                              Bool(path, v["include_optional_metrics"], "service_ping.include_optional_metrics", false));
    } else if (key == "settings" || key == "license") {
      if (!v.IsMap()) return Field(path, key, "must be a mapping");
      auto& target = key == "settings" ? config.settings : config.license;
      for (const auto& s : v) target[s.first.Scalar()] = YamlToJson(s.second);
    } else {
      return Field(path, key, "unknown key");
    }
  }
  return config;
}

SystemInfo CollectSystemInfo() {
  SystemInfo info;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) info.hostname = host;
  utsname u{};
  if (uname(&u) == 0) {
    info.os = u.sysname;
    info.os_release = u.release;
    info.architecture = u.machine;
  }
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0) info.cpu_count = cpus;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page_size > 0) info.memory_bytes = static_cast<int64_t>(pages) * page_size;
  return info;
}

}  // namespace furrow::ping
