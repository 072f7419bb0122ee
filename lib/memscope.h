/* SPDX-License-Identifier: LGPL-2.1-or-later
 * libmemscope: read memscope traces, and instrument a program yourself.
 * This umbrella header is the only one to include:
 *   #include <memscope.h>     with  pkg-config --cflags memscope */
#pragma once

#include "ms-version.h"
#include "ms-macros.h"
#include "ms-format.h"
#include "ms-record.h"
#include "ms-crc32c.h"
#include "ms-writer.h"
#include "ms-config.h"
#include "ms-tracker.h"
#include "ms-error.h"
#include "ms-reader.h"
#include "ms-export.h"
#include "ms-monitor.h"
