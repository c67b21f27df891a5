#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/runtime.h"

// Pod networking through CNI (Container Network Interface, spec 1.0): the
// runtime side of the plugin protocol. A network list (a *.conflist, or a
// single-plugin *.conf) names plugins; ADD runs them in order, each given
// the previous one's result, DEL in reverse order. A plugin is a program
// found in the bin dirs, given its command and the container in the
// environment (CNI_*) and its configuration as JSON on stdin; it answers
// with a JSON result, or an error {code, msg, details} and a non-zero exit.
//
// The network list and the attachment used for ADD are what DEL needs: the
// backend stores them (encode_cni_state) beside the sandbox's record, so
// that DEL runs with the same plugins and configuration after an agent
// restart, even if the conflist changed since.
namespace podagent::runtime::oci {

struct CniOptions {
  // Where the network lists are; empty: no CNI (pods get loopback only).
  std::filesystem::path conf_dir;
  // Where plugins are looked up, in order (CNI_PATH).
  std::vector<std::filesystem::path> bin_dirs;
  // A plugin still running at this point is killed and its call fails.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// A network list: its name and version, and each plugin's configuration as
// the list gives it (a JSON object's text, with at least "type").
struct CniNetwork {
  std::string name;
  std::string cni_version;
  std::vector<std::string> plugins;
  std::string source;  // the file it was loaded from (for messages)
  bool operator==(const CniNetwork&) const = default;
};

// A pod's hostPort, for the portmap plugin's runtimeConfig.portMappings.
struct CniPortMapping {
  int32_t host_port = 0;
  int32_t container_port = 0;
  std::string protocol;  // "tcp", "udp", "sctp" (lower case, as CNI has them)
  std::string host_ip;   // empty: every address
  bool operator==(const CniPortMapping&) const = default;
};

// The container being attached: what goes into CNI_* and runtimeConfig.
struct CniAttachment {
  std::string container_id;  // CNI_CONTAINERID: the sandbox's id
  std::string netns;         // CNI_NETNS: a path; empty for a DEL after it is gone
  std::string ifname = "eth0";
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  std::vector<CniPortMapping> port_mappings;
  bool operator==(const CniAttachment&) const = default;
};

// What is stored for DEL: the list, attachment and plugin directories of
// the ADD, and ADD's final result (empty until ADD completed).
struct CniState {
  CniNetwork network;
  CniAttachment attachment;
  std::vector<std::string> bin_dirs;
  std::string result;
  bool operator==(const CniState&) const = default;
};

// --- Pure parts ---

// Parses a network list (`single_plugin`: a *.conf holding one plugin's
// configuration, which becomes a list of one). Errors say what is wrong.
base::Result<CniNetwork> parse_cni_network(std::string_view text, bool single_plugin);

// The network list of `conf_dir`, as libcni picks it: the first file named
// *.conflist, *.conf or *.json in lexical order. nullopt when the directory
// is missing or holds none; an error names the file that does not parse.
base::Result<std::optional<CniNetwork>> load_cni_network(const std::filesystem::path& conf_dir);

// The plugins' stdin for plugin `index` of `network`: its configuration with
// the list's name and cniVersion, prevResult when given, and runtimeConfig
// holding the capabilities it declares ("portMappings" only).
std::string cni_plugin_input(const CniNetwork& network, size_t index,
                             const CniAttachment& attachment,
                             const std::optional<std::string>& prev_result);

// The CNI_* environment of a call ("ADD", "DEL", ...).
std::vector<std::string> cni_plugin_env(std::string_view command, const CniAttachment& attachment,
                                        const std::vector<std::filesystem::path>& bin_dirs);

// The addresses (without prefix length) of a result, for every CNI version
// in use (0.2's ip4/ip6, 0.3+'s ips): those of interfaces inside the
// container when the result says which those are, else all. An error when
// the text is not a JSON object.
base::Result<std::vector<std::string>> cni_result_ips(std::string_view result);

// The error of a failed plugin call: "CNI plugin bridge ADD: <msg>:
// <details>" from the JSON error on its stdout, else how it ended and its
// stderr.
base::Error cni_plugin_error(std::string_view type, std::string_view command, int exit_code,
                             bool timed_out, std::string_view stdout_text,
                             std::string_view stderr_text);

// The plugin type of a plugin configuration ("" when it has none).
std::string cni_plugin_type(std::string_view plugin_config);

// The first bin dir holding an executable `type`; an error saying where it
// was looked for.
base::Result<std::filesystem::path> find_cni_plugin(
    std::string_view type, const std::vector<std::filesystem::path>& bin_dirs);

std::string encode_cni_state(const CniState& state);
base::Result<CniState> decode_cni_state(std::string_view json);

// --- Plugin calls (child processes, through run_process) ---

// Runs ADD of every plugin in order, chaining results; returns the last
// plugin's result. When a plugin fails, the error is returned and nothing
// is undone: the caller runs cni_del (as the spec asks after a failed ADD).
Task<base::Result<std::string>> cni_add(boost::asio::any_io_executor executor,
                                        const CniOptions& options, const CniNetwork& network,
                                        const CniAttachment& attachment);

// Runs DEL of every plugin in reverse order, each given `prev_result` (ADD's
// result; empty: none). Every plugin is called even when one fails, so that
// what the others hold is released; the first error is returned.
Task<base::Status> cni_del(boost::asio::any_io_executor executor, const CniOptions& options,
                           const CniNetwork& network, const CniAttachment& attachment,
                           const std::string& prev_result);

}  // namespace podagent::runtime::oci
