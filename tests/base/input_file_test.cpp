// require_readable_file: the one message for a file argument that cannot be read.

#include "base/input_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/test_support.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;
using tests::error_of;

TEST(RequireReadableFile, PassesFilesAndPipes) {
  const fs::path file = fs::path(::testing::TempDir()) / "tmt_input_file_ok.txt";
  std::ofstream(file) << "text\n";
  EXPECT_NO_THROW(require_readable_file(file.string(), "input"));
  EXPECT_NO_THROW(require_readable_file("/dev/null", "input"));
}

TEST(RequireReadableFile, NamesWhatAndWhyForMissingFilesAndDirectories) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tmt_input_file_dir";
  fs::create_directories(dir);
  EXPECT_EQ(error_of([&] { require_readable_file(dir.string(), "reference"); }),
            "cannot read reference '" + dir.string() + "': Is a directory");
  EXPECT_EQ(error_of([&] { require_readable_file((dir / "none.txt").string(), "checkpoint"); }),
            "cannot read checkpoint '" + (dir / "none.txt").string() + "': No such file or directory");
}

}  // namespace
}  // namespace tmt
