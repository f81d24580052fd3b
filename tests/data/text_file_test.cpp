// read_text_file: plain and gzip agree, line terminators, UTF-8 checks and every documented error.

#include "data/text_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path dir = fs::path(::testing::TempDir()) / "tmt_text_file_test";
  fs::create_directories(dir);
  return dir;
}

std::string write_plain(const std::string& name, const std::string& bytes) {
  const fs::path path = temp_dir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

std::string write_gzip(const std::string& name, const std::string& bytes) {
  const fs::path path = temp_dir() / name;
  gzFile file = gzopen(path.c_str(), "wb");
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  EXPECT_EQ(gzclose(file), Z_OK);
  return path.string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs read_text_file and returns the message of the std::invalid_argument it must throw.
std::string error_of(const std::string& path) {
  try {
    tmt::read_text_file(path);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "read_text_file('" << path << "') did not throw std::invalid_argument";
  return "";
}

const std::string kMixed = "ein Mann\r\nzwei Hunde\n\n\r\nÄpfel und Bäume\nfinal without newline";
const std::vector<std::string> kMixedLines = {"ein Mann", "zwei Hunde", "", "", "Äpfel und Bäume",
                                              "final without newline"};

TEST(TextFile, PlainFileLinesWithoutTerminators) {
  const auto file = tmt::read_text_file(write_plain("mixed.txt", kMixed));
  EXPECT_EQ(file.lines, kMixedLines);
  EXPECT_TRUE(file.invalid_utf8_lines.empty());
  EXPECT_EQ(file.path, (temp_dir() / "mixed.txt").string());
}

TEST(TextFile, GzipGivesTheSameLinesAsPlain) {
  const std::string gz = write_gzip("mixed.gz", kMixed);
  ASSERT_EQ(read_bytes(gz).substr(0, 2), "\x1f\x8b");  // really compressed
  const auto plain = tmt::read_text_file(write_plain("mixed.txt", kMixed));
  const auto gzip = tmt::read_text_file(gz);
  EXPECT_EQ(gzip.lines, plain.lines);
  EXPECT_EQ(gzip.lines, kMixedLines);
}

TEST(TextFile, DetectsGzipByContentNotName) {
  const std::string gz = write_gzip("looks_plain.txt", "a\nb\n");
  const std::string plain = write_plain("looks_compressed.gz", "c\nd\n");
  EXPECT_EQ(tmt::read_text_file(gz).lines, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(tmt::read_text_file(plain).lines, (std::vector<std::string>{"c", "d"}));
}

TEST(TextFile, FinalNewlineAddsNoLineAndEmptyLinesAreKept) {
  EXPECT_EQ(tmt::read_text_file(write_plain("a.txt", "x\n")).lines, (std::vector<std::string>{"x"}));
  EXPECT_EQ(tmt::read_text_file(write_plain("b.txt", "x")).lines, (std::vector<std::string>{"x"}));
  EXPECT_EQ(tmt::read_text_file(write_plain("c.txt", "\n")).lines, (std::vector<std::string>{""}));
  EXPECT_EQ(tmt::read_text_file(write_plain("d.txt", "x\n\n")).lines, (std::vector<std::string>{"x", ""}));
  EXPECT_EQ(tmt::read_text_file(write_plain("e.txt", "\r\n\r\ny\r\n")).lines,
            (std::vector<std::string>{"", "", "y"}));
}

TEST(TextFile, OnlyCrBeforeNewlineIsATerminator) {
  // A lone "\r" inside a line, and one ending a final unterminated line, are content.
  EXPECT_EQ(tmt::read_text_file(write_plain("cr.txt", "a\rb\r\nc\r")).lines,
            (std::vector<std::string>{"a\rb", "c\r"}));
}

TEST(TextFile, LinesLongerThanTheReadBlockSurviveIntact) {
  // 3 MiB lines straddle the 1 MiB read blocks.
  const std::string long_line(3u << 20, 'x');
  const std::string content = "short\r\n" + long_line + "\r\n" + long_line + "y\nend";
  const auto plain = tmt::read_text_file(write_plain("long.txt", content));
  const auto gzip = tmt::read_text_file(write_gzip("long.gz", content));
  const std::vector<std::string> expected = {"short", long_line, long_line + "y", "end"};
  EXPECT_TRUE(plain.lines == expected);
  EXPECT_TRUE(gzip.lines == expected);
}

TEST(TextFile, ReportsInvalidUtf8LineNumbers) {
  const std::string content =
      "gültig\n"                 // 1 valid
      "abgeschnitten \xC3\n"     // 2 truncated 2-byte sequence
      "overlong \xC0\xAF\n"      // 3 overlong '/'
      "surrogate \xED\xA0\x80\n" // 4 U+D800
      "emoji \xF0\x9F\x98\x80\n" // 5 valid U+1F600
      "\xE2\x82\n"               // 6 truncated 3-byte sequence at the end of the line
      "ß\n";                     // 7 valid
  for (const std::string& path : {write_plain("utf8.txt", content), write_gzip("utf8.gz", content)}) {
    const auto file = tmt::read_text_file(path);
    ASSERT_EQ(file.lines.size(), 7u);
    EXPECT_EQ(file.invalid_utf8_lines, (std::vector<int64_t>{2, 3, 4, 6}));
    EXPECT_EQ(file.lines[1], "abgeschnitten \xC3");  // kept byte for byte
  }
}


TEST(TextFile, MissingFileError) {
  const std::string path = (temp_dir() / "does_not_exist.txt").string();
  EXPECT_EQ(error_of(path), "cannot read '" + path + "': No such file or directory");
}

TEST(TextFile, DirectoryError) {
  const std::string path = temp_dir().string();
  EXPECT_EQ(error_of(path), "cannot read '" + path + "': Is a directory");
}

TEST(TextFile, EmptyFileError) {
  const std::string plain = write_plain("empty.txt", "");
  const std::string gzip = write_gzip("empty.gz", "");
  EXPECT_EQ(error_of(plain), "'" + plain + "' is empty");
  EXPECT_EQ(error_of(gzip), "'" + gzip + "' is empty");
}

TEST(TextFile, TruncatedGzipError) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "Zeile " + std::to_string(i) + " mit etwas Text\n";
  const std::string whole = read_bytes(write_gzip("whole.gz", content));
  const std::string path = write_plain("truncated.gz", whole.substr(0, whole.size() / 2));
  EXPECT_EQ(error_of(path), "'" + path + "' is not a valid gzip file: unexpected end of file");
  // Losing only the 8-byte trailer (CRC and length) is caught too.
  const std::string no_trailer = write_plain("no_trailer.gz", whole.substr(0, whole.size() - 8));
  EXPECT_EQ(error_of(no_trailer), "'" + no_trailer + "' is not a valid gzip file: unexpected end of file");
}

TEST(TextFile, CorruptGzipError) {
  std::string content;
  for (int i = 0; i < 2000; ++i) content += "Zeile " + std::to_string(i) + "\n";
  std::string bytes = read_bytes(write_gzip("intact.gz", content));
  bytes[bytes.size() - 8] = static_cast<char>(bytes[bytes.size() - 8] ^ 0xFF);  // break the CRC
  const std::string path = write_plain("bad_crc.gz", bytes);
  EXPECT_EQ(error_of(path), "'" + path + "' is not a valid gzip file: incorrect data check");
}

}  // namespace
