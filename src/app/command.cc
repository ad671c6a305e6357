#include "app/command.h"

#include <cstdio>

namespace furrow::app {

void AddDataDirOption(CLI::App* command, std::string* data_dir) {
  command->add_option("--data-dir", *data_dir, "Directory for streams, keys, state and the local lake")
      ->capture_default_str();
}

void AddListenOptions(CLI::App* command, int* port, std::string* bind, int default_port) {
  *port = default_port;
  command->add_option("--port", *port, "TCP port to listen on; 0 picks a free port")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  command->add_option("--bind", *bind, "Address to listen on")->capture_default_str();
}

std::string DisplayAddress(const std::string& bind) {
  if (bind.empty() || bind == "0.0.0.0") return "127.0.0.1";
  if (bind == "::") return "[::1]";
  if (bind.find(':') != std::string::npos) return "[" + bind + "]";
  return bind;
}

void AnnounceListening(const std::string& bind, int port) {
  std::printf("listening on %s:%d\n", DisplayAddress(bind).c_str(), port);
  std::fflush(stdout);
}

}  // namespace furrow::app
