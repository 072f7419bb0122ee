/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "test-aggregate-validate.h"

#include <math.h>
#include <string.h>

static gboolean validate (JsonObject *root, JsonNode *schema, JsonNode *node, const char *path, GError **error);

static gboolean
fail (GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path[0] ? path : "/", msg);
  return FALSE;
}

static gboolean
is_integer (JsonNode *n)
{
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return TRUE;
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    {
      double d = json_node_get_double (n);
      return isfinite (d) && d == floor (d);
    }
  return FALSE;
}

static gboolean
has_type (JsonNode *n, const char *type)
{
  JsonNodeType t = JSON_NODE_TYPE (n);

  if (strcmp (type, "null") == 0)
    return t == JSON_NODE_NULL;
  if (strcmp (type, "object") == 0)
    return t == JSON_NODE_OBJECT;
  if (strcmp (type, "array") == 0)
    return t == JSON_NODE_ARRAY;
  if (t != JSON_NODE_VALUE)
    return FALSE;
  GType vt = json_node_get_value_type (n);
  if (strcmp (type, "string") == 0)
    return vt == G_TYPE_STRING;
  if (strcmp (type, "boolean") == 0)
    return vt == G_TYPE_BOOLEAN;
  if (strcmp (type, "integer") == 0)
    return is_integer (n);
  if (strcmp (type, "number") == 0)
    return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE;
  return FALSE;
}

static double
number (JsonNode *n)
{
  return json_node_get_value_type (n) == G_TYPE_INT64 ? (double) json_node_get_int (n) : json_node_get_double (n);
}

static gboolean
nodes_equal (JsonNode *a, JsonNode *b)
{
  if (JSON_NODE_TYPE (a) == JSON_NODE_VALUE && JSON_NODE_TYPE (b) == JSON_NODE_VALUE
      && has_type (a, "number") && has_type (b, "number"))
    return number (a) == number (b);
  return json_node_equal (a, b);
}

static gboolean
check_type (JsonNode *spec, JsonNode *node, const char *path, GError **error)
{
  if (JSON_NODE_HOLDS_ARRAY (spec))
    {
      JsonArray *types = json_node_get_array (spec);
      for (guint i = 0; i < json_array_get_length (types); i++)
        if (has_type (node, json_array_get_string_element (types, i)))
          return TRUE;
      return fail (error, path, "none of the allowed types");
    }
  if (!has_type (node, json_node_get_string (spec)))
    return fail (error, path, "not of type %s", json_node_get_string (spec));
  return TRUE;
}

static JsonNode *
resolve_ref (JsonObject *root, const char *ref, const char *path, GError **error)
{
  if (!g_str_has_prefix (ref, "#/$defs/"))
    {
      fail (error, path, "unsupported $ref %s", ref);
      return NULL;
    }
  JsonNode *defs = json_object_get_member (root, "$defs");
  const char *name = ref + strlen ("#/$defs/");
  if (defs == NULL || !json_object_has_member (json_node_get_object (defs), name))
    {
      fail (error, path, "unknown $ref %s", ref);
      return NULL;
    }
  return json_object_get_member (json_node_get_object (defs), name);
}

static gboolean
check_object (JsonObject *root, JsonObject *s, JsonNode *node, const char *path, GError **error)
{
  JsonObject *o = json_node_get_object (node);
  JsonObject *props = json_object_has_member (s, "properties") ? json_object_get_object_member (s, "properties") : NULL;

  if (json_object_has_member (s, "required"))
    {
      JsonArray *req = json_object_get_array_member (s, "required");
      for (guint i = 0; i < json_array_get_length (req); i++)
        if (!json_object_has_member (o, json_array_get_string_element (req, i)))
          return fail (error, path, "required member “%s” is missing", json_array_get_string_element (req, i));
    }
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      g_autofree char *sub = g_strdup_printf ("%s/%s", path, name);
      JsonNode *child = json_object_get_member (o, name);
      if (props && json_object_has_member (props, name))
        {
          if (!validate (root, json_object_get_member (props, name), child, sub, error))
            return FALSE;
        }
      else if (json_object_has_member (s, "additionalProperties"))
        {
          JsonNode *ap = json_object_get_member (s, "additionalProperties");
          if (JSON_NODE_HOLDS_VALUE (ap) && json_node_get_value_type (ap) == G_TYPE_BOOLEAN)
            {
              if (!json_node_get_boolean (ap))
                return fail (error, sub, "member not allowed by the schema");
            }
          else if (!validate (root, ap, child, sub, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
validate (JsonObject *root, JsonNode *schema, JsonNode *node, const char *path, GError **error)
{
  static const char *const known[] = {
    "$schema", "$id", "$defs", "$comment", "title", "description", "type", "properties", "required",
    "additionalProperties", "items", "enum", "const", "minimum", "maximum", "$ref", "oneOf", "anyOf", "minItems",
  };

  if (JSON_NODE_HOLDS_VALUE (schema) && json_node_get_value_type (schema) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (schema) ? TRUE : fail (error, path, "the schema allows nothing here");
  if (!JSON_NODE_HOLDS_OBJECT (schema))
    return fail (error, path, "schema is not an object");

  JsonObject *s = json_node_get_object (schema);
  g_autoptr (GList) keys = json_object_get_members (s);
  for (GList *l = keys; l; l = l->next)
    {
      gboolean ok = FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (known); i++)
        ok = ok || strcmp (l->data, known[i]) == 0;
      if (!ok)
        return fail (error, path, "schema keyword “%s” is not supported by this validator", (const char *) l->data);
    }

  if (json_object_has_member (s, "$ref"))
    {
      JsonNode *target = resolve_ref (root, json_object_get_string_member (s, "$ref"), path, error);
      if (target == NULL || !validate (root, target, node, path, error))
        return FALSE;
    }
  if (json_object_has_member (s, "type") && !check_type (json_object_get_member (s, "type"), node, path, error))
    return FALSE;
  if (json_object_has_member (s, "const") && !nodes_equal (json_object_get_member (s, "const"), node))
    return fail (error, path, "not the constant the schema requires");
  if (json_object_has_member (s, "enum"))
    {
      JsonArray *e = json_object_get_array_member (s, "enum");
      gboolean found = FALSE;
      for (guint i = 0; i < json_array_get_length (e) && !found; i++)
        found = nodes_equal (json_array_get_element (e, i), node);
      if (!found)
        return fail (error, path, "not one of the enumerated values");
    }
  if (has_type (node, "number"))
    {
      if (json_object_has_member (s, "minimum") && number (node) < number (json_object_get_member (s, "minimum")))
        return fail (error, path, "below the minimum");
      if (json_object_has_member (s, "maximum") && number (node) > number (json_object_get_member (s, "maximum")))
        return fail (error, path, "above the maximum");
    }
  if (JSON_NODE_HOLDS_OBJECT (node) && !check_object (root, s, node, path, error))
    return FALSE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      if (json_object_has_member (s, "minItems")
          && json_array_get_length (a) < (guint) json_object_get_int_member (s, "minItems"))
        return fail (error, path, "too few items");
      if (json_object_has_member (s, "items"))
        for (guint i = 0; i < json_array_get_length (a); i++)
          {
            g_autofree char *sub = g_strdup_printf ("%s/%u", path, i);
            if (!validate (root, json_object_get_member (s, "items"), json_array_get_element (a, i), sub, error))
              return FALSE;
          }
    }
  static const char *const combiners[] = { "oneOf", "anyOf" };
  for (guint c = 0; c < G_N_ELEMENTS (combiners); c++)
    {
      if (!json_object_has_member (s, combiners[c]))
        continue;
      JsonArray *alts = json_object_get_array_member (s, combiners[c]);
      g_autoptr (GString) why = g_string_new (NULL);
      guint matches = 0;
      for (guint i = 0; i < json_array_get_length (alts); i++)
        {
          g_autoptr (GError) local = NULL;
          if (validate (root, json_array_get_element (alts, i), node, path, &local))
            matches++;
          else
            g_string_append_printf (why, "; alternative %u: %s", i + 1, local->message);
        }
      /* the reasons of the alternatives that failed say where */
      if (matches == 0 || (c == 0 && matches != 1))
        return fail (error, path, "%s: %u alternatives match%s", combiners[c], matches, why->str);
    }
  return TRUE;
}

gboolean
ms_test_json_validate (JsonNode *schema, JsonNode *instance, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (schema))
    return fail (error, "", "the schema is not an object");
  return validate (json_node_get_object (schema), schema, instance, "", error);
}

gboolean
ms_test_json_validate_files (const char *schema_path, const char *json_path, GError **error)
{
  g_autoptr (JsonParser) sp = json_parser_new ();
  g_autoptr (JsonParser) jp = json_parser_new ();

  if (!json_parser_load_from_file (sp, schema_path, error) || !json_parser_load_from_file (jp, json_path, error))
    return FALSE;
  if (!ms_test_json_validate (json_parser_get_root (sp), json_parser_get_root (jp), error))
    {
      g_prefix_error (error, "%s: ", json_path);
      return FALSE;
    }
  return TRUE;
}
