#pragma once
// The run configuration: every section's struct, read once from YAML (plus `--set` overrides)
// and validated here, so that nothing past this point sees YAML or string-keyed options.

#include <cstddef>
#include <string>
#include <vector>

#include "data/data_config.h"
#include "decode/decode_config.h"
#include "model/model_config.h"
#include "train/train_config.h"

namespace tmt {

/// Every section of a run's configuration.
struct Config {
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  DecodeConfig decode;
};

/// Reads a YAML file, applies `--set section.key=value` overrides, validates.
/// Throws std::invalid_argument naming the file, line:column, key, expectation and value.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The same from text; `origin` names it in messages (a file path, or e.g. "checkpoint run/x.pt").
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides = {});

/// The resolved configuration as YAML with every key; parse_config(to_yaml(c), ...) == c.
std::string to_yaml(const Config& config);

/// One configuration key, as the table that reads and writes it declares it.
struct ConfigKey {
  std::string name;  // "section.key"
  std::string help;  // what it does, in one line
  size_t offset;     // of the member it is bound to, in Config: each key has its own, in declaration order
};

/// Every key, in to_yaml's order (sections model, data, train, decode; the structs' order).
std::vector<ConfigKey> config_keys();

/// Runs every section's validate() plus the rules that span sections.
void validate(const Config& config);

}  // namespace tmt
