#pragma once
// Architecture of the encoder-decoder Transformer. Defaults are the paper's base model
// (Vaswani et al. 2017, Table 3); vocabulary sizes come from the data, not from here.

#include <cstdint>
#include <string>

namespace tmt {

/// How parameters start. Both give LayerNorm gains 1 and biases 0, and Xavier-uniform matrices.
enum class InitScheme {
  annotated,  // the Annotated Transformer: Xavier-uniform on the embeddings too (tied 8000 x 128:
              // entries of std 0.016, token vectors of norm 0.18 before the sqrt(d) scale)
  fairseq,    // fairseq's transformer: embeddings N(0, d_model^-1/2) with the padding row 0,
              // q/k/v projections Xavier-uniform with gain 1/sqrt(2)
};

const char* to_string(InitScheme scheme);

/// Hyperparameters of the Transformer; the vocabulary is supplied by the data at build time.
struct ModelConfig {
  int64_t layers = 6;              // N, encoder and decoder each (paper: 6)
  int64_t d_model = 512;           // paper: 512
  int64_t d_ff = 2048;             // paper: 2048
  int64_t heads = 8;               // h (paper: 8); d_model must be divisible by it
  double dropout = 0.1;            // P_drop on sublayer outputs and embedding sums (paper: 0.1)
  double attention_dropout = 0.0;  // on attention weights; the paper uses none, the Annotated
                                   // Transformer applies `dropout` there
  bool share_embeddings = true;    // tie source/target embeddings and output projection
                                   // (three-way tying, paper section 3.4) when the vocab is shared
  bool pre_norm = false;           // false: post-norm as in the paper; true: pre-norm with final
                                   // LayerNorms (the Annotated Transformer's layout)
  int64_t max_positions = 1024;    // longest sequence the sinusoidal table covers
  InitScheme init = InitScheme::fairseq;  // fairseq's: with Adam at the learning rates small models
                                          // need, annotated's tiny tied embeddings learn erratically

  /// Throws std::invalid_argument naming the key when a value is out of range.
  void validate() const;
};

/// The settings that shape the parameters, in words: "layers 4, d_model 128, d_ff 256, heads 4,
/// shared embeddings, post-norm, 256 positions". Dropout and init do not count.
std::string describe_architecture(const ModelConfig& m);

/// Whether the weights of a model built with `a` fit one built with `b` (same description).
bool same_architecture(const ModelConfig& a, const ModelConfig& b);

}  // namespace tmt
