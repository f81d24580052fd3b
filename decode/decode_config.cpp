#include "decode/decode_config.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tmt {

void DecodeConfig::validate() const {
  const auto at_least = [](const char* key, int64_t value, int64_t minimum) {
    if (value < minimum) {
      throw std::invalid_argument(std::string("decode.") + key + " must be >= " + std::to_string(minimum) +
                                  ", got " + std::to_string(value));
    }
  };
  at_least("beam_size", beam_size, 1);
  at_least("nbest", nbest, 1);
  at_least("max_tokens", max_tokens, 1);
  if (nbest > beam_size) {
    throw std::invalid_argument("decode.nbest (" + std::to_string(nbest) + ") cannot exceed decode.beam_size (" +
                                std::to_string(beam_size) + ")");
  }
  if (!(alpha >= 0.0) || !std::isfinite(alpha)) {  // the config reader never gives inf or nan; the API may
    std::ostringstream message;
    message << "decode.alpha must be " << (std::isfinite(alpha) ? "" : "finite and ") << ">= 0, got " << alpha;
    throw std::invalid_argument(message.str());
  }
  // max_len_b may be negative: the copy task uses 1 * source_len - 1, since the first target
  // token is the start symbol, which the decoder is given rather than produces.
  if (!(max_len_a >= 0.0) || !std::isfinite(max_len_a)) {
    std::ostringstream message;
    message << "decode.max_len_a must be " << (std::isfinite(max_len_a) ? "" : "finite and ") << ">= 0, got "
            << max_len_a;
    throw std::invalid_argument(message.str());
  }
}

int64_t DecodeConfig::output_limit(int64_t src_len, int64_t max_positions) const {
  const double limit = std::floor(max_len_a * static_cast<double>(src_len)) + static_cast<double>(max_len_b);
  return std::clamp<int64_t>(static_cast<int64_t>(limit), 0, max_positions - 1);
}

}  // namespace tmt
