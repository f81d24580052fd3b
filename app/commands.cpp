#include "app/commands.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/logging.h"
#include "data/atomic_file.h"
#include "data/copy_task.h"
#include "decode/greedy.h"
#include "model/torch_compat.h"
#include "model/transformer.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Seed offset of the held-out copy-task sequences, so they never coincide with training ones.
constexpr uint64_t kHeldOutSeedOffset = 1000003;
// Sentences decoded together by `tmt translate`.
constexpr int64_t kTranslateBatch = 64;

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;
};

struct TranslateArgs {
  std::string checkpoint;
  std::string config;
  std::vector<std::string> overrides;
  std::string input;
  std::string output;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

VocabInfo vocab_for(const DataConfig& data) {
  return VocabInfo{data.vocab_size, data.vocab_size, CopyTask::kPadId};
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + tmp + "'");
  });
}

// Decodes held-out copy-task sequences and counts those reproduced exactly.
int64_t copy_check(Transformer& model, const Config& config) {
  const torch::Tensor seqs = CopyTask::sequences(config.data, config.data.valid_size,
                                                 config.train.seed + kHeldOutSeedOffset);
  model->eval();
  const int64_t len = seqs.size(1);
  const torch::Tensor out = greedy_decode(model, seqs, CopyTask::kStartId, /*end_id=*/-1,
                                          max_output_length(config.decode, len));
  if (out.size(1) != len - 1) return 0;
  return out.eq(seqs.narrow(1, 1, len - 1)).all(1).sum().item<int64_t>();
}

int train_command(const TrainArgs& args) {
  const Config config = load_config(args.config, args.overrides);
  const std::string run_dir =
      args.run_dir.empty() ? (fs::path("runs") / fs::path(args.config).stem()).string() : args.run_dir;
  fs::create_directories(run_dir);
  setup_logging((fs::path(run_dir) / "train.log").string());
  const std::string config_yaml = to_yaml(config);
  write_text_atomically((fs::path(run_dir) / "config.yaml").string(), config_yaml);
  spdlog::info("[train] run directory {}, config {}", run_dir, args.config);

  if (config.train.threads > 0) torch::set_num_threads(static_cast<int>(config.train.threads));
  torch::manual_seed(config.train.seed);
  Transformer model(config.model, vocab_for(config.data));
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  spdlog::info("[train] model: {} layers, d_model {}, {} parameters; {} threads", config.model.layers,
               config.model.d_model, params, torch::get_num_threads());

  CopyTask task(config.data, config.train.seed);
  Trainer trainer(model, config.train);
  const auto start = Clock::now();
  auto interval_start = start;
  IntervalStats interval;
  UpdateStats last;
  while (trainer.updates() < config.train.max_updates) {
    last = trainer.step(task.next());
    interval.add(last);
    if (last.update % config.train.log_every == 0 || last.update == config.train.max_updates) {
      spdlog::info("[train] update {} | lr {:.3e} | loss {:.4f} | nll {:.4f} | ppl {:.3f} | acc {:.2f}% | {:.0f} tok/s",
                   last.update, last.lr, interval.loss(), interval.nll(), interval.perplexity(),
                   100.0 * interval.accuracy(), interval.tokens / seconds_since(interval_start));
      interval = IntervalStats{};
      interval_start = Clock::now();
    }
  }
  const std::string checkpoint = (fs::path(run_dir) / "checkpoint_last.pt").string();
  save_checkpoint(checkpoint, *model, config_yaml);
  spdlog::info("[train] {} updates in {:.1f} s; saved {}", trainer.updates(), seconds_since(start), checkpoint);
  const int64_t exact = copy_check(model, config);
  spdlog::info("[train] copy check: {}/{} held-out sequences copied exactly (greedy)", exact,
               config.data.valid_size);
  return 0;
}

// Parses one input line of space-separated token ids.
std::vector<int64_t> parse_ids(const std::string& line, int64_t line_no, int64_t vocab_size) {
  std::vector<int64_t> ids;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) {
      throw std::invalid_argument("input line " + std::to_string(line_no) + ": '" + word +
                                  "' is not a token id (the copy task reads space-separated integers)");
    }
    if (id < 0 || id >= vocab_size) {
      throw std::invalid_argument("input line " + std::to_string(line_no) + ": token id " + word +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Greedy copy-task translation of id lines; the start symbol is part of the copied sequence.
std::vector<std::string> translate_lines(Transformer& model, const Config& config,
                                         const std::vector<std::string>& lines) {
  std::vector<std::vector<int64_t>> sources;
  for (size_t i = 0; i < lines.size(); ++i) {
    sources.push_back(parse_ids(lines[i], static_cast<int64_t>(i) + 1, model->vocab().src_size));
  }
  std::vector<std::string> outputs(lines.size());
  const int64_t limit = config.model.max_positions;
  for (size_t begin = 0; begin < sources.size(); begin += kTranslateBatch) {
    const size_t end = std::min(sources.size(), begin + kTranslateBatch);
    std::vector<size_t> rows;
    int64_t width = 0;
    for (size_t i = begin; i < end; ++i) {
      if (sources[i].empty()) continue;  // an empty line translates to an empty line
      if (static_cast<int64_t>(sources[i].size()) > limit) {
        spdlog::warn("[decode] input line {} has {} tokens; truncated to the model's {}", i + 1,
                     sources[i].size(), limit);
        sources[i].resize(limit);
      }
      rows.push_back(i);
      width = std::max<int64_t>(width, static_cast<int64_t>(sources[i].size()));
    }
    if (rows.empty()) continue;
    torch::Tensor src = torch::full({static_cast<int64_t>(rows.size()), width}, model->vocab().pad_id,
                                    torch::kLong);  // [rows, width]
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& ids = sources[rows[r]];
      src[r].narrow(0, 0, static_cast<int64_t>(ids.size()))
          .copy_(torch::tensor(ids, torch::kLong));
    }
    const int64_t max_len = std::min(max_output_length(config.decode, width), limit - 1);
    const torch::Tensor out = greedy_decode(model, src, CopyTask::kStartId, /*end_id=*/-1, max_len);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::ostringstream line;
      line << CopyTask::kStartId;
      const int64_t src_len = static_cast<int64_t>(sources[rows[r]].size());
      const int64_t n = std::min(out.size(1), max_output_length(config.decode, src_len));
      for (int64_t t = 0; t < n; ++t) line << ' ' << out[r][t].item<int64_t>();
      outputs[rows[r]] = line.str();
    }
  }
  return outputs;
}

int translate_command(const TranslateArgs& args) {
  setup_logging();
  const CheckpointHeader header = read_checkpoint_header(args.checkpoint);
  Config config = parse_config(header.config_yaml, "checkpoint " + args.checkpoint, args.overrides);
  if (!args.config.empty()) {
    // The architecture always comes from the checkpoint; a config file supplies decoding settings.
    config.decode = load_config(args.config, args.overrides).decode;
  }
  Transformer model(config.model, header.vocab);
  load_checkpoint_weights(args.checkpoint, *model);
  model->eval();

  std::vector<std::string> lines;
  if (args.input.empty() || args.input == "-") {
    lines = read_lines(std::cin);
  } else {
    std::ifstream in(args.input);
    if (!in) throw std::invalid_argument("input file '" + args.input + "' cannot be read");
    lines = read_lines(in);
  }
  const auto start = Clock::now();
  const std::vector<std::string> outputs = translate_lines(model, config, lines);
  std::ostringstream text;
  for (const auto& line : outputs) text << line << '\n';
  if (args.output.empty() || args.output == "-") {
    std::cout << text.str() << std::flush;
  } else {
    write_text_atomically(args.output, text.str());
  }
  spdlog::info("[decode] {} lines in {:.2f} s", lines.size(), seconds_since(start));
  return 0;
}

std::string version_text() {
  return "tmt " TMT_VERSION " (LibTorch " + torch_version() + ", CUDA " +
         (cuda_available() ? "available" : "not available") + ")";
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"tmt: train Transformer translation models, translate, and score"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version, the LibTorch version and CUDA availability");

  TrainArgs train;
  CLI::App* train_cmd = app.add_subcommand("train", "Train a model from a YAML config");
  train_cmd->add_option("-c,--config", train.config, "YAML config file")->required();
  train_cmd->add_option("--set", train.overrides, "Override a config key: section.key=value (repeatable)");
  train_cmd->add_option("--run-dir", train.run_dir, "Run directory (default: runs/<config name>)");

  TranslateArgs translate;
  CLI::App* translate_cmd = app.add_subcommand("translate", "Translate lines from stdin (or -i) to stdout (or -o)");
  translate_cmd->add_option("--checkpoint", translate.checkpoint, "Checkpoint written by tmt train")->required();
  translate_cmd->add_option("-c,--config", translate.config, "YAML config whose decode section to use");
  translate_cmd->add_option("--set", translate.overrides, "Override a config key: section.key=value (repeatable)");
  translate_cmd->add_option("-i,--input", translate.input, "Input file (default: stdin)");
  translate_cmd->add_option("-o,--output", translate.output, "Output file (default: stdout)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with a usage hint
    return code == 0 ? 0 : kExitUsage;
  }

  const char* area = train_cmd->parsed() ? "[train]" : "[decode]";
  try {
    if (show_version) {
      std::cout << version_text() << '\n';
      return 0;
    }
    if (train_cmd->parsed()) return train_command(train);
    if (translate_cmd->parsed()) return translate_command(translate);
    std::cout << app.help();
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "tmt: " << area << " error: " << e.what() << '\n';
    return kExitUsage;
  } catch (const c10::Error& e) {
    std::cerr << "tmt: " << area << " error: " << e.what_without_backtrace() << '\n';
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "tmt: " << area << " error: " << e.what() << '\n';
    return kExitRuntime;
  }
}

}  // namespace tmt
