#include "data/data_config.h"

#include <stdexcept>
#include <string>

namespace tmt {
namespace {

// Throws unless value >= minimum, naming the key as it is spelled in the YAML.
void require_at_least(const char* key, int64_t value, int64_t minimum) {
  if (value < minimum) {
    throw std::invalid_argument(std::string("data.") + key + " must be >= " +
                                std::to_string(minimum) + ", got " + std::to_string(value));
  }
}

}  // namespace

void DataConfig::validate() const {
  // Padding (0), the fixed start symbol (1) and at least one symbol to copy.
  require_at_least("vocab_size", vocab_size, 3);
  // The start symbol plus at least one token to copy.
  require_at_least("seq_len", seq_len, 2);
  require_at_least("batch_size", batch_size, 1);
  require_at_least("valid_size", valid_size, 1);
}

const char* to_string(DataKind k) {
  switch (k) {
    case DataKind::copy: return "copy";
  }
  return "?";
}

}  // namespace tmt
