// podagent debug POD --image IMG [--target C] [--name N] [-n NS] [-- CMD...]:
// adds an ephemeral container to a running pod through the API (a
// strategic merge patch of .../pods/POD/ephemeralcontainers, as `kubectl
// debug` sends it) and prints its name. The container runs in the pod's
// namespaces, in the target container's PID namespace with --target, once,
// and is never restarted; its output is read with `podagent logs POD -c N`.

#include <cstdio>
#include <random>
#include <string_view>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "model/document.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent debug POD --image IMAGE [--target CONTAINER] [--name NAME] [-n NS]\n"
    "                          [-- COMMAND [ARG...]]\n\n"
    "Adds an ephemeral container to a running pod and prints its name. It runs once\n"
    "(never restarted) in the pod's network, IPC and UTS namespaces; with --target,\n"
    "in that container's PID namespace too, so that it sees its processes.\n\n"
    "  -n, --namespace NS      the namespace (default \"default\")\n"
    "      --image IMAGE       the image of the debug container (required)\n"
    "      --target NAME       the container whose processes it shares\n"
    "      --name NAME         its name (default debugger-<5 random characters>)\n";

// kubectl's default name: "debugger-" and five characters of Kubernetes'
// random-name alphabet (no vowels, no 0, 1 or 3).
std::string default_name() {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device random;
  std::string out = "debugger-";
  for (int i = 0; i < 5; ++i) out += kAlphabet[random() % kAlphabet.size()];
  return out;
}

std::string patch_body(const std::string& name, const std::string& image, const std::string& target,
                       std::span<char* const> command) {
  model::Node c = model::Node::map();
  c.set("name", model::Node::string(name));
  c.set("image", model::Node::string(image));
  if (!command.empty()) {
    model::Node& words = c.set("command", model::Node::sequence());
    for (const char* w : command) words.push(model::Node::string(w));
  }
  if (!target.empty()) c.set("targetContainerName", model::Node::string(target));
  c.set("terminationMessagePolicy", model::Node::string("File"));
  model::Node body = model::Node::map();
  body.set("spec", model::Node::map())
      .set("ephemeralContainers", model::Node::sequence())
      .push(std::move(c));
  return model::to_json(body);
}

}  // namespace

int debug_command(std::span<char* const> args) {
  // Everything after "--" is the command, options included.
  size_t dashes = 0;
  while (dashes < args.size() && std::string_view(args[dashes]) != "--") ++dashes;
  const auto own = args.subspan(0, dashes);
  const auto command = args.subspan(std::min(dashes + 1, args.size()));
  const auto specs = client_flags({{"--namespace", "-n", true},
                                   {"--image", "", true},
                                   {"--target", "", true},
                                   {"--name", "", true}});
  auto parsed = parse_flags(own, specs);
  if (!parsed) return usage_error("debug", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (parsed->positional.size() != 1) return usage_error("debug", "want: POD", kUsage);
  if (parsed->value("--image").empty()) return usage_error("debug", "--image is required", kUsage);
  const std::string name = parsed->has("--name") ? parsed->value("--name") : default_name();

  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  const std::string ns = parsed->value("--namespace", "default");
  agent::ClientRequest request = agent::client_request(
      "PATCH", pods_path(ns, parsed->positional[0]) + "/ephemeralcontainers",
      patch_body(name, parsed->value("--image"), parsed->value("--target"), command));
  request.content_type = "application/strategic-merge-patch+json";
  auto response = call(*client, request);
  if (!response) return kExitFailure;
  if (response->status != 200) return report_api_error(*response);
  std::printf("%s\n", name.c_str());
  return kExitOk;
}

}  // namespace podagent::cli
