#pragma once
// The readers that take user files, as fuzz targets. Each takes arbitrary bytes and must accept
// them or refuse them with its documented exception (std::invalid_argument or
// std::runtime_error naming the file); anything else escaping, a crash, or a broken invariant
// of what it accepted (std::logic_error "fuzz invariant: ...") is a finding.
// scripts/fuzz.sh runs them under libFuzzer; tests/fuzz replays their seeds, the inputs that
// once failed (fuzz/regressions/TARGET/) and a few thousand mutations on every test run.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tmt::fuzz {

using Target = void (*)(const uint8_t* data, size_t size);

struct TargetInfo {
  const char* name;
  Target run;
  std::vector<std::string> (*seeds)();  // valid inputs to start from
};

void config(const uint8_t* data, size_t size);       // the YAML config loader
void text_file(const uint8_t* data, size_t size);    // corpus text: plain or gzip, UTF-8 checked
void corpus(const uint8_t* data, size_t size);       // the binarised corpus reader (header, offsets, ids)
void checkpoint(const uint8_t* data, size_t size);   // the checkpoint reader
void bleu(const uint8_t* data, size_t size);         // the BLEU tokenizers, BLEU and chrF

std::vector<std::string> config_seeds();
std::vector<std::string> text_file_seeds();
std::vector<std::string> corpus_seeds();
std::vector<std::string> checkpoint_seeds();
std::vector<std::string> bleu_seeds();

/// Writes `size` bytes to a file of this process named after `name` and returns its path.
std::string scratch_file(const std::string& name, const uint8_t* data, size_t size);
/// The bytes of a file.
std::string read_file(const std::string& path);
/// Throws std::logic_error("fuzz invariant: " + what) unless `holds`.
void require(bool holds, const std::string& what);

}  // namespace tmt::fuzz
