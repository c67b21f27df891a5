// podagent config [flags]: prints the configuration `run` would use with the
// same flags, as YAML in the form of config/podagent.yaml.

#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/cli/flags.h"

namespace podagent::cli {

int config_command(std::span<char* const> args) {
  std::vector<FlagSpec> specs = kConfigFlags;
  specs.push_back({"--help", "-h", false});
  auto parsed = parse_flags(args, specs);
  if (!parsed || !parsed->positional.empty()) {
    std::fprintf(stderr, "podagent config: %s\n",
                 parsed ? "takes no arguments" : parsed.error().to_string().c_str());
    return kExitUsage;
  }
  if (parsed->has("--help")) {
    std::printf("Usage: podagent config [flags]\n\nPrints the effective configuration.\n\n%.*s",
                static_cast<int>(kConfigFlagsHelp.size()), kConfigFlagsHelp.data());
    return kExitOk;
  }
  auto loaded = load_config_or_report(*parsed);
  if (!loaded) return kExitFailure;
  std::printf("# source: %s\n%s", loaded->source.c_str(),
              config::render_config_yaml(*loaded->config).c_str());
  return kExitOk;
}

}  // namespace podagent::cli
