// The YAML config loader: any text is parsed into a valid Config or refused with
// std::invalid_argument naming where; what it accepts writes back (to_yaml) and reads the same.

#include <filesystem>
#include <stdexcept>
#include <string>

#include "app/config.h"
#include "fuzz/fuzz_targets.h"

namespace tmt::fuzz {

void config(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Config parsed;
  try {
    parsed = parse_config(text, "fuzz.yaml");
  } catch (const std::invalid_argument&) {
    return;
  }
  const std::string yaml = to_yaml(parsed);
  const Config again = parse_config(yaml, "fuzz round trip");  // must not throw
  require(to_yaml(again) == yaml, "to_yaml(parse_config(to_yaml(c))) == to_yaml(c)");
}

std::vector<std::string> config_seeds() {
  std::vector<std::string> seeds = {"", "model:\n  layers: 2\n", "train:\n  class_weights: [1, 2.5]\n"};
  for (const auto& entry : std::filesystem::directory_iterator(TMT_SOURCE_DIR "/configs")) {
    if (entry.path().extension() == ".yaml") seeds.push_back(read_file(entry.path().string()));
  }
  return seeds;
}

}  // namespace tmt::fuzz
