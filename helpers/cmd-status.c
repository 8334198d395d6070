/* SPDX-License-Identifier: MIT */
#include "commands.h"
int cmd_status(int argc, char **argv) { return EXIT_FAIL; }
int cmd_check(int argc, char **argv) { return EXIT_FAIL; }
