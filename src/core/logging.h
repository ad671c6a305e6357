// Structured logging: one line per event, human-readable or JSON lines.
//
//   log::Info("listening", {{"address", "127.0.0.1"}, {"port", 8080}});
//
// Human:  2026-11-25T10:00:00.123Z info listening address=127.0.0.1 port=8080
// JSON:   {"ts":"2026-11-25T10:00:00.123Z","level":"info","msg":"listening","address":"127.0.0.1","port":8080}
//
// Logs go to stderr (stdout is reserved for command output such as
// "listening on 127.0.0.1:PORT"). Safe for concurrent use. Never log secrets or clear
// personal data: values passed here end up in files operators read.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace furrow::log {

enum class Format { kHuman, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

// A key and a value; numbers and booleans are written unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, uint64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), quoted(false) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}

  std::string_view key;
  std::string value;
  bool quoted = true;
};

// Configures the process-wide logger. Call once from main; before that, logs use
// the human format at info level.
void Init(Format format, Level level);

// Parses "human"/"json" and "debug"/"info"/"warn"/"error"; false if unknown.
bool ParseFormat(std::string_view text, Format* out);
bool ParseLevel(std::string_view text, Level* out);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields);

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

// Renders one line without writing it (used by Write and by tests).
std::string FormatLine(Format format, Level level, std::string_view timestamp,
                       std::string_view msg, std::initializer_list<Field> fields);

}  // namespace furrow::log
