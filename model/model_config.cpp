#include "model/model_config.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace tmt {
namespace {

// Throws unless value >= 1; every size in the architecture needs at least one unit.
void require_positive(const char* key, int64_t value) {
  if (value < 1) {
    throw std::invalid_argument(std::string("model.") + key + " must be >= 1, got " +
                                std::to_string(value));
  }
}

// Throws unless value is a probability that still keeps some activations (NaN is rejected).
void require_dropout(const char* key, double value) {
  if (!(value >= 0.0 && value < 1.0)) {
    std::ostringstream message;
    message << "model." << key << " must be in [0, 1), got " << value;
    throw std::invalid_argument(message.str());
  }
}

}  // namespace

const char* to_string(InitScheme scheme) { return scheme == InitScheme::annotated ? "annotated" : "fairseq"; }

void ModelConfig::validate() const {
  require_positive("layers", layers);
  require_positive("d_model", d_model);
  require_positive("d_ff", d_ff);
  require_positive("heads", heads);
  require_positive("max_positions", max_positions);
  if (d_model % 2 != 0) {
    throw std::invalid_argument(
        "model.d_model must be even for the sinusoidal position table (sin/cos pairs), got " +
        std::to_string(d_model));
  }
  if (d_model % heads != 0) {
    throw std::invalid_argument("model.heads must divide model.d_model (d_model " +
                                std::to_string(d_model) + ", heads " + std::to_string(heads) +
                                ")");
  }
  require_dropout("dropout", dropout);
  require_dropout("attention_dropout", attention_dropout);
}

std::string describe_architecture(const ModelConfig& m) {
  return "layers " + std::to_string(m.layers) + ", d_model " + std::to_string(m.d_model) + ", d_ff " +
         std::to_string(m.d_ff) + ", heads " + std::to_string(m.heads) + ", " +
         (m.share_embeddings ? "shared" : "separate") + " embeddings, " + (m.pre_norm ? "pre" : "post") + "-norm, " +
         std::to_string(m.max_positions) + " positions";
}

bool same_architecture(const ModelConfig& a, const ModelConfig& b) {
  return describe_architecture(a) == describe_architecture(b);
}

}  // namespace tmt
