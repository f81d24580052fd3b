#include "app/decoding_model.h"

#include <filesystem>
#include <stdexcept>
#include <string>

#include "data/prepare.h"
#include "model/checkpoint.h"
#include "model/cpu_runtime.h"
#include "model/device.h"
#include "model/torch_compat.h"

namespace tmt {

namespace fs = std::filesystem;

DecodingModel load_for_decoding(const ModelArgs& args) {
  const Checkpoint checkpoint = read_checkpoint(args.checkpoint);
  const CheckpointHeader& header = checkpoint.header;
  DecodingModel m;
  m.config = parse_config(header.config_yaml, "checkpoint " + args.checkpoint, args.overrides);
  if (!args.config.empty()) {
    // The architecture always comes from the checkpoint; a config file supplies decoding settings.
    m.config.decode = load_config(args.config, args.overrides).decode;
  }
  DecodeConfig& decode = m.config.decode;
  if (args.beam > 0) decode.beam_size = args.beam;
  if (args.alpha >= 0) decode.alpha = args.alpha;
  if (args.nbest > 0) decode.nbest = args.nbest;
  if (args.max_tokens > 0) decode.max_tokens = args.max_tokens;
  decode.validate();

  const std::string spm = args.vocab.empty()
                              ? vocab_path((fs::path(args.checkpoint).parent_path() / "data").string())
                              : args.vocab;
  m.task = task_for_decoding(m.config.data, spm);
  if (m.task->vocab().tgt_size != header.vocab.tgt_size || m.task->vocab_hash() != header.vocab_hash) {
    throw std::invalid_argument(m.task->vocab_description() + " is not the one checkpoint '" + args.checkpoint +
                                "' was trained with (" + std::to_string(header.vocab.tgt_size) + " pieces, hash " +
                                header.vocab_hash + ")");
  }
  m.device = resolve_device(DeviceSpec::parse(args.device));
  if (const int threads = decoding_threads(args.threads); threads > 0) torch::set_num_threads(threads);
  if (m.device.is_cuda()) configure_cuda_kernels();
  m.model = Transformer(m.config.model, header.vocab);
  load_weights(checkpoint.model, *m.model, args.checkpoint);
  m.model->to(m.device);
  m.model->eval();
  return m;
}

}  // namespace tmt
