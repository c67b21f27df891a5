// podagent validate [-o json|yaml] FILE...: checks Pod manifests as the agent
// would read them (decode, apply the API server's defaults, validate) and
// prints every problem as
//   FILE: error: [WHERE: ]FIELD: MESSAGE
//   FILE: warning: [WHERE: ]FIELD: MESSAGE
// on stderr, WHERE naming the document or List item when the file holds
// several pods. Without -o, each valid file gets "FILE: ok (N pods)" on
// stdout; with -o, stdout gets the defaulted pods (one Pod, or a v1 List),
// and only when every file is valid, so that a redirect never captures a
// partial result.

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/cli/commands.h"
#include "agent/cli/flags.h"
#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::cli {
namespace {

// The whole of `path` ("-": stdin), or why not.
base::Result<std::string> read_input(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) return base::Error(std::strerror(errno));
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const int error = std::ferror(file) != 0 ? errno : 0;
  if (file != stdin) std::fclose(file);
  if (error != 0) return base::Error(std::strerror(error));
  return text;
}

class Report {
 public:
  explicit Report(std::string file) : file_(std::move(file)) {}

  void error(std::string_view where, const std::string& text) {
    line("error", where, text);
    ++errors_;
  }
  void warning(std::string_view where, const std::string& text) { line("warning", where, text); }
  int errors() const { return errors_; }

 private:
  void line(const char* severity, std::string_view where, const std::string& text) {
    std::fprintf(stderr, "%s: %s: %s%s%s\n", file_.c_str(), severity, std::string(where).c_str(),
                 where.empty() ? "" : ": ", text.c_str());
  }
  std::string file_;
  int errors_ = 0;
};

// Whether `field` is `error.field` or inside it, for some error of `errors`.
bool is_under_any(std::string_view field, const model::FieldErrors& errors) {
  for (const model::FieldError& e : errors) {
    if (!field.starts_with(e.field)) continue;
    if (field.size() == e.field.size() || field[e.field.size()] == '.' ||
        field[e.field.size()] == '[')
      return true;
  }
  return false;
}

// A pod with decoding errors is still validated, so that one run reports
// every problem, unless it is not a Pod at all. Validation errors about a
// field that failed to decode are left out: they would only repeat it.
bool validatable(const model::DecodedPod& d) {
  for (const model::FieldError& e : d.errors)
    if (e.field.empty() || e.field == "kind" || e.field == "apiVersion") return false;
  return true;
}

// Checks one file; appends its valid, defaulted pods to `pods`. Returns
// whether the file is valid.
bool validate_file(const std::string& file, std::vector<model::Pod>& pods) {
  Report report(file);
  auto text = read_input(file);
  if (!text) {
    report.error("", "cannot read: " + text.error().message);
    return false;
  }
  model::DecodeResult decoded = model::decode_pods(*text);
  for (const model::FieldError& e : decoded.errors) report.error("", e.to_string());
  std::vector<model::Pod> valid;
  for (model::DecodedPod& d : decoded.pods) {
    for (const model::FieldError& w : d.warnings) report.warning(d.where, w.to_string());
    for (const model::FieldError& e : d.errors) report.error(d.where, e.to_string());
    if (!validatable(d)) continue;
    model::apply_defaults(d.pod);
    model::FieldErrors errors = model::validate_pod(d.pod);
    for (const model::FieldError& e : errors)
      if (!is_under_any(e.field, d.errors)) report.error(d.where, e.to_string());
    if (errors.empty() && d.errors.empty()) valid.push_back(std::move(d.pod));
  }
  if (decoded.errors.empty() && decoded.pods.empty()) report.warning("", "no pods in file");
  if (report.errors() > 0) return false;
  for (model::Pod& pod : valid) pods.push_back(std::move(pod));
  return true;
}

std::string render(const std::vector<model::Pod>& pods, const std::string& format) {
  model::Node out;
  if (pods.size() == 1) {
    out = model::encode_pod(pods.front());
  } else {
    out = model::Node::map();
    out.set("apiVersion", model::Node::string("v1"));
    out.set("kind", model::Node::string("List"));
    model::Node items = model::Node::sequence();
    for (const model::Pod& pod : pods) items.push(model::encode_pod(pod));
    out.set("items", std::move(items));
  }
  if (format == "json") return model::to_json(out, /*pretty=*/true) + "\n";
  std::string yaml = model::to_yaml(out);
  if (!yaml.empty() && yaml.back() != '\n') yaml += '\n';
  return yaml;
}

constexpr std::string_view kUsage =
    "Usage: podagent validate [-o json|yaml] FILE...\n\n"
    "Checks Pod manifests (YAML or JSON; a Pod, a List of pods, or several\n"
    "'---' documents) as podagent reads them: decoding, Kubernetes defaults and\n"
    "validation. '-' reads stdin. Exit status: 0 all valid, 1 some file invalid,\n"
    "2 usage error.\n\n"
    "  -o, --output FORMAT  print the defaulted pods as json or yaml (only when all are valid)\n";

}  // namespace

int validate_command(std::span<char* const> args) {
  static const FlagSpec kSpecs[] = {{"--output", "-o", true}, {"--help", "-h", false}};
  auto parsed = parse_flags(args, kSpecs);
  std::string problem;
  if (!parsed) {
    problem = parsed.error().to_string();
  } else if (parsed->has("--help")) {
    std::fputs(kUsage.data(), stdout);
    return kExitOk;
  } else if (parsed->positional.empty()) {
    problem = "no FILE given";
  } else if (std::string o = parsed->value("--output");
             parsed->has("--output") && o != "json" && o != "yaml") {
    problem = "-o wants json or yaml, not \"" + o + "\"";
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "podagent validate: %s\n\n%s", problem.c_str(), kUsage.data());
    return kExitUsage;
  }

  const std::string format = parsed->value("--output");
  std::vector<model::Pod> pods;
  bool all_valid = true;
  for (const std::string& file : parsed->positional) {
    const size_t before = pods.size();
    if (!validate_file(file, pods)) {
      all_valid = false;
    } else if (format.empty()) {
      const size_t n = pods.size() - before;
      std::printf("%s: ok (%zu pod%s)\n", file.c_str(), n, n == 1 ? "" : "s");
    }
  }
  if (!format.empty() && all_valid && !pods.empty())
    std::fputs(render(pods, format).c_str(), stdout);
  return all_valid ? kExitOk : kExitFailure;
}

}  // namespace podagent::cli
