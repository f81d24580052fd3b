#include "app/commands.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/bleu_command.h"
#include "app/subcommands.h"
#include "model/cpu_runtime.h"
#include "model/torch_compat.h"

namespace tmt {
namespace {

std::string version_text() {
  return "tmt " TMT_VERSION " (LibTorch " + torch_version() + ", CUDA " +
         (cuda_available() ? "available" : "not available") + ")\nCPU: " + cpu_engine_description();
}

// A subcommand working on a run: -c CONFIG, --set overrides, --run-dir.
CLI::App* add_run_command(CLI::App& app, const char* name, const char* description, RunArgs& args) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("-c,--config", args.config, "YAML config file")->required();
  cmd->add_option("--set", args.overrides, "Override a config key: section.key=value (repeatable)");
  cmd->add_option("--run-dir", args.run_dir, "Run directory (default: runs/<config name>)");
  return cmd;
}

// Numbers on the command line, read as the config loader reads keys: finite, in range, and a
// range error worded "--beam must be >= 1, got 0". (CLI11's own checks let "nan" through and
// state a 309-digit bound.) CLI11 stores the text; convert() checks it after parsing.
class NumberOptions {
 public:
  void add_integer(CLI::App* cmd, const std::string& name, const std::string& help, int64_t minimum, int64_t& into) {
    add(cmd, name, help, [name, minimum, &into](const std::string& text) {
      int64_t value = 0;
      const char* end = text.data() + text.size();
      const auto [stop, error] = std::from_chars(text.data(), end, value);
      if (error != std::errc() || stop != end) {
        throw std::invalid_argument(name + " must be an integer, got '" + text + "'");
      }
      if (value < minimum) {
        throw std::invalid_argument(name + " must be >= " + std::to_string(minimum) + ", got " + text);
      }
      into = value;
    });
  }

  void add_number(CLI::App* cmd, const std::string& name, const std::string& help, double minimum, double& into) {
    add(cmd, name, help, [name, minimum, &into](const std::string& text) {
      size_t used = 0;
      double value = 0.0;
      try {
        value = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != text.size() || !std::isfinite(value)) {
        throw std::invalid_argument(name + " must be a finite number, got '" + text + "'");
      }
      if (value < minimum) {
        std::ostringstream bound;
        bound << minimum;
        throw std::invalid_argument(name + " must be >= " + bound.str() + ", got " + text);
      }
      into = value;
    });
  }

  /// Converts every option that was given; throws std::invalid_argument for the first bad one.
  void convert() const {
    for (const auto& option : options_) {
      if (option->cli->count() > 0) option->convert(option->text);
    }
  }

 private:
  struct Option {
    CLI::Option* cli = nullptr;
    std::string text;
    std::function<void(const std::string&)> convert;
  };

  void add(CLI::App* cmd, const std::string& name, const std::string& help,
           std::function<void(const std::string&)> convert) {
    options_.push_back(std::make_unique<Option>());
    Option& option = *options_.back();
    option.cli = cmd->add_option(name, option.text, help);
    option.convert = std::move(convert);
  }

  std::vector<std::unique_ptr<Option>> options_;  // CLI11 keeps pointers to each text
};

// What translate, score and calibrate share: the model and how to decode with it.
void add_model_options(CLI::App* cmd, ModelArgs& args, NumberOptions& numbers) {
  cmd->add_option("--checkpoint", args.checkpoint, "Checkpoint written by tmt train or tmt average")->required();
  cmd->add_option("-c,--config", args.config, "YAML config whose decode section to use");
  cmd->add_option("--vocab", args.vocab, "SentencePiece model (default: data/spm.model beside the checkpoint)");
  numbers.add_integer(cmd, "--beam", "Beam size (default: decode.beam_size, the paper's 4)", 1, args.beam);
  numbers.add_number(cmd, "--alpha", "Length penalty exponent (default: decode.alpha, the paper's 0.6)", 0.0,
                     args.alpha);
  numbers.add_integer(cmd, "--max-tokens", "Source tokens per decoding batch", 1, args.max_tokens);
  numbers.add_integer(cmd, "--threads", "CPU threads (default: one per CPU this process may use)", 1, args.threads);
  cmd->add_option("--device", args.device, "auto (default: cuda:0 when there is a GPU), cpu, cuda or cuda:N");
  cmd->add_option("--set", args.overrides, "Override a config key: section.key=value (repeatable)");
}

// What score and calibrate read: a source file and the targets aligned with it.
void add_pair_options(CLI::App* cmd, std::string& source, std::string& target, const std::string& target_help) {
  cmd->add_option("-s,--source", source, "Source sentences, one a line (plain or gzip)")->required();
  cmd->add_option("-t,--target", target, target_help)->required();
}

}  // namespace

std::string run_dir_of(const RunArgs& args) {
  if (!args.run_dir.empty()) return args.run_dir;
  return (std::filesystem::path("runs") / std::filesystem::path(args.config).stem()).string();
}

int run_cli(int argc, char** argv) {
  CLI::App app{"tmt: train Transformer translation models, translate, and score"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version, the LibTorch version, CUDA availability and the CPU's BLAS");

  RunArgs prepare;
  CLI::App* prepare_cmd = add_run_command(
      app, "prepare", "Check a parallel corpus, train its joint SentencePiece model, binarise every split into RUN_DIR/data",
      prepare);
  RunArgs train;
  CLI::App* train_cmd = add_run_command(app, "train", "Train a model from a YAML config", train);
  train_cmd->add_flag("--no-resume", train.no_resume,
                      "Start over instead of resuming from RUN_DIR's newest valid checkpoint (the old "
                      "checkpoints are moved into RUN_DIR/previous_<time>/)");

  NumberOptions numbers;
  TranslateArgs translate;
  CLI::App* translate_cmd = app.add_subcommand("translate", "Translate lines from stdin (or -i) to stdout (or -o)");
  add_model_options(translate_cmd, translate, numbers);
  numbers.add_integer(translate_cmd, "--nbest", "Translations per line, as 'LINE ||| TEXT ||| SCORE' when > 1", 1,
                      translate.nbest);
  translate_cmd->add_option("-i,--input", translate.input, "Input file (default: stdin)");
  translate_cmd->add_option("-o,--output", translate.output, "Output file (default: stdout)");

  ScoreArgs score;
  CLI::App* score_cmd = app.add_subcommand(
      "score", "Forced decoding: the log-probability, tokens and perplexity of each target given its source");
  add_model_options(score_cmd, score, numbers);
  add_pair_options(score_cmd, score.source, score.target, "Target sentences, aligned with the source");
  score_cmd->add_option("-f,--format", score.format, "text (LOGPROB TAB TOKENS TAB PPL) or jsonl");
  score_cmd->add_option("-o,--output", score.output, "Output file (default: stdout)");

  CalibrateArgs calibrate;
  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate", "Confidence against accuracy: ECE teacher-forced and on beam output, and a fitted temperature");
  add_model_options(calibrate_cmd, calibrate, numbers);
  add_pair_options(calibrate_cmd, calibrate.source, calibrate.target, "Reference translations, aligned (a test set)");
  calibrate_cmd->add_option("--valid-source", calibrate.valid_source, "Source sentences to fit a temperature on");
  calibrate_cmd->add_option("--valid-target", calibrate.valid_target, "Their references");
  calibrate_cmd->add_option("--json", calibrate.json, "Also write the report, every bin included, as JSON here");

  BleuArgs bleu;
  CLI::App* bleu_cmd = app.add_subcommand("bleu", "Score a hypothesis against references: sacreBLEU-exact BLEU and chrF");
  bleu_cmd->add_option("refs", bleu.refs, "Reference files, one sentence a line")->required();
  bleu_cmd->add_option("-i,--input", bleu.input, "Hypothesis file (default: stdin)");
  // The names are checked once, by bleu_command.
  bleu_cmd->add_option("--tokenize,--tok", bleu.tokenize, "BLEU tokenizer: none, 13a (default), intl or char");
  bleu_cmd->add_flag("--lowercase,--lc", bleu.lowercase, "Compare lowercased text");
  bleu_cmd->add_option("-m,--metrics", bleu.metrics, "bleu, chrf, or bleu,chrf")
      ->delimiter(',');
  bleu_cmd->add_option("-f,--format", bleu.format, "text (sacreBLEU's -f text) or json");

  AverageArgs average;
  CLI::App* average_cmd = app.add_subcommand("average", "Average checkpoints parameter by parameter (the paper's averaging)");
  average_cmd->add_option("-o,--output", average.output, "Averaged checkpoint to write")->required();
  average_cmd->add_option("checkpoints", average.checkpoints, "Checkpoints to average (with --last: the run directory)");
  numbers.add_integer(average_cmd, "--last", "Average the last N checkpoint_<update>.pt of RUN_DIR", 1, average.last);
  average_cmd->add_option("--run-dir", average.run_dir, "Run directory for --last");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with a usage hint
    return code == 0 ? 0 : kExitUsage;
  }

  const char* area = prepare_cmd->parsed()                          ? "[data]"
                     : train_cmd->parsed() || average_cmd->parsed() ? "[train]"
                                                                    : "[decode]";
  try {
    numbers.convert();
    if (show_version) {
      std::cout << version_text() << '\n';
      return 0;
    }
    if (prepare_cmd->parsed()) return prepare_command(prepare);
    if (train_cmd->parsed()) return train_command(train);
    if (translate_cmd->parsed()) return translate_command(translate);
    if (score_cmd->parsed()) return score_command(score);
    if (calibrate_cmd->parsed()) return calibrate_command(calibrate);
    if (average_cmd->parsed()) return average_command(average);
    if (bleu_cmd->parsed()) return bleu_command(bleu);
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
