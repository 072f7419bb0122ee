/* SPDX-License-Identifier: LGPL-2.1-or-later
 * ms-json: what the shell tests need of JSON, with json-glib (neither
 * python3 nor jq is sure to be on a build machine).
 *
 *   ms-json get FILE PATH          the value at PATH: a string or number as
 *                                  it is, null, the length of an array, or
 *                                  "object"
 *   ms-json rows FILE PATH M…      for each element of the array at PATH,
 *                                  its members M… separated by tabs
 *   ms-json equal FILE FILE        exit 0 when both hold the same value
 *   ms-json script HTML ID         the text of <script id="ID" …>…</script>
 *
 * PATH is dot-separated: member names and array indexes, as in
 * "processes.0.resources.series"; "." is the root. Exit status 2 on
 * errors (a missing member is one). */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-json.h"

static JsonNode *
load (const char *path)
{
  return ms_test_json_load ("ms-json", path);
}

static JsonNode *
lookup (JsonNode *node, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; node && parts[i]; i++)
    {
      if (*parts[i] == '\0')
        continue;
      if (JSON_NODE_HOLDS_OBJECT (node))
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      else if (JSON_NODE_HOLDS_ARRAY (node) && g_ascii_isdigit (*parts[i]))
        {
          JsonArray *a = json_node_get_array (node);
          guint64 k = g_ascii_strtoull (parts[i], NULL, 10);
          node = k < json_array_get_length (a) ? json_array_get_element (a, (guint) k) : NULL;
        }
      else
        node = NULL;
    }
  if (node == NULL)
    {
      g_printerr ("ms-json: nothing at %s\n", path);
      exit (2);
    }
  return node;
}

static void
print_value (JsonNode *node)
{
  if (JSON_NODE_HOLDS_NULL (node))
    fputs ("null", stdout);
  else if (JSON_NODE_HOLDS_ARRAY (node))
    printf ("%u", json_array_get_length (json_node_get_array (node)));
  else if (JSON_NODE_HOLDS_OBJECT (node))
    fputs ("object", stdout);
  else if (json_node_get_value_type (node) == G_TYPE_STRING)
    fputs (json_node_get_string (node), stdout);
  else if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    printf ("%.3f", json_node_get_double (node));
  else if (json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    fputs (json_node_get_boolean (node) ? "true" : "false", stdout);
  else
    printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
}

/* The text between <script id="ID" …> and the next </script>. */
static int
script (const char *html_path, const char *id)
{
  g_autofree char *html = NULL;
  g_autofree char *open = g_strdup_printf ("<script id=\"%s\"", id);
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (html_path, &html, NULL, &error))
    {
      g_printerr ("ms-json: %s\n", error->message);
      return 2;
    }
  const char *start = strstr (html, open);
  const char *text = start ? strchr (start, '>') : NULL;
  const char *end = text ? strstr (text, "</script>") : NULL;
  if (end == NULL)
    {
      g_printerr ("ms-json: no <script id=\"%s\"> element in %s\n", id, html_path);
      return 2;
    }
  fwrite (text + 1, 1, (gsize) (end - text - 1), stdout);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "get") == 0)
    {
      g_autoptr (JsonNode) root = load (argv[2]);
      print_value (lookup (root, argv[3]));
      putchar ('\n');
      return 0;
    }
  if (argc >= 5 && strcmp (argv[1], "rows") == 0)
    {
      g_autoptr (JsonNode) root = load (argv[2]);
      JsonNode *node = lookup (root, argv[3]);
      if (!JSON_NODE_HOLDS_ARRAY (node))
        {
          g_printerr ("ms-json: %s is not an array\n", argv[3]);
          return 2;
        }
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *row = json_array_get_element (a, i);
          for (int m = 4; m < argc; m++)
            {
              if (m > 4)
                putchar ('\t');
              print_value (lookup (row, argv[m]));
            }
          putchar ('\n');
        }
      return 0;
    }
  if (argc == 4 && strcmp (argv[1], "equal") == 0)
    {
      g_autoptr (JsonNode) a = load (argv[2]);
      g_autoptr (JsonNode) b = load (argv[3]);
      return json_node_equal (a, b) ? 0 : 1;
    }
  if (argc == 4 && strcmp (argv[1], "script") == 0)
    return script (argv[2], argv[3]);
  g_printerr ("usage: ms-json get FILE PATH | rows FILE PATH MEMBER… | equal FILE FILE | script HTML ID\n");
  return 2;
}
