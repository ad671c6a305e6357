// The YAML configuration file (--config FILE) and how it meets the command line.
//
// A config file holds option values by their long names with '_' for '-':
//
//   data_dir: /var/lib/furrow      # applies to every command that has --data-dir
//   log_format: json
//   collector:                      # a section applies to that command only and
//     port: 8080                    # wins over the top level
//     cookie_domains: [example.com] # lists for options that take several values
//   pipeline:
//     port: 8080
//
// Precedence: command line > command section > top level > built-in default.
// A key in a command's own section that names no option of that command is an
// error (a typo must not be silently ignored); top-level keys that the command
// does not have are allowed, so one file can configure several commands.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/status.h"

namespace furrow::app {

// Applies `path` to the options of `command` (whose section name is
// `section`, e.g. "collector" or "ping.send") that the command line did not set.
[[nodiscard]] Status ApplyConfigFile(const std::string& path, const std::string& section,
                                     CLI::App* command);

}  // namespace furrow::app
