// How commands are declared and run. Only src/app wires parts together.
//
// Each command file defines one `Register...Command(CLI::App& parent, Commands& commands)`
// that adds its CLI11 subcommand, binds its options to an options struct it owns
// (static storage), and registers a runner. main() parses the command line, applies
// the YAML config file to options the command line did not set, and calls the
// runner of the chosen command. A runner returns the process exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>

namespace furrow::app {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class Commands {
 public:
  void SetRunner(CLI::App* command, std::function<int()> run) { runners_[command] = std::move(run); }
  // The runner of the deepest parsed subcommand, or nullptr.
  const std::function<int()>* Find(CLI::App* command) const {
    auto it = runners_.find(command);
    return it == runners_.end() ? nullptr : &it->second;
  }

 private:
  std::map<CLI::App*, std::function<int()>> runners_;
};

// --data-dir DIR (default ./var).
void AddDataDirOption(CLI::App* command, std::string* data_dir);
// --port N (0 picks a free port) and --bind ADDRESS (default 0.0.0.0).
void AddListenOptions(CLI::App* command, int* port, std::string* bind, int default_port);

// The address to print in "listening on ADDRESS:PORT" for a bind address.
std::string DisplayAddress(const std::string& bind);

// Prints "listening on ADDRESS:PORT" on stdout and flushes, so that scripts and
// tests can read the chosen port.
void AnnounceListening(const std::string& bind, int port);

}  // namespace furrow::app
