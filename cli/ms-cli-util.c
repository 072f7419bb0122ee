/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-cli-util.h"

#include <string.h>

char *
ms_cli_get_program_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;

  if (exe == NULL)
    return NULL;
  dir = g_path_get_dirname (exe);
  base = g_path_get_basename (dir);
  if (g_str_equal (base, ".libs"))
    return g_path_get_dirname (dir);
  return g_steal_pointer (&dir);
}

char *
ms_cli_find_program (const char *name)
{
  g_autofree char *dir = ms_cli_get_program_dir ();

  if (dir != NULL)
    {
      g_autofree char *sibling = g_build_filename (dir, name, NULL);
      if (g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test (sibling, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&sibling);
    }
  return g_find_program_in_path (name);
}

static gboolean
all_digits (const char *text, gsize max_len)
{
  gsize len = strlen (text);

  if (len == 0 || len > max_len)
    return FALSE;
  for (; *text != '\0'; text++)
    if (!g_ascii_isdigit (*text))
      return FALSE;
  return TRUE;
}

gboolean
ms_cli_is_process_dir_name (const char *name)
{
  const char *dash = strchr (name, '-');
  g_autofree char *pid = dash != NULL ? g_strndup (name, (gsize) (dash - name)) : g_strdup (name);

  if (!all_digits (pid, 10))
    return FALSE;
  return dash == NULL || (g_str_has_prefix (dash, "-exec") && all_digits (dash + 5, 10));
}
