#include "decode/decode_config.h"

#include <sstream>
#include <stdexcept>

namespace tmt {

void DecodeConfig::validate() const {
  // max_len_b may be negative: the copy task uses 1 * source_len - 1, since the first target
  // token is the start symbol, which the decoder is given rather than produces.
  if (!(max_len_a >= 0.0)) {
    std::ostringstream message;
    message << "decode.max_len_a must be >= 0, got " << max_len_a;
    throw std::invalid_argument(message.str());
  }
}

}  // namespace tmt
