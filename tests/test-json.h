/* SPDX-License-Identifier: LGPL-2.1-or-later
 * What the tests' small JSON tools (ms-json, ms-report-synth) share. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The document in PATH; on an error, TOOL says why on stderr and the
 * program exits with status 2. */
JsonNode *ms_test_json_load (const char *tool, const char *path);

G_END_DECLS
