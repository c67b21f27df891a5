#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/agent_config.h"

namespace podagent::cli {

// One option a subcommand accepts: "--output" (and "-o"), with or without a
// value.
struct FlagSpec {
  std::string_view name;        // "--output"
  std::string_view short_name;  // "-o", or empty
  bool takes_value = false;
};

struct ParsedArgs {
  // In command-line order, by FlagSpec::name; "" value for switches.
  std::vector<std::pair<std::string, std::string>> flags;
  std::vector<std::string> positional;

  bool has(std::string_view name) const;
  // The last value given for `name`, or `fallback`.
  std::string value(std::string_view name, std::string fallback = {}) const;
};

// Reads `args` (the words after the subcommand): "--name value",
// "--name=value", "-o value", "-ovalue", switches, and positional words; "--"
// ends the options and a lone "-" is positional (stdin). Unknown options and
// missing values are errors whose message is fit for "podagent: <message>".
base::Result<ParsedArgs> parse_flags(std::span<char* const> args, std::span<const FlagSpec> specs);

// The options of `run` (and `config`) that shape the configuration.
extern const std::vector<FlagSpec> kConfigFlags;
// The help text of kConfigFlags, one "  --flag VALUE  meaning" line each.
extern const std::string_view kConfigFlagsHelp;
// Maps the parsed kConfigFlags to the loader's options, in order.
base::Result<config::LoadOptions> config_options(const ParsedArgs& args);

// Loads the configuration the flags describe. On failure prints every error
// to stderr ("podagent: invalid configuration (FILE):" then one
// "  field: message" line each) and returns nullopt; nothing of it is used.
std::optional<config::LoadedConfig> load_config_or_report(const ParsedArgs& args);

}  // namespace podagent::cli
