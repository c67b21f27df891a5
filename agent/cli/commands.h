#pragma once

#include <cstdio>
#include <span>
#include <string_view>

// The subcommands of the podagent binary. Each takes the words after its
// name and returns the process's exit status: 0 success, 1 failure (invalid
// input, invalid config), 2 usage error.
namespace podagent::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_command(std::span<char* const> args);       // cmd_run.cc
int validate_command(std::span<char* const> args);  // cmd_validate.cc
int config_command(std::span<char* const> args);    // cmd_config.cc
int version_command(std::span<char* const> args);   // cmd_help.cc
int help_command(std::span<char* const> args);      // cmd_help.cc
// Clients of a running agent's API socket (client_common.h).
int get_command(std::span<char* const> args);       // cmd_get.cc
int describe_command(std::span<char* const> args);  // cmd_describe.cc
int apply_command(std::span<char* const> args);     // cmd_apply.cc
int delete_command(std::span<char* const> args);    // cmd_delete.cc
int logs_command(std::span<char* const> args);      // cmd_logs.cc
int exec_command(std::span<char* const> args);      // cmd_exec.cc
int debug_command(std::span<char* const> args);     // cmd_debug.cc
int soak_command(std::span<char* const> args);      // cmd_soak.cc
// The local image store, used directly.
int image_command(std::span<char* const> args);     // cmd_image.cc

// The program's version ("0.1.0").
std::string_view version();
// Prints the overview of all subcommands.
void print_usage(std::FILE* out);

}  // namespace podagent::cli
