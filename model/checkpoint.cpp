#include "model/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "base/input_file.h"

namespace tmt {
namespace {

// CRC-32 over a checkpoint's contents in a canonical order (tensors sorted by name within each
// group), so it does not depend on the order an archive lists its entries.
class Checksum {
 public:
  void add(const std::string& key, const std::string& text) {
    add_bytes(key);
    add_bytes(text);
  }
  void add(const std::string& key, int64_t value) { add(key, std::to_string(value)); }
  void add(const std::string& key, double value) {
    char bytes[sizeof value];
    std::memcpy(bytes, &value, sizeof value);  // NaN included, bit for bit
    add(key, std::string(bytes, sizeof bytes));
  }
  void add(const std::string& key, const torch::Tensor& tensor) {
    if (!tensor.defined()) return add(key, std::string("undefined"));
    const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    std::ostringstream description;
    description << t.scalar_type() << t.sizes();
    add(key, description.str());
    crc_ = crc32_z(crc_, static_cast<const Bytef*>(t.data_ptr()), t.nbytes());
  }
  void add(const std::string& group, const NamedTensors& tensors) {
    std::vector<const std::pair<std::string, torch::Tensor>*> sorted;
    for (const auto& entry : tensors) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (const auto* entry : sorted) add(group + "." + entry->first, entry->second);
  }
  int64_t value() const { return static_cast<int64_t>(crc_); }

 private:
  void add_bytes(const std::string& bytes) {
    const uint64_t size = bytes.size();
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(&size), sizeof size);
    crc_ = crc32_z(crc_, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size());
  }
  uLong crc_ = crc32_z(0L, Z_NULL, 0);
};

int64_t checksum_of(const Checkpoint& c) {
  Checksum sum;
  sum.add("config", c.header.config_yaml);
  sum.add("vocab_hash", c.header.vocab_hash);
  sum.add("vocab", std::to_string(c.header.vocab.src_size) + "/" + std::to_string(c.header.vocab.tgt_size) + "/" +
                       std::to_string(c.header.vocab.pad_id));
  sum.add("model", c.model);
  if (c.training) {
    const TrainingState& t = *c.training;
    sum.add("update", t.update);
    sum.add("optimizer", t.optimizer);
    sum.add("data_position", t.data_position);
    sum.add("rng_cpu", t.rng_cpu);
    sum.add("rng_cuda", t.rng_cuda);
    sum.add("bad_updates", t.bad_updates);
    sum.add("best_value", t.best_value);
    sum.add("best_update", t.best_update);
    sum.add("stale_validations", t.stale_validations);
    sum.add("elapsed_s", t.elapsed_s);
  }
  return sum.value();
}

torch::serialize::OutputArchive tensor_archive(const NamedTensors& tensors) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : tensors) archive.write(name, tensor.detach());
  return archive;
}

// The first line of an exception's message, without LibTorch's backtrace.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  const std::string what = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  return what.substr(0, what.find('\n'));
}

// Says in plain words why a file that exists is no readable checkpoint, before LibTorch's zip
// reader does in its own ("failed finding central directory"): not a zip archive at all, or one
// whose end record is missing because its writing was cut short.
void check_container(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto size = static_cast<int64_t>(in.tellg());
  const auto fail = [&](const std::string& why) {
    throw std::runtime_error("cannot read checkpoint '" + path + "': " + why);
  };
  constexpr int64_t kEndRecord = 22;  // a zip's end-of-central-directory record, without comment
  std::string head(4, '\0');
  in.seekg(0);
  if (size < kEndRecord || !in.read(head.data(), 4) || head != std::string("PK\x03\x04", 4)) {
    fail("not a tmt checkpoint (" + std::to_string(size) + " bytes, no zip archive)");
  }
  // The end record sits in the last 22 bytes, or up to 64 KiB earlier behind a comment.
  const int64_t tail_size = std::min<int64_t>(size, kEndRecord + 65535);
  std::string tail(static_cast<size_t>(tail_size), '\0');
  in.seekg(size - tail_size);
  in.read(tail.data(), tail_size);
  if (!in || tail.rfind(std::string("PK\x05\x06", 4)) == std::string::npos) {
    fail("truncated (" + std::to_string(size) + " bytes; its zip archive has no end record: was its writing cut short?)");
  }
}

// Reads a checkpoint's entries; every failure names the file.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    require_readable_file(path_, "checkpoint");
    check_container(path_);
    try {
      archive_.load_from(path_);
    } catch (const std::exception& e) {
      // c10::Error mostly, but a damaged archive also ends in std::out_of_range and the like.
      throw std::runtime_error("cannot read checkpoint '" + path_ + "': damaged zip archive (" + first_line(e) + ")");
    }
  }

  c10::IValue value(const std::string& key) { return value(archive_, key); }
  torch::Tensor tensor(torch::serialize::InputArchive& from, const std::string& key) {
    torch::Tensor t;
    if (!from.try_read(key, t)) missing(key);
    return t;
  }
  torch::serialize::InputArchive& root() { return archive_; }
  bool has(const std::string& key) {
    c10::IValue ignored;
    return archive_.try_read(key, ignored);
  }
  torch::serialize::InputArchive archive(torch::serialize::InputArchive& from, const std::string& key) {
    torch::serialize::InputArchive sub;
    if (!from.try_read(key, sub)) missing(key);
    return sub;
  }
  NamedTensors tensors(torch::serialize::InputArchive& from, const std::string& key) {
    auto sub = archive(from, key);
    NamedTensors out;
    for (const std::string& name : sub.keys()) out.emplace_back(name, tensor(sub, name));
    return out;
  }
  c10::IValue value(torch::serialize::InputArchive& from, const std::string& key) {
    c10::IValue v;
    if (!from.try_read(key, v)) missing(key);
    return v;
  }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void missing(const std::string& key) {
    throw std::runtime_error("'" + path_ + "' is not a tmt checkpoint of format " +
                             std::to_string(kCheckpointFormatVersion) + ": it has no '" + key + "' entry");
  }
  std::string path_;
  torch::serialize::InputArchive archive_;
};

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

NamedTensors model_state(TransformerImpl& model) {
  NamedTensors state;
  for (const auto& p : model.named_parameters()) state.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) state.emplace_back(b.key(), b.value());
  return state;
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  torch::serialize::OutputArchive archive;
  archive.write("format_version", c10::IValue(kCheckpointFormatVersion));
  archive.write("config", c10::IValue(c.header.config_yaml));
  archive.write("vocab_hash", c10::IValue(c.header.vocab_hash));
  archive.write("vocab", c10::IValue(std::vector<int64_t>{c.header.vocab.src_size, c.header.vocab.tgt_size,
                                                          c.header.vocab.pad_id}));
  auto model = tensor_archive(c.model);
  archive.write("model", model);
  if (c.training) {
    const TrainingState& t = *c.training;
    torch::serialize::OutputArchive training;
    training.write("update", c10::IValue(t.update));
    auto optimizer = tensor_archive(t.optimizer);
    training.write("optimizer", optimizer);
    training.write("data_position", t.data_position);
    training.write("rng_cpu", t.rng_cpu);
    if (t.rng_cuda.defined()) training.write("rng_cuda", t.rng_cuda);
    training.write("bad_updates", c10::IValue(t.bad_updates));
    training.write("best_value", c10::IValue(t.best_value));
    training.write("best_update", c10::IValue(t.best_update));
    training.write("stale_validations", c10::IValue(t.stale_validations));
    training.write("elapsed_s", c10::IValue(t.elapsed_s));
    archive.write("training", training);
  }
  archive.write("checksum", c10::IValue(checksum_of(c)));
  write_atomically(path, [&](const std::string& tmp) { archive.save_to(tmp); });
}

namespace {

Checkpoint read_entries(Reader& r, const std::string& path) {
  Checkpoint c;
  c.header.format_version = r.value("format_version").toInt();
  if (c.header.format_version != kCheckpointFormatVersion) {
    throw std::runtime_error("cannot read checkpoint '" + path + "': " +
                             (c.header.format_version > kCheckpointFormatVersion ? "written by a newer tmt" : "an older format") +
                             " (format version " + std::to_string(c.header.format_version) + "; this tmt reads version " +
                             std::to_string(kCheckpointFormatVersion) + ")");
  }
  c.header.config_yaml = r.value("config").toStringRef();
  const auto vocab = r.value("vocab").toIntVector();
  if (vocab.size() != 3) throw std::runtime_error("checkpoint '" + path + "' has a malformed 'vocab' entry");
  c.header.vocab = VocabInfo{vocab[0], vocab[1], vocab[2]};
  c.header.vocab_hash = r.value("vocab_hash").toStringRef();
  c.model = r.tensors(r.root(), "model");
  if (r.has("training")) {
    auto training = r.archive(r.root(), "training");
    TrainingState t;
    t.update = r.value(training, "update").toInt();
    t.optimizer = r.tensors(training, "optimizer");
    t.data_position = r.tensor(training, "data_position");
    t.rng_cpu = r.tensor(training, "rng_cpu");
    training.try_read("rng_cuda", t.rng_cuda);
    t.bad_updates = r.value(training, "bad_updates").toInt();
    t.best_value = r.value(training, "best_value").toDouble();
    t.best_update = r.value(training, "best_update").toInt();
    t.stale_validations = r.value(training, "stale_validations").toInt();
    t.elapsed_s = r.value(training, "elapsed_s").toDouble();
    c.training = std::move(t);
  }
  const int64_t stored = r.value("checksum").toInt();
  const int64_t computed = checksum_of(c);
  if (stored != computed) {
    throw std::runtime_error("checkpoint '" + path + "' is corrupted: its checksum is " + std::to_string(stored) +
                             ", its contents hash to " + std::to_string(computed));
  }
  return c;
}

}  // namespace

Checkpoint read_checkpoint(const std::string& path) {
  Reader r(path);
  try {
    return read_entries(r, path);
  } catch (const std::runtime_error&) {
    throw;  // ours, naming the file
  } catch (const std::exception& e) {
    // An entry of the wrong type (toInt() of a string, say) in a damaged or foreign archive.
    throw std::runtime_error("cannot read checkpoint '" + path + "': malformed entries (" + first_line(e) + ")");
  }
}

void save_checkpoint(const std::string& path, TransformerImpl& model, const std::string& config_yaml,
                     const std::string& vocab_hash) {
  Checkpoint c;
  c.header = CheckpointHeader{kCheckpointFormatVersion, config_yaml, model.vocab(), vocab_hash};
  c.model = model_state(model);
  write_checkpoint(path, c);
}

void write_checkpoint(const std::string& path, const NamedTensors& tensors, const CheckpointHeader& header) {
  Checkpoint c;
  c.header = header;
  c.model = tensors;
  write_checkpoint(path, c);
}

void load_weights(const NamedTensors& stored, TransformerImpl& model, const std::string& origin) {
  // Names and shapes are checked one by one: LibTorch's Module::load would swap in tensors of
  // any shape without a word.
  const NamedTensors state = model_state(model);
  if (stored.size() != state.size()) {
    throw std::runtime_error("checkpoint '" + origin + "' does not match the model: it holds " +
                             std::to_string(stored.size()) + " tensors, the model has " + std::to_string(state.size()));
  }
  std::map<std::string, torch::Tensor> by_name(stored.begin(), stored.end());
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state) {
    const auto found = by_name.find(name);
    if (found == by_name.end()) {
      throw std::runtime_error("checkpoint '" + origin + "' does not match the model: it has no '" + name + "'");
    }
    if (!found->second.sizes().equals(tensor.sizes())) {
      throw std::runtime_error("checkpoint '" + origin + "' does not match the model: '" + name + "' is " +
                               shape_of(found->second) + " there, the model expects " + shape_of(tensor));
    }
    tensor.copy_(found->second);
  }
}

void load_checkpoint_weights(const std::string& path, TransformerImpl& model) {
  load_weights(read_checkpoint(path).model, model, path);
}

}  // namespace tmt
