// podagent: dispatches to one subcommand (agent/cli/cmd_*.cc).

#include <cstdio>
#include <span>
#include <string_view>

#include "agent/cli/commands.h"

int main(int argc, char** argv) {
  using namespace podagent::cli;
  if (argc < 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  const std::string_view command = argv[1];
  const std::span<char* const> rest(argv + 2, static_cast<size_t>(argc - 2));
  if (command == "run") return run_command(rest);
  if (command == "validate") return validate_command(rest);
  if (command == "config") return config_command(rest);
  if (command == "get") return get_command(rest);
  if (command == "describe") return describe_command(rest);
  if (command == "apply") return apply_command(rest);
  if (command == "delete") return delete_command(rest);
  if (command == "logs") return logs_command(rest);
  if (command == "exec") return exec_command(rest);
  if (command == "debug") return debug_command(rest);
  if (command == "soak") return soak_command(rest);
  if (command == "image") return image_command(rest);
  if (command == "version" || command == "--version") return version_command(rest);
  if (command == "help" || command == "--help" || command == "-h") return help_command(rest);
  std::fprintf(stderr, "podagent: unknown command \"%.*s\"\n\n", static_cast<int>(command.size()),
               command.data());
  print_usage(stderr);
  return kExitUsage;
}
