// podagent image import|ls|rm: the node's local image store
// (<stateDir>/images of the configuration), used directly, not through the
// agent's API: the store's lock and atomic index let this run beside a
// running agent, which sees an import at its next lookup.

#include <algorithm>
#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/cli/flags.h"
#include "runtime/oci/image_store.h"

namespace podagent::cli {
namespace {

namespace oci = runtime::oci;

constexpr std::string_view kUsage =
    "Usage:\n"
    "  podagent image import FILE|DIR [--name REF] [flags]\n"
    "      imports an OCI image archive (podman save --format oci-archive, skopeo\n"
    "      copy oci-archive:), an OCI image layout directory, or a docker save\n"
    "      archive; every digest is verified. --name tags the (single) image.\n"
    "  podagent image ls [flags]      lists the images\n"
    "  podagent image rm REF... [flags]\n"
    "      removes images (by name, id or id prefix) and the layers no other\n"
    "      image uses; refused while a container uses the image\n\n"
    "The store is <stateDir>/images of the configuration.\n\n";

// 1.03MB, as docker prints sizes (decimal units, three significant digits).
std::string human_size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.3g%s", value, kUnits[unit]);
  return text;
}

std::string short_id(const std::string& id) { return id.substr(id.find(':') + 1, 12); }

std::string joined_names(const oci::Image& image) {
  if (image.names.empty()) return "<none>";
  std::string out;
  for (const std::string& n : image.names) out += (out.empty() ? "" : ",") + n;
  return out;
}

int import_images(oci::ImageStore& store, const ParsedArgs& args) {
  if (args.positional.size() != 2) {
    std::fprintf(stderr, "podagent image import: want one FILE\n\n%s", kUsage.data());
    return kExitUsage;
  }
  std::optional<std::string> name;
  if (args.has("--name")) name = args.value("--name");
  auto images = store.import(args.positional[1], name);
  if (!images) {
    std::fprintf(stderr, "podagent image import: %s\n", images.error().to_string().c_str());
    return kExitFailure;
  }
  for (const oci::Image& image : *images)
    std::printf("imported %s %s\n", short_id(image.id).c_str(), joined_names(image).c_str());
  return kExitOk;
}

int list_images(const oci::ImageStore& store) {
  auto images = store.list();
  if (!images) {
    std::fprintf(stderr, "podagent image ls: %s\n", images.error().to_string().c_str());
    return kExitFailure;
  }
  std::vector<std::pair<std::string, std::string>> rows;  // names, the rest
  size_t width = 5;                                       // "NAMES"
  for (const oci::Image& image : *images) {
    rows.emplace_back(joined_names(image), human_size(image.size_bytes));
    width = std::max(width, rows.back().first.size());
  }
  std::printf("%-12s  %-*s  %s\n", "IMAGE ID", static_cast<int>(width), "NAMES", "SIZE");
  for (size_t i = 0; i < rows.size(); ++i)
    std::printf("%-12s  %-*s  %s\n", short_id((*images)[i].id).c_str(), static_cast<int>(width),
                rows[i].first.c_str(), rows[i].second.c_str());
  return kExitOk;
}

int remove_images(oci::ImageStore& store, const ParsedArgs& args) {
  if (args.positional.size() < 2) {
    std::fprintf(stderr, "podagent image rm: want at least one REF\n\n%s", kUsage.data());
    return kExitUsage;
  }
  int status = kExitOk;
  for (size_t i = 1; i < args.positional.size(); ++i) {
    const std::string& ref = args.positional[i];
    auto image = store.find(ref);
    auto removed = image ? store.remove(image->id) : base::Status(image.error());
    if (!removed) {
      std::fprintf(stderr, "podagent image rm: %s\n", removed.error().to_string().c_str());
      status = kExitFailure;
      continue;
    }
    std::printf("removed %s %s\n", short_id(image->id).c_str(), joined_names(*image).c_str());
  }
  return status;
}

}  // namespace

int image_command(std::span<char* const> args) {
  std::vector<FlagSpec> specs = kConfigFlags;
  specs.push_back({"--name", "", true});
  specs.push_back({"--help", "-h", false});
  auto parsed = parse_flags(args, specs);
  if (!parsed) {
    std::fprintf(stderr, "podagent image: %s\n\n%s", parsed.error().to_string().c_str(),
                 kUsage.data());
    return kExitUsage;
  }
  if (parsed->has("--help")) {
    std::printf("%s%.*s", kUsage.data(), static_cast<int>(kConfigFlagsHelp.size()),
                kConfigFlagsHelp.data());
    return kExitOk;
  }
  const std::string verb = parsed->positional.empty() ? "" : parsed->positional[0];
  if (verb != "import" && verb != "ls" && verb != "list" && verb != "rm" && verb != "remove") {
    std::fprintf(stderr, "podagent image: want import, ls or rm%s\n\n%s",
                 verb.empty() ? "" : (", not \"" + verb + "\"").c_str(), kUsage.data());
    return kExitUsage;
  }
  if (parsed->has("--name") && verb != "import") {
    std::fprintf(stderr, "podagent image %s: --name is for import\n", verb.c_str());
    return kExitUsage;
  }
  auto loaded = load_config_or_report(*parsed);
  if (!loaded) return kExitFailure;
  auto store = oci::ImageStore::open(std::filesystem::path(loaded->config->state_dir) / "images");
  if (!store) {
    std::fprintf(stderr, "podagent image: %s\n", store.error().to_string().c_str());
    return kExitFailure;
  }
  if (verb == "import") return import_images(*store, *parsed);
  if (verb == "ls" || verb == "list") return list_images(*store);
  return remove_images(*store, *parsed);
}

}  // namespace podagent::cli
