// tmt: train, use and score Transformer translation models. All work happens in app/commands.

#include "app/commands.h"

int main(int argc, char** argv) { return tmt::run_cli(argc, argv); }
