// The network user id cookie (default name "sp") and request cookie parsing.
//
// Domain rule (Snowplow-compatible): the cookie's Domain is the first configured
// domain that equals the host of the request's Origin, or is a parent of it
// (leading dots ignored); if none matches, or there is no Origin, the fallback
// domain; if that is empty, no Domain attribute (a host-only cookie).
// Pure functions; safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace furrow::collector {

struct CookieOptions {
  bool enabled = true;                       // set the cookie at all
  std::string name = "sp";                   // cookie name
  std::chrono::seconds expiration{365 * 24 * 3600};  // 365 days
  std::vector<std::string> domains;          // candidate Domain values, in order; default none
  std::string fallback_domain;               // Domain when none matches; default none
  bool secure = true;                        // "Secure"
  bool http_only = true;                     // "HttpOnly"
  std::string same_site = "None";            // "SameSite=None"; empty omits the attribute
};

// The value of the first cookie named `name` in a Cookie header value
// ("a=1; sp=abc"), if any. Surrounding double quotes are removed.
std::optional<std::string_view> FindCookie(std::string_view cookie_header, std::string_view name);

// The host of an Origin header value ("https://www.example.com:8443" -> "www.example.com").
// Empty if the value has no host. An Origin holding several space-separated origins
// yields the host of each.
std::vector<std::string> OriginHosts(std::string_view origin);

// The Domain attribute per the rule above (empty: none). `origin` is the Origin
// header value, if any.
std::string SelectCookieDomain(const CookieOptions& options, std::optional<std::string_view> origin);

// "Thu, 25 Nov 2027 10:00:00 GMT" (RFC 7231 IMF-fixdate).
std::string FormatHttpDate(int64_t epoch_ms);

// The Set-Cookie header value for `value`, expiring options.expiration after `now_ms`.
std::string BuildSetCookie(const CookieOptions& options, std::string_view value,
                           std::string_view domain, int64_t now_ms);

// A Set-Cookie header value that deletes the cookie (empty value, Max-Age=0,
// Expires in 1970), with the same Domain and attributes.
std::string BuildExpiredCookie(const CookieOptions& options, std::string_view domain);

}  // namespace furrow::collector
