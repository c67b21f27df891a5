#include "agent/cli/flags.h"

#include <algorithm>
#include <cstdio>

namespace podagent::cli {
namespace {

const FlagSpec* find_spec(std::span<const FlagSpec> specs, std::string_view word) {
  for (const FlagSpec& spec : specs)
    if (word == spec.name || (!spec.short_name.empty() && word == spec.short_name)) return &spec;
  return nullptr;
}

// A named flag and the config field it sets, as a literal string.
struct FieldFlag {
  std::string_view flag;
  std::string_view field;
};
constexpr FieldFlag kFieldFlags[] = {
    {"--node-name", "nodeName"}, {"--manifest-dir", "manifestDir"},
    {"--state-dir", "stateDir"}, {"--pod-logs-dir", "podLogsDir"},
    {"--socket", "api.socket"},  {"--runtime", "runtime.backend"},
    {"--log-level", "logLevel"},
};

}  // namespace

bool ParsedArgs::has(std::string_view name) const {
  return std::any_of(flags.begin(), flags.end(), [&](const auto& f) { return f.first == name; });
}

std::string ParsedArgs::value(std::string_view name, std::string fallback) const {
  for (auto it = flags.rbegin(); it != flags.rend(); ++it)
    if (it->first == name) return it->second;
  return fallback;
}

base::Result<ParsedArgs> parse_flags(std::span<char* const> args, std::span<const FlagSpec> specs) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view word = args[i];
    if (word == "--") {
      for (++i; i < args.size(); ++i) out.positional.emplace_back(args[i]);
      break;
    }
    if (word.size() < 2 || word[0] != '-') {
      out.positional.emplace_back(word);
      continue;
    }
    std::string_view name = word;
    std::optional<std::string_view> inline_value;
    if (word.starts_with("--")) {
      if (size_t eq = word.find('='); eq != std::string_view::npos) {
        name = word.substr(0, eq);
        inline_value = word.substr(eq + 1);
      }
    } else if (word.size() > 2) {  // "-ojson"
      name = word.substr(0, 2);
      inline_value = word.substr(2);
    }
    const FlagSpec* spec = find_spec(specs, name);
    if (spec == nullptr) return base::Error("unknown option " + std::string(name));
    if (!spec->takes_value) {
      if (inline_value) return base::Error("option " + std::string(name) + " takes no value");
      out.flags.emplace_back(spec->name, "");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size())
        return base::Error("option " + std::string(name) + " needs a value");
      inline_value = args[++i];
    }
    out.flags.emplace_back(spec->name, *inline_value);
  }
  return out;
}

const std::vector<FlagSpec> kConfigFlags = {
    {"--config", "-c", true},  {"--node-name", "", true},    {"--manifest-dir", "", true},
    {"--state-dir", "", true}, {"--pod-logs-dir", "", true}, {"--socket", "", true},
    {"--runtime", "", true},   {"--log-level", "", true},    {"--set", "", true},
};

const std::string_view kConfigFlagsHelp =
    "  -c, --config FILE      the configuration file (default /etc/podagent/config.yaml;\n"
    "                         when that is absent, the embedded defaults)\n"
    "      --node-name NAME   nodeName (default: the host name, lowercased)\n"
    "      --manifest-dir DIR manifestDir (default /etc/podagent/manifests)\n"
    "      --state-dir DIR    stateDir (default /var/lib/podagent)\n"
    "      --pod-logs-dir DIR podLogsDir (default /var/log/pods)\n"
    "      --socket PATH      api.socket (default /run/podagent/podagent.sock)\n"
    "      --runtime NAME     runtime.backend: oci (default) or fake\n"
    "      --log-level LEVEL  logLevel: error, warning, info (default) or debug\n"
    "      --set PATH=VALUE   any field of config/podagent.yaml, VALUE read as YAML\n"
    "                         (--set crashLoopBackOff.initial=1s --set 'cni.binDirs=[/a, /b]')\n"
    "  Flags override the file, later flags earlier ones.\n";

base::Result<config::LoadOptions> config_options(const ParsedArgs& args) {
  config::LoadOptions options;
  for (const auto& [name, value] : args.flags) {
    if (name == "--config") {
      options.path = value;
    } else if (name == "--set") {
      auto o = config::parse_set_flag(value);
      if (!o) return o.error();
      options.overrides.push_back(std::move(*o));
    } else {
      for (const FieldFlag& f : kFieldFlags)
        if (name == f.flag) options.overrides.push_back({std::string(f.field), value, false});
    }
  }
  return options;
}

std::optional<config::LoadedConfig> load_config_or_report(const ParsedArgs& args) {
  auto options = config_options(args);
  if (!options) {
    std::fprintf(stderr, "podagent: %s\n", options.error().to_string().c_str());
    return std::nullopt;
  }
  config::LoadedConfig loaded = config::load_config(*options);
  if (loaded.ok()) return loaded;
  std::fprintf(stderr, "podagent: invalid configuration (%s), not starting:\n",
               loaded.source.c_str());
  for (const base::Error& e : loaded.errors) std::fprintf(stderr, "  %s\n", e.to_string().c_str());
  return std::nullopt;
}

}  // namespace podagent::cli
