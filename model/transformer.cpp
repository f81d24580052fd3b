#include "model/transformer.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "model/attention.h"

namespace tmt {
namespace {

// Position-wise feed-forward network: Linear(d_model, d_ff), ReLU, Linear(d_ff, d_model).
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t d_model, int64_t d_ff) {
    linear1 = register_module("linear1", torch::nn::Linear(d_model, d_ff));
    linear2 = register_module("linear2", torch::nn::Linear(d_ff, d_model));
  }

  // x [batch, len, d_model] -> [batch, len, d_model].
  torch::Tensor forward(const torch::Tensor& x) {
    return linear2(torch::relu(linear1(x)));  // [batch, len, d_ff] -> [batch, len, d_model]
  }

  torch::nn::Linear linear1{nullptr};
  torch::nn::Linear linear2{nullptr};
};
TORCH_MODULE(FeedForward);

// One residual block around `sublayer`: post-norm LayerNorm(x + Dropout(f(x))) as in the paper,
// or pre-norm x + Dropout(f(LayerNorm(x))).
template <typename Sublayer>
torch::Tensor residual(const torch::Tensor& x, torch::nn::LayerNorm& norm,
                       Dropout& dropout, bool pre_norm, Sublayer&& sublayer) {
  if (pre_norm) {
    return x + dropout(sublayer(norm(x)));
  }
  return norm(x + dropout(sublayer(x)));
}

// Encoder layer: self-attention and feed-forward, each in a residual block.
class EncoderLayerImpl : public torch::nn::Module {
 public:
  explicit EncoderLayerImpl(const ModelConfig& config) : pre_norm_(config.pre_norm) {
    const auto norm = torch::nn::LayerNormOptions({config.d_model});
    self_attn = register_module(
        "self_attn", MultiHeadAttention(config.d_model, config.heads, config.attention_dropout));
    self_attn_norm = register_module("self_attn_norm", torch::nn::LayerNorm(norm));
    ffn = register_module("ffn", FeedForward(config.d_model, config.d_ff));
    ffn_norm = register_module("ffn_norm", torch::nn::LayerNorm(norm));
    dropout = register_module("dropout", Dropout(config.dropout));
  }

  // x [batch, src_len, d_model], mask [batch, 1, 1, src_len] -> [batch, src_len, d_model].
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask) {
    x = residual(x, self_attn_norm, dropout, pre_norm_,
                 [&](const torch::Tensor& h) { return self_attn(h, h, h, mask); });
    return residual(x, ffn_norm, dropout, pre_norm_,
                    [&](const torch::Tensor& h) { return ffn(h); });
  }

  MultiHeadAttention self_attn{nullptr};
  torch::nn::LayerNorm self_attn_norm{nullptr};
  FeedForward ffn{nullptr};
  torch::nn::LayerNorm ffn_norm{nullptr};
  Dropout dropout{nullptr};

 private:
  bool pre_norm_;
};

// Decoder layer: causal self-attention, attention over the encoder memory, feed-forward.
class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const ModelConfig& config) : pre_norm_(config.pre_norm) {
    const auto norm = torch::nn::LayerNormOptions({config.d_model});
    self_attn = register_module(
        "self_attn", MultiHeadAttention(config.d_model, config.heads, config.attention_dropout));
    self_attn_norm = register_module("self_attn_norm", torch::nn::LayerNorm(norm));
    cross_attn = register_module(
        "cross_attn", MultiHeadAttention(config.d_model, config.heads, config.attention_dropout));
    cross_attn_norm = register_module("cross_attn_norm", torch::nn::LayerNorm(norm));
    ffn = register_module("ffn", FeedForward(config.d_model, config.d_ff));
    ffn_norm = register_module("ffn_norm", torch::nn::LayerNorm(norm));
    dropout = register_module("dropout", Dropout(config.dropout));
  }

  // x [batch, tgt_len, d_model], memory [batch, src_len, d_model], self_mask
  // [1, 1, tgt_len, tgt_len], src_mask [batch, 1, 1, src_len] -> [batch, tgt_len, d_model].
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& memory,
                        const torch::Tensor& self_mask, const torch::Tensor& src_mask) {
    x = residual(x, self_attn_norm, dropout, pre_norm_,
                 [&](const torch::Tensor& h) { return self_attn(h, h, h, self_mask); });
    x = residual(x, cross_attn_norm, dropout, pre_norm_, [&](const torch::Tensor& h) {
      return cross_attn(h, memory, memory, src_mask);
    });
    return residual(x, ffn_norm, dropout, pre_norm_,
                    [&](const torch::Tensor& h) { return ffn(h); });
  }

  // The same layer for one new position x [batch, 1, d_model]: its self-attention keys/values
  // are appended to self_k/self_v [batch, heads, steps, head_dim], and it attends over those
  // and over the precomputed cross_k/cross_v [batch, heads, src_len, head_dim]. No causal mask
  // is needed: the cache holds only this and earlier positions.
  torch::Tensor step(torch::Tensor x, torch::Tensor& self_k, torch::Tensor& self_v,
                     const torch::Tensor& cross_k, const torch::Tensor& cross_v,
                     const torch::Tensor& src_mask) {
    x = residual(x, self_attn_norm, dropout, pre_norm_, [&](const torch::Tensor& h) {
      auto [k, v] = self_attn->project_kv(h);        // each [batch, heads, 1, head_dim]
      self_k = torch::cat({self_k, k}, /*dim=*/2);   // [batch, heads, steps + 1, head_dim]
      self_v = torch::cat({self_v, v}, /*dim=*/2);   // [batch, heads, steps + 1, head_dim]
      return self_attn->attend_cached(h, self_k, self_v);
    });
    x = residual(x, cross_attn_norm, dropout, pre_norm_, [&](const torch::Tensor& h) {
      return cross_attn->attend_cached(h, cross_k, cross_v, src_mask);
    });
    return residual(x, ffn_norm, dropout, pre_norm_,
                    [&](const torch::Tensor& h) { return ffn(h); });
  }

  MultiHeadAttention self_attn{nullptr};
  torch::nn::LayerNorm self_attn_norm{nullptr};
  MultiHeadAttention cross_attn{nullptr};
  torch::nn::LayerNorm cross_attn_norm{nullptr};
  FeedForward ffn{nullptr};
  torch::nn::LayerNorm ffn_norm{nullptr};
  Dropout dropout{nullptr};

 private:
  bool pre_norm_;
};

// Checks token ids [batch, len] at a forward entry; `name` says which input was wrong.
void check_tokens(const torch::Tensor& tokens, const char* name, int64_t max_positions) {
  TORCH_CHECK(tokens.dim() == 2, name, " must be [batch, len] token ids, got shape ",
              tokens.sizes());
  TORCH_CHECK(tokens.scalar_type() == torch::kLong, name, " must be int64 token ids, got ",
              tokens.scalar_type());
  TORCH_CHECK(tokens.size(1) <= max_positions, name, " length ", tokens.size(1),
              " exceeds model.max_positions ", max_positions);
}

}  // namespace

torch::Tensor padding_mask(const torch::Tensor& tokens, int64_t pad_id) {
  TORCH_CHECK(tokens.dim() == 2, "padding_mask expects [batch, len] token ids, got shape ",
              tokens.sizes());
  return tokens.ne(pad_id).unsqueeze(1).unsqueeze(1);  // [batch, 1, 1, len]
}

void reorder_cache(DecoderCache& cache, const torch::Tensor& order) {
  TORCH_CHECK(order.dim() == 1 && order.scalar_type() == torch::kLong,
              "reorder_cache expects order [new_batch] int64, got ", order.scalar_type(), " ",
              order.sizes());
  for (auto* tensors : {&cache.self_k, &cache.self_v, &cache.cross_k, &cache.cross_v}) {
    for (auto& t : *tensors) t = t.index_select(0, order);  // [new_batch, heads, len, head_dim]
  }
  cache.src_mask = cache.src_mask.index_select(0, order);  // [new_batch, 1, 1, src_len]
}

torch::Tensor causal_mask(int64_t len, const torch::Device& device) {
  TORCH_CHECK(len >= 0, "causal_mask length must be >= 0, got ", len);
  return torch::ones({len, len}, torch::TensorOptions().dtype(torch::kBool).device(device))
      .tril()                      // [len, len]
      .view({1, 1, len, len});     // [1, 1, len, len]
}

TransformerImpl::TransformerImpl(const ModelConfig& config, const VocabInfo& vocab)
    : config_(config), vocab_(vocab) {
  config_.validate();
  if (vocab_.src_size < 1 || vocab_.tgt_size < 1) {
    throw std::invalid_argument("vocabulary sizes must be >= 1, got source " +
                                std::to_string(vocab_.src_size) + " and target " +
                                std::to_string(vocab_.tgt_size));
  }
  if (vocab_.pad_id < 0 || vocab_.pad_id >= vocab_.src_size || vocab_.pad_id >= vocab_.tgt_size) {
    throw std::invalid_argument("pad id " + std::to_string(vocab_.pad_id) +
                                " must be a valid id in both vocabularies (source " +
                                std::to_string(vocab_.src_size) + ", target " +
                                std::to_string(vocab_.tgt_size) + ")");
  }
  if (config_.share_embeddings) {
    if (vocab_.src_size != vocab_.tgt_size) {
      throw std::invalid_argument(
          "model.share_embeddings needs one shared vocabulary, got source " +
          std::to_string(vocab_.src_size) + " and target " + std::to_string(vocab_.tgt_size));
    }
    embed = register_module("embed", ScaledEmbedding(vocab_.src_size, config_.d_model));
  } else {
    src_embed = register_module("src_embed", ScaledEmbedding(vocab_.src_size, config_.d_model));
    tgt_embed = register_module("tgt_embed", ScaledEmbedding(vocab_.tgt_size, config_.d_model));
    // Bias-free to match the tied layout, where the projection is the bare embedding matrix.
    output_proj = register_module(
        "output_proj",
        torch::nn::Linear(torch::nn::LinearOptions(config_.d_model, vocab_.tgt_size).bias(false)));
  }
  positions = register_module("positions",
                              PositionalEncoding(config_.max_positions, config_.d_model));
  embed_dropout = register_module("embed_dropout", Dropout(config_.dropout));

  encoder_layers = register_module("encoder_layers", torch::nn::ModuleList());
  decoder_layers = register_module("decoder_layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.layers; ++i) {
    encoder_layers->push_back(std::make_shared<EncoderLayerImpl>(config_));
    decoder_layers->push_back(std::make_shared<DecoderLayerImpl>(config_));
  }
  if (config_.pre_norm) {
    const auto norm = torch::nn::LayerNormOptions({config_.d_model});
    encoder_norm = register_module("encoder_norm", torch::nn::LayerNorm(norm));
    decoder_norm = register_module("decoder_norm", torch::nn::LayerNorm(norm));
  }

  initialize();
}

void TransformerImpl::initialize() {
  // Both schemes: Xavier-uniform for every matrix, zero biases; the only vectors named "weight"
  // are LayerNorm gains, which start at one. The annotated scheme stops there (embeddings
  // included); fairseq's draws embeddings and an untied output projection from N(0, d^-1/2),
  // zeroes the embeddings' padding row, and gives the q/k/v projections gain 1/sqrt(2).
  torch::NoGradGuard no_grad;
  const bool fairseq = config_.init == InitScheme::fairseq;
  auto ends_with = [](const std::string& name, const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const auto& item : named_parameters()) {
    auto& p = item.value();
    const std::string& name = item.key();
    if (p.dim() > 1) {
      const bool embedding = ends_with(name, "embed.weight");
      const bool vocabulary = embedding || name == "output_proj.weight";  // rows are pieces
      const bool qkv = ends_with(name, "q_proj.weight") || ends_with(name, "k_proj.weight") ||
                       ends_with(name, "v_proj.weight");
      if (fairseq && vocabulary) {
        p.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(config_.d_model)));
        if (embedding) p[vocab_.pad_id].zero_();
      } else {
        torch::nn::init::xavier_uniform_(p, fairseq && qkv ? 1.0 / std::sqrt(2.0) : 1.0);
      }
    } else if (ends_with(name, "bias")) {
      p.zero_();
    } else {
      p.fill_(1.0);
    }
  }
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& src, const torch::Tensor& tgt_in) {
  check_tokens(src, "src", config_.max_positions);
  check_tokens(tgt_in, "tgt_in", config_.max_positions);
  TORCH_CHECK(src.size(0) == tgt_in.size(0), "src batch ", src.size(0), " != tgt_in batch ",
              tgt_in.size(0));
  return project(decode(tgt_in, encode(src), padding_mask(src, vocab_.pad_id)));
}

torch::Tensor TransformerImpl::encode(const torch::Tensor& src) {
  check_tokens(src, "src", config_.max_positions);
  const auto mask = padding_mask(src, vocab_.pad_id);  // [batch, 1, 1, src_len]
  auto x = embed_tokens(src, /*is_source=*/true);     // [batch, src_len, d_model]
  for (const auto& layer : *encoder_layers) {
    x = layer->as<EncoderLayerImpl>()->forward(x, mask);
  }
  return config_.pre_norm ? encoder_norm(x) : x;
}

torch::Tensor TransformerImpl::decode(const torch::Tensor& tgt_in, const torch::Tensor& memory,
                                      const torch::Tensor& src_mask) {
  check_tokens(tgt_in, "tgt_in", config_.max_positions);
  TORCH_CHECK(memory.dim() == 3 && memory.size(0) == tgt_in.size(0) &&
                  memory.size(2) == config_.d_model,
              "memory must be [batch ", tgt_in.size(0), ", src_len, d_model ", config_.d_model,
              "], got ", memory.sizes());
  TORCH_CHECK(src_mask.dim() == 4 && src_mask.scalar_type() == torch::kBool &&
                  src_mask.size(0) == memory.size(0) && src_mask.size(3) == memory.size(1),
              "src_mask must be bool [batch ", memory.size(0), ", 1, 1, src_len ", memory.size(1),
              "], got ", src_mask.scalar_type(), " ", src_mask.sizes());
  // Causal masking alone suffices for right-padded targets: a real position never sees a later
  // padding position, and outputs at padding positions are ignored by the loss.
  const auto self_mask = causal_mask(tgt_in.size(1), tgt_in.device());  // [1, 1, tgt_len, tgt_len]
  auto x = embed_tokens(tgt_in, /*is_source=*/false);  // [batch, tgt_len, d_model]
  for (const auto& layer : *decoder_layers) {
    x = layer->as<DecoderLayerImpl>()->forward(x, memory, self_mask, src_mask);
  }
  return config_.pre_norm ? decoder_norm(x) : x;
}

DecoderCache TransformerImpl::start_decoding(const torch::Tensor& memory,
                                            const torch::Tensor& src_mask) {
  TORCH_CHECK(memory.dim() == 3 && memory.size(2) == config_.d_model,
              "memory must be [batch, src_len, d_model ", config_.d_model, "], got ",
              memory.sizes());
  TORCH_CHECK(src_mask.dim() == 4 && src_mask.scalar_type() == torch::kBool &&
                  src_mask.size(0) == memory.size(0) && src_mask.size(3) == memory.size(1),
              "src_mask must be bool [batch ", memory.size(0), ", 1, 1, src_len ", memory.size(1),
              "], got ", src_mask.scalar_type(), " ", src_mask.sizes());
  DecoderCache cache;
  cache.src_mask = src_mask;
  const int64_t head_dim = config_.d_model / config_.heads;
  const auto empty = torch::empty({memory.size(0), config_.heads, 0, head_dim},
                                  memory.options());  // [batch, heads, 0, head_dim]
  for (const auto& layer : *decoder_layers) {
    auto [k, v] = layer->as<DecoderLayerImpl>()->cross_attn->project_kv(memory);
    cache.cross_k.push_back(k);  // [batch, heads, src_len, head_dim]
    cache.cross_v.push_back(v);  // [batch, heads, src_len, head_dim]
    cache.self_k.push_back(empty);
    cache.self_v.push_back(empty);
  }
  return cache;
}

torch::Tensor TransformerImpl::decode_step(const torch::Tensor& tokens, DecoderCache& cache) {
  TORCH_CHECK(tokens.dim() == 1 && tokens.scalar_type() == torch::kLong,
              "decode_step expects tokens [batch] int64, got ", tokens.scalar_type(), " ",
              tokens.sizes());
  TORCH_CHECK(static_cast<int64_t>(cache.self_k.size()) == config_.layers &&
                  tokens.size(0) == cache.batch(),
              "decode_step: cache of ", cache.self_k.size(), " layers and ", cache.batch(),
              " rows does not fit ", config_.layers, " layers and tokens ", tokens.sizes(),
              " (start with start_decoding, keep rows in step with reorder_cache)");
  TORCH_CHECK(cache.steps < config_.max_positions, "decode_step: position ", cache.steps,
              " exceeds model.max_positions ", config_.max_positions);
  // [batch, 1, d_model]
  auto x = embed_tokens(tokens.unsqueeze(1), /*is_source=*/false, /*start=*/cache.steps);
  for (size_t i = 0; i < decoder_layers->size(); ++i) {
    x = decoder_layers->ptr(i)->as<DecoderLayerImpl>()->step(
        x, cache.self_k[i], cache.self_v[i], cache.cross_k[i], cache.cross_v[i],
        cache.src_mask);  // [batch, 1, d_model]
  }
  ++cache.steps;
  return (config_.pre_norm ? decoder_norm(x) : x).squeeze(1);  // [batch, d_model]
}

torch::Tensor TransformerImpl::project(const torch::Tensor& hidden) {
  TORCH_CHECK(hidden.dim() >= 1 && hidden.size(-1) == config_.d_model,
              "project expects [..., d_model ", config_.d_model, "], got ", hidden.sizes());
  // Tied: logits = hidden E^T with the shared embedding E and no bias (a bias would be the only
  // untied output parameter); untied: a separate bias-free Linear.
  const auto& weight = config_.share_embeddings ? embed->weight : output_proj->weight;
  return torch::linear(hidden, weight);  // [..., tgt_vocab]
}

torch::Tensor TransformerImpl::embed_tokens(const torch::Tensor& tokens, bool is_source,
                                            int64_t start) {
  auto& table = config_.share_embeddings ? embed : (is_source ? src_embed : tgt_embed);
  return embed_dropout(positions(table(tokens), start));  // [batch, len, d_model]
}

}  // namespace tmt
