// Reading a job's layout from the environment torchrun, srun or scripts/launch.sh set up.

#include "train/distributed.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "tests/test_support.h"

namespace tmt {
namespace {

// distributed_env over a fixed set of variables.
DistributedEnv env_of(const std::map<std::string, std::string>& vars) {
  return distributed_env([&vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  return tests::error_of([&] { env_of(vars); });
}

TEST(DistributedEnv, NothingSetIsOneProcess) {
  const DistributedEnv env = env_of({});
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.rank, 0);
  EXPECT_TRUE(env.is_main());
}

TEST(DistributedEnv, ReadsTorchrunVariables) {
  const DistributedEnv env = env_of({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"},
                                     {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29411"}});
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29411);
  EXPECT_EQ(env.launcher_pid, 0);
  EXPECT_FALSE(env.is_main());
}

TEST(DistributedEnv, ReadsTheLaunchersPid) {
  EXPECT_EQ(env_of({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"TMT_LAUNCHER_PID", "4242"}}).launcher_pid, 4242);
}

TEST(DistributedEnv, FallsBackToSlurmVariables) {
  const DistributedEnv env = env_of({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_LOCALID", "1"}});
  EXPECT_EQ(env.world_size, 2);
  EXPECT_EQ(env.rank, 1);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "127.0.0.1");
  EXPECT_EQ(env.master_port, 29500);
}

TEST(DistributedEnv, MalformedValuesNameTheVariable) {
  EXPECT_EQ(error_of({{"WORLD_SIZE", "2"}, {"RANK", "2"}}),
            "environment variable RANK must be an integer in [0, 1], got '2'");
  EXPECT_EQ(error_of({{"WORLD_SIZE", "two"}, {"RANK", "0"}}),
            "environment variable WORLD_SIZE must be an integer in [1, 1048576], got 'two'");
  EXPECT_EQ(error_of({{"WORLD_SIZE", "2"}}), "WORLD_SIZE is set but RANK (or SLURM_PROCID) is not");
  EXPECT_EQ(error_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}),
            "environment variable MASTER_PORT must be an integer in [1, 65535], got '70000'");
  EXPECT_EQ(error_of({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"TMT_LAUNCHER_PID", "0"}}),
            "environment variable TMT_LAUNCHER_PID must be an integer in [1, 1073741824], got '0'");
}

}  // namespace
}  // namespace tmt
