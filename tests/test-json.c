/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "test-json.h"

#include <stdlib.h>

JsonNode *
ms_test_json_load (const char *tool, const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_printerr ("%s: %s: %s\n", tool, path, error->message);
      exit (2);
    }
  return json_node_copy (json_parser_get_root (parser));
}
