#include "receiver/version_check.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <utility>

#include "core/json_escape.h"

namespace furrow::receiver {
namespace {

struct ParsedVersion {
  std::vector<long> parts;
  bool prerelease = false;
};

ParsedVersion Parse(std::string_view v) {
  ParsedVersion out;
  size_t dash = v.find('-');
  if (dash != std::string_view::npos) {
    out.prerelease = true;
    v = v.substr(0, dash);
  }
  long current = 0;
  bool have = false;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      if (current < 100000000) current = current * 10 + (c - '0');
      have = true;
    } else if (c == '.') {
      out.parts.push_back(current);
      current = 0;
      have = false;
    } else {
      break;
    }
  }
  if (have) out.parts.push_back(current);
  while (out.parts.size() < 3) out.parts.push_back(0);
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  ParsedVersion pa = Parse(a);
  ParsedVersion pb = Parse(b);
  size_t n = std::max(pa.parts.size(), pb.parts.size());
  pa.parts.resize(n, 0);
  pb.parts.resize(n, 0);
  if (pa.parts != pb.parts) return pa.parts < pb.parts ? -1 : 1;
  if (pa.prerelease != pb.prerelease) return pa.prerelease ? -1 : 1;
  return 0;
}

Result<std::string> DecodeGitlabInfo(std::string_view encoded) {
  std::string b64 = PercentDecode(encoded);
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
    if (c == ' ') c = '+';  // a '+' sent unescaped in a query string
  }
  while (b64.size() % 4 != 0) b64.push_back('=');
  if (b64.empty() || b64.size() > 4096) return InvalidArgumentError("gitlab_info is missing or too long");
  std::string decoded(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return InvalidArgumentError("gitlab_info is not base64");
  // EVP_DecodeBlock counts padding bytes as output zeros; drop them.
  size_t pad = 0;
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++pad;
  decoded.resize(static_cast<size_t>(n) - std::min<size_t>(pad, static_cast<size_t>(n)));
  rapidjson::Document doc;
  doc.Parse(decoded.data(), decoded.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("gitlab_info is not a JSON object");
  auto v = doc.FindMember("version");
  if (v == doc.MemberEnd() || !v->value.IsString() || v->value.GetStringLength() == 0) {
    return InvalidArgumentError("gitlab_info has no \"version\"");
  }
  return std::string(v->value.GetString(), v->value.GetStringLength());
}

VersionCheck CheckVersion(const std::string& installed, const std::vector<VersionRow>& versions) {
  VersionCheck out;
  // Newest patch per major.minor.
  std::map<std::pair<long, long>, std::string> newest_per_series;
  const VersionRow* mine = nullptr;
  for (const VersionRow& row : versions) {
    if (CompareVersions(row.version, installed) == 0) mine = &row;
    ParsedVersion p = Parse(row.version);
    if (p.prerelease) continue;
    auto key = std::make_pair(p.parts[0], p.parts[1]);
    auto it = newest_per_series.find(key);
    if (it == newest_per_series.end() || CompareVersions(row.version, it->second) > 0) {
      newest_per_series[key] = row.version;
    }
    if (out.latest_version.empty() || CompareVersions(row.version, out.latest_version) > 0) {
      out.latest_version = row.version;
    }
  }
  for (auto it = newest_per_series.rbegin(); it != newest_per_series.rend() && out.latest_stable_versions.size() < 3;
       ++it) {
    out.latest_stable_versions.push_back(it->second);
  }
  bool newer_exists = !out.latest_version.empty() && CompareVersions(out.latest_version, installed) > 0;
  if (mine != nullptr && mine->vulnerable && mine->critical) {
    out.severity = "danger";
    out.critical_vulnerability = true;
    out.details = "Version " + installed + " has a critical vulnerability: update to " +
                  (newer_exists ? out.latest_version : std::string("a fixed version")) + " as soon as possible.";
  } else if (mine != nullptr && mine->vulnerable) {
    out.severity = "warning";
    out.details = "Version " + installed + " has a known vulnerability: update to " +
                  (newer_exists ? out.latest_version : std::string("a fixed version")) + ".";
  } else if (newer_exists) {
    out.severity = "warning";
    out.details = "Version " + out.latest_version + " is available.";
  } else {
    out.severity = "success";
    out.details = "Version " + installed + " is up to date.";
  }
  return out;
}

std::string VersionCheckJson(const VersionCheck& c) {
  std::string out = "{\"latest_stable_versions\":[";
  for (size_t i = 0; i < c.latest_stable_versions.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(&out, c.latest_stable_versions[i]);
  }
  out += "],\"latest_version\":";
  AppendJsonString(&out, c.latest_version);
  out += ",\"severity\":";
  AppendJsonString(&out, c.severity);
  out += ",\"critical_vulnerability\":";
  out += c.critical_vulnerability ? "true" : "false";
  out += ",\"details\":";
  AppendJsonString(&out, c.details);
  out += '}';
  return out;
}

std::string VersionBadgeSvg(const VersionCheck& c) {
  std::string text = "up-to-date";
  std::string color = "#4c1";
  int width = 70;
  if (c.severity == "danger") {
    text = "update asap";
    color = "#e05d44";
    width = 78;
  } else if (c.severity == "warning") {
    text = "update available";
    color = "#fe7d37";
    width = 102;
  }
  std::string w = std::to_string(width);
  std::string x = std::to_string(width / 2);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"20\" role=\"img\" aria-label=\"" +
         text + "\"><title>" + text + "</title><rect width=\"" + w + "\" height=\"20\" rx=\"3\" fill=\"" + color +
         "\"/><text x=\"" + x +
         "\" y=\"14\" fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\" "
         "text-anchor=\"middle\">" +
         text + "</text></svg>";
}

}  // namespace furrow::receiver
