#include "collector/cookies.h"

#include <cstdio>
#include <ctime>

namespace furrow::collector {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view StripDot(std::string_view s) {
  while (!s.empty() && s.front() == '.') s.remove_prefix(1);
  return s;
}

bool DomainMatches(std::string_view host, std::string_view domain) {
  if (domain.empty()) return false;
  if (host == domain) return true;
  return host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

void AppendAttributes(const CookieOptions& options, std::string_view domain, std::string* out) {
  *out += "; Path=/";
  if (!domain.empty()) {
    *out += "; Domain=";
    *out += domain;
  }
  if (options.secure) *out += "; Secure";
  if (options.http_only) *out += "; HttpOnly";
  if (!options.same_site.empty()) {
    *out += "; SameSite=";
    *out += options.same_site;
  }
}

}  // namespace

std::optional<std::string_view> FindCookie(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = Trim(header.substr(pos, end - pos));
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && Trim(pair.substr(0, eq)) == name) {
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> OriginHosts(std::string_view origin) {
  std::vector<std::string> hosts;
  size_t pos = 0;
  while (pos < origin.size()) {
    size_t end = origin.find(' ', pos);
    if (end == std::string_view::npos) end = origin.size();
    std::string_view one = origin.substr(pos, end - pos);
    pos = end + 1;
    size_t scheme = one.find("://");
    if (scheme == std::string_view::npos) continue;
    std::string_view rest = one.substr(scheme + 3);
    size_t stop = rest.find_first_of("/?#");
    if (stop != std::string_view::npos) rest = rest.substr(0, stop);
    size_t at = rest.rfind('@');
    if (at != std::string_view::npos) rest = rest.substr(at + 1);
    std::string_view host;
    if (!rest.empty() && rest.front() == '[') {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) continue;
      host = rest.substr(1, close - 1);
    } else {
      host = rest.substr(0, rest.find(':'));
    }
    if (!host.empty()) hosts.push_back(LowerCopy(host));
  }
  return hosts;
}

std::string SelectCookieDomain(const CookieOptions& options, std::optional<std::string_view> origin) {
  if (origin && !options.domains.empty()) {
    std::vector<std::string> hosts = OriginHosts(*origin);
    for (const std::string& configured : options.domains) {
      std::string domain = LowerCopy(StripDot(configured));
      for (const std::string& host : hosts) {
        if (DomainMatches(host, domain)) return std::string(StripDot(configured));
      }
    }
  }
  return std::string(StripDot(options.fallback_domain));
}

std::string FormatHttpDate(int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string BuildSetCookie(const CookieOptions& options, std::string_view value,
                           std::string_view domain, int64_t now_ms) {
  std::string out;
  out.reserve(160);
  out += options.name;
  out += '=';
  out += value;
  out += "; Expires=";
  out += FormatHttpDate(now_ms + options.expiration.count() * 1000);
  out += "; Max-Age=";
  out += std::to_string(options.expiration.count());
  AppendAttributes(options, domain, &out);
  return out;
}

std::string BuildExpiredCookie(const CookieOptions& options, std::string_view domain) {
  std::string out = options.name;
  out += "=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0";
  AppendAttributes(options, domain, &out);
  return out;
}

}  // namespace furrow::collector
