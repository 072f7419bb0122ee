/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "ms-cli-options.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "ms-cli-error.h"

static gboolean
print_version (const char *option_name, const char *value, gpointer data, GError **error)
{
  g_print ("%s (memscope) %s\n", g_get_prgname (), PACKAGE_VERSION);
  exit (MS_CLI_EXIT_OK);
}

static const GOptionEntry version_entries[] = {
  { "version", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) print_version,
    N_("Print the version and exit"), NULL },
  G_OPTION_ENTRY_NULL
};

GOptionContext *
ms_cli_option_context_new (const char *parameter_string, const char *summary,
                           const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameter_string);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, version_entries, GETTEXT_PACKAGE);
  return context;
}

/* Decimal digits only: strtoull would take "-1", " 7" and "0x10". */
static gboolean
parse_digits (const char *text, guint64 *out, const char **out_end)
{
  guint64 value = 0;
  const char *p = text;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  for (; g_ascii_isdigit (*p); p++)
    {
      guint digit = (guint) (*p - '0');
      if (value > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }
  *out = value;
  *out_end = p;
  return TRUE;
}

static gboolean
out_of_range (const char *option, const char *text, guint64 min, guint64 max, GError **error)
{
  return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                       _("Invalid value “%s” for %s: it must be between %" PRIu64
                         " and %" PRIu64),
                       text, option, min, max);
}

gboolean
ms_cli_parse_uint (const char *option, const char *text, guint64 min, guint64 max, guint64 *out,
                   GError **error)
{
  guint64 value;
  const char *end;

  if (!parse_digits (text, &value, &end) || *end != '\0')
    return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                         _("Invalid value “%s” for %s: expected a whole number"), text, option);
  if (value < min || value > max)
    return out_of_range (option, text, min, max, error);
  *out = value;
  return TRUE;
}

gboolean
ms_cli_parse_size (const char *option, const char *text, guint64 min, guint64 max, guint64 *out,
                   GError **error)
{
  static const struct
  {
    const char *suffix;
    guint shift;
  } suffixes[] = {
    { "", 0 },   { "K", 10 },  { "KiB", 10 }, { "k", 10 }, { "M", 20 },
    { "MiB", 20 }, { "G", 30 }, { "GiB", 30 },
  };
  guint64 value;
  const char *end;

  if (parse_digits (text, &value, &end))
    for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
      {
        if (g_strcmp0 (end, suffixes[i].suffix) != 0)
          continue;
        if (value > (G_MAXUINT64 >> suffixes[i].shift))
          return out_of_range (option, text, min, max, error);
        value <<= suffixes[i].shift;
        if (value < min || value > max)
          return out_of_range (option, text, min, max, error);
        *out = value;
        return TRUE;
      }
  return ms_cli_throw (error, MS_CLI_ERROR_USAGE,
                       _("Invalid value “%s” for %s: expected a size in bytes such as 4096, 64K or 2M"),
                       text, option);
}

gboolean
ms_cli_parse_choice (const char *option, const char *text, const char *const *choices, guint *out,
                     GError **error)
{
  g_autofree char *list = NULL;

  for (guint i = 0; choices[i] != NULL; i++)
    if (g_strcmp0 (text, choices[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  list = g_strjoinv (", ", (char **) choices);
  return ms_cli_throw (error, MS_CLI_ERROR_USAGE, _("Invalid value “%s” for %s: expected one of %s"),
                       text, option, list);
}

char *
ms_cli_format_bytes (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}
