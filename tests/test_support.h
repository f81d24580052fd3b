#pragma once
// What tests in every folder share: the message of an exception that must be thrown.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace tmt::tests {

/// The message of the exception of type E (std::invalid_argument unless named) that `f` must
/// throw; when it throws none, a test failure and "".
template <typename E = std::invalid_argument, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception, nothing was thrown";
  return "";
}

}  // namespace tmt::tests
