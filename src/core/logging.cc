#include "core/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>

#include "core/json_escape.h"
#include "core/time_format.h"

namespace furrow::log {
namespace {

std::atomic<Format> g_format{Format::kHuman};
std::atomic<Level> g_level{Level::kInfo};

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

spdlog::logger& Logger() {
  // The sink writes whole preformatted lines; spdlog provides the locking.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("furrow",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

std::string NowTimestamp() {
  auto now = std::chrono::system_clock::now();
  return FormatIso8601Millis(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

Field::Field(std::string_view k, double v) : key(k), quoted(false) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  value = buf;
}

void Init(Format format, Level level) {
  g_format = format;
  g_level = level;
}

bool ParseFormat(std::string_view text, Format* out) {
  if (text == "human") *out = Format::kHuman;
  else if (text == "json") *out = Format::kJson;
  else return false;
  return true;
}

bool ParseLevel(std::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else return false;
  return true;
}

std::string FormatLine(Format format, Level level, std::string_view timestamp,
                       std::string_view msg, std::initializer_list<Field> fields) {
  std::string line;
  line.reserve(64 + msg.size());
  if (format == Format::kJson) {
    line += "{\"ts\":\"";
    line += timestamp;
    line += "\",\"level\":\"";
    line += LevelName(level);
    line += "\",\"msg\":";
    AppendJsonString(&line, msg);
    for (const Field& f : fields) {
      line += ',';
      AppendJsonString(&line, f.key);
      line += ':';
      if (f.quoted) AppendJsonString(&line, f.value);
      else line += f.value;
    }
    line += '}';
  } else {
    line += timestamp;
    line += ' ';
    line += LevelName(level);
    line += ' ';
    line += msg;
    for (const Field& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      if (f.quoted && NeedsQuotes(f.value)) AppendJsonString(&line, f.value);
      else line += f.value;
    }
  }
  return line;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLine(g_format.load(std::memory_order_relaxed), level, NowTimestamp(),
                                msg, fields);
  Logger().info(line);
}

}  // namespace furrow::log
