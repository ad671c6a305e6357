#include <cstdio>

#include "app/commands.h"
#include "core/version.h"

namespace furrow::app {

void RegisterVersionCommand(CLI::App& app, Commands& commands) {
  CLI::App* cmd = app.add_subcommand("version", "Print furrow's version");
  commands.SetRunner(cmd, [] {
    std::printf("furrow %s\n", kVersion);
    return kExitOk;
  });
}

}  // namespace furrow::app
