#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api_client.h"
#include "agent/cli/flags.h"
#include "base/result.h"
#include "model/pod.h"

// What the client subcommands (get, describe, apply, delete, logs) share:
// finding the agent's socket, the pods URLs, and kubectl's way of reporting
// a failed call.
namespace podagent::cli {

// --socket PATH, --config FILE and --help; each command adds its own.
std::vector<FlagSpec> client_flags(std::vector<FlagSpec> own);
// The help text of client_flags' options.
extern const std::string_view kClientFlagsHelp;

// A client of the socket named by --socket, else by the configuration's
// api.socket (--config FILE, or the default file, or the embedded default).
// On a configuration error prints it and returns nullopt.
std::optional<agent::ApiClient> make_client(const ParsedArgs& args);

// "/api/v1/namespaces/NS/pods[/NAME]".
std::string pods_path(std::string_view ns, std::string_view name = {});
// "/api/v1/namespaces/NS/RESOURCE[/NAME]", RESOURCE a plural such as
// "configmaps" or "secrets"; NS and NAME URL-escaped.
std::string objects_path(std::string_view resource, std::string_view ns,
                         std::string_view name = {});

// Sends `request`; on a transport error prints "podagent: <error>" and
// returns nullopt. An HTTP error status is returned as a response.
std::optional<agent::ClientResponse> call(const agent::ApiClient& client,
                                          const agent::ClientRequest& request);

// Prints api_error_text(response) to stderr; returns kExitFailure.
int report_api_error(const agent::ClientResponse& response);

// The pods of a Pod or PodList body, or why they cannot be read.
base::Result<std::vector<model::Pod>> decode_api_pods(const std::string& body);

// Prints "podagent <command>: <problem>", a blank line and `usage` to
// stderr; returns kExitUsage.
int usage_error(std::string_view command, const std::string& problem, std::string_view usage);

}  // namespace podagent::cli
