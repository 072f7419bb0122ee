/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A JSON Schema (draft 2020-12) validator for the subset of keywords that
 * data/memscope-report.schema.json uses. A keyword outside the subset is
 * an error, so the schema cannot rely on something this never checks. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Validates INSTANCE against SCHEMA (the whole schema document, for
 * "$ref": "#/$defs/…"). On failure ERROR names the JSON path. */
gboolean ms_test_json_validate (JsonNode *schema, JsonNode *instance, GError **error);

/* Loads SCHEMA_PATH and JSON_PATH and validates. */
gboolean ms_test_json_validate_files (const char *schema_path, const char *json_path, GError **error);

G_END_DECLS
