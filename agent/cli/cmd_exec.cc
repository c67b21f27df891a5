// podagent exec POD [-c C] [-n NS] [--timeout N] -- COMMAND [ARG...]: runs a
// command in a pod's running container through the API's non-interactive
// exec (POST .../pods/POD/exec), prints its stdout and stderr to ours, and
// exits with its exit code, as `kubectl exec` does. No stdin, no tty.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "model/document.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent exec POD [-c CONTAINER] [-n NS] [--timeout SECONDS] -- COMMAND [ARG...]\n\n"
    "Runs a command in a running container of a pod, prints its output and exits\n"
    "with its exit code. There is no stdin and no terminal.\n\n"
    "  -n, --namespace NS      the namespace (default \"default\")\n"
    "  -c, --container NAME    the container (default: the pod's only one)\n"
    "      --timeout SECONDS   kill the command after this long (default 60)\n";

// What the agent answered: {"kind":"ExecResult","exitCode":N,...}.
struct Answer {
  int exit_code = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};

std::optional<Answer> decode_answer(const std::string& body) {
  auto docs = model::parse_documents(body);
  if (!docs || docs->size() != 1 || !docs->front().is_map()) return std::nullopt;
  const model::Node& n = docs->front();
  const model::Node* code = n.find("exitCode");
  if (!code) return std::nullopt;
  Answer a;
  a.exit_code = std::atoi(code->text.c_str());
  if (const model::Node* s = n.find("stdout")) a.out = s->text;
  if (const model::Node* s = n.find("stderr")) a.err = s->text;
  if (const model::Node* t = n.find("timedOut")) a.timed_out = t->text == "true";
  return a;
}

// The process's exit status for the command's: 1-255 stay, anything else
// that is not a success (negative, > 255, or 0 after a timeout) becomes 1.
int exit_status(const Answer& a) {
  if (a.exit_code > 0 && a.exit_code <= 255) return a.exit_code;
  return a.exit_code == 0 && !a.timed_out ? kExitOk : kExitFailure;
}

}  // namespace

int exec_command(std::span<char* const> args) {
  // Everything after "--" is the command, options included.
  size_t dashes = 0;
  while (dashes < args.size() && std::string_view(args[dashes]) != "--") ++dashes;
  const auto own = args.subspan(0, dashes);
  const auto command = args.subspan(std::min(dashes + 1, args.size()));
  const auto specs = client_flags(
      {{"--namespace", "-n", true}, {"--container", "-c", true}, {"--timeout", "", true}});
  auto parsed = parse_flags(own, specs);
  if (!parsed) return usage_error("exec", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (parsed->positional.size() != 1 || command.empty())
    return usage_error("exec", "want: POD -- COMMAND [ARG...]", kUsage);
  long long timeout = 60;
  if (parsed->has("--timeout")) {
    const std::string text = parsed->value("--timeout");
    char* end = nullptr;
    timeout = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || timeout <= 0)
      return usage_error("exec", "--timeout wants seconds (1 or more)", kUsage);
  }
  std::string query = "?timeoutSeconds=" + std::to_string(timeout);
  if (parsed->has("--container"))
    query += "&container=" + agent::url_escape(parsed->value("--container"));
  for (const char* word : command) query += "&command=" + agent::url_escape(word);

  auto made = make_client(*parsed);
  if (!made) return kExitFailure;
  // The answer comes when the command has ended: wait past its timeout.
  agent::ApiClientOptions options;
  options.socket_path = made->socket_path();
  options.timeout = std::chrono::seconds(timeout + 30);
  const agent::ApiClient client(std::move(options));
  const std::string ns = parsed->value("--namespace", "default");
  auto response = call(client, agent::client_request(
                                   "POST", pods_path(ns, parsed->positional[0]) + "/exec" + query));
  if (!response) return kExitFailure;
  if (response->status != 200) return report_api_error(*response);
  auto answer = decode_answer(response->body);
  if (!answer) {
    std::fprintf(stderr, "podagent exec: cannot read the agent's answer: %s\n",
                 response->body.c_str());
    return kExitFailure;
  }
  std::fwrite(answer->out.data(), 1, answer->out.size(), stdout);
  std::fflush(stdout);
  std::fwrite(answer->err.data(), 1, answer->err.size(), stderr);
  if (answer->timed_out)
    std::fprintf(stderr, "podagent exec: the command was killed after %lld s\n", timeout);
  return exit_status(*answer);
}

}  // namespace podagent::cli
