#include "train/checkpoint.h"

#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "data/atomic_file.h"

namespace tmt {
namespace {

torch::serialize::InputArchive open_archive(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot read checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  return archive;
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& path,
                       const std::string& key) {
  c10::IValue value;
  if (!archive.try_read(key, value)) {
    throw std::runtime_error("'" + path + "' is not a tmt checkpoint: it has no '" + key + "' entry");
  }
  return value;
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// Parameters and buffers by their dotted names, the way the checkpoint stores them.
NamedTensors named_state(TransformerImpl& model) {
  NamedTensors state;
  for (const auto& p : model.named_parameters()) state.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) state.emplace_back(b.key(), b.value());
  return state;
}

}  // namespace

void save_checkpoint(const std::string& path, TransformerImpl& model, const std::string& config_yaml,
                     const std::string& vocab_hash) {
  CheckpointHeader header;
  header.format_version = kCheckpointFormatVersion;
  header.config_yaml = config_yaml;
  header.vocab = model.vocab();
  header.vocab_hash = vocab_hash;
  write_checkpoint(path, named_state(model), header);
}

void write_checkpoint(const std::string& path, const NamedTensors& tensors, const CheckpointHeader& header) {
  torch::serialize::OutputArchive archive;
  archive.write("format_version", c10::IValue(kCheckpointFormatVersion));
  archive.write("config", c10::IValue(header.config_yaml));
  archive.write("vocab_hash", c10::IValue(header.vocab_hash));
  archive.write("vocab", c10::IValue(std::vector<int64_t>{header.vocab.src_size, header.vocab.tgt_size,
                                                          header.vocab.pad_id}));
  torch::serialize::OutputArchive weights;
  for (const auto& [name, tensor] : tensors) weights.write(name, tensor.detach());
  archive.write("model", weights);
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

NamedTensors read_checkpoint_tensors(const std::string& path) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive weights;
  if (!archive.try_read("model", weights)) {
    throw std::runtime_error("'" + path + "' is not a tmt checkpoint: it has no 'model' entry");
  }
  NamedTensors tensors;
  for (const std::string& name : weights.keys()) {
    torch::Tensor value;
    weights.read(name, value);
    tensors.emplace_back(name, value);
  }
  return tensors;
}

CheckpointHeader read_checkpoint_header(const std::string& path) {
  auto archive = open_archive(path);
  CheckpointHeader header;
  header.format_version = read_value(archive, path, "format_version").toInt();
  if (header.format_version != kCheckpointFormatVersion) {
    throw std::runtime_error("checkpoint '" + path + "' has format version " +
                             std::to_string(header.format_version) + ", this tmt reads version " +
                             std::to_string(kCheckpointFormatVersion));
  }
  header.config_yaml = read_value(archive, path, "config").toStringRef();
  const auto vocab = read_value(archive, path, "vocab").toIntVector();
  if (vocab.size() != 3) throw std::runtime_error("checkpoint '" + path + "' has a malformed 'vocab' entry");
  header.vocab = VocabInfo{vocab[0], vocab[1], vocab[2]};
  header.vocab_hash = read_value(archive, path, "vocab_hash").toStringRef();
  return header;
}

void load_checkpoint_weights(const std::string& path, TransformerImpl& model) {
  auto archive = open_archive(path);
  torch::serialize::InputArchive weights;
  if (!archive.try_read("model", weights)) {
    throw std::runtime_error("'" + path + "' is not a tmt checkpoint: it has no 'model' entry");
  }
  // Names and shapes are checked one by one: LibTorch's Module::load would swap in tensors of
  // any shape without a word.
  const auto state = named_state(model);
  const auto stored = weights.keys();
  if (stored.size() != state.size()) {
    throw std::runtime_error("checkpoint '" + path + "' does not match the model: it holds " +
                             std::to_string(stored.size()) + " tensors, the model has " +
                             std::to_string(state.size()));
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state) {
    torch::Tensor value;
    if (!weights.try_read(name, value)) {
      throw std::runtime_error("checkpoint '" + path + "' does not match the model: it has no '" + name + "'");
    }
    if (!value.sizes().equals(tensor.sizes())) {
      throw std::runtime_error("checkpoint '" + path + "' does not match the model: '" + name +
                               "' is " + shape_of(value) + " there, the model expects " + shape_of(tensor));
    }
    tensor.copy_(value);
  }
}

}  // namespace tmt
