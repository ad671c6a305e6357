// furrow: one binary, many commands. See `furrow --help`.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "app/command.h"
#include "app/commands.h"
#include "app/config_file.h"
#include "app/signals.h"
#include "core/logging.h"

namespace {

// The chosen command's path ("collector", "ping.send") and its App.
std::pair<std::string, CLI::App*> ChosenCommand(CLI::App& app) {
  std::string path;
  CLI::App* current = &app;
  while (true) {
    auto subs = current->get_subcommands();
    if (subs.empty()) break;
    current = subs.front();
    if (!path.empty()) path += '.';
    path += current->get_name();
  }
  return {path, current};
}

}  // namespace

int main(int argc, char** argv) {
  furrow::app::BlockTerminationSignals();

  CLI::App app{"furrow: privacy-first product analytics infrastructure"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  std::string config_path;
  std::string log_format = "human";
  std::string log_level = "info";
  app.add_option("--config", config_path, "YAML configuration file (see docs/configuration.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--log-format", log_format, "Log format: human or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", log_level, "Log level: debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  // Global options may also follow the command name.
  app.fallthrough();

  furrow::app::Commands commands;
  furrow::app::RegisterVersionCommand(app, commands);
  furrow::app::RegisterPingCommands(app, commands);
  furrow::app::RegisterPingPullCommand(app, commands);
  furrow::app::RegisterCollectorCommand(app, commands);
  furrow::app::RegisterEnrichCommand(app, commands);
  furrow::app::RegisterPseudonymizeCommands(app, commands);
  furrow::app::RegisterSinkCommand(app, commands);
  furrow::app::RegisterPipelineCommand(app, commands);
  furrow::app::RegisterStreamCommands(app, commands);
  furrow::app::RegisterReceiverCommands(app, commands);
  furrow::app::RegisterWarehouseCommands(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto [path, chosen] = ChosenCommand(app);
  if (!config_path.empty()) {
    furrow::Status s = furrow::app::ApplyConfigFile(config_path, path, chosen);
    if (s.ok()) s = furrow::app::ApplyConfigFile(config_path, "", &app);
    if (!s.ok()) {
      std::fprintf(stderr, "furrow: %s\n", s.message().c_str());
      return furrow::app::kExitUsage;
    }
  }
  furrow::log::Format format;
  furrow::log::Level level;
  furrow::log::ParseFormat(log_format, &format);
  furrow::log::ParseLevel(log_level, &level);
  furrow::log::Init(format, level);

  const auto* run = commands.Find(chosen);
  if (run == nullptr) {
    std::fprintf(stderr, "%s", chosen->help().c_str());
    return furrow::app::kExitUsage;
  }
  return (*run)();
}
