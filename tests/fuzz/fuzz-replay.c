/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer:
 * built with the ordinary compiler (and the sanitizers when configured so)
 * as a make check test, so every seed, and every input that once crashed
 * the reader, keeps being checked on every build.
 *
 * Usage: test-fuzz-corpus [FILE|DIR...]; with no argument, the corpus in
 * $G_TEST_SRCDIR/fuzz/corpus-reader. Prints TAP, one line per input. */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
add_path (GPtrArray *files, const char *path)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  const char *name;

  if (dir == NULL)
    g_error ("%s", error->message);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (files, g_build_filename (path, name, NULL));
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  if (argc > 1)
    for (int i = 1; i < argc; i++)
      add_path (files, argv[i]);
  else
    {
      const char *srcdir = g_getenv ("G_TEST_SRCDIR");
      g_autofree char *corpus = g_build_filename (srcdir ? srcdir : ".", "fuzz", "corpus-reader", NULL);
      add_path (files, corpus);
    }
  g_ptr_array_sort (files, compare_paths);

  /* An empty corpus would make this test pass while checking nothing. */
  if (files->len == 0)
    {
      printf ("Bail out! no input found\n");
      return 1;
    }

  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      g_autofree char *contents = NULL;
      g_autoptr (GError) error = NULL;
      gsize length;

      if (!g_file_get_contents (path, &contents, &length, &error))
        g_error ("%s", error->message);
      /* a failed check aborts, which the TAP driver reports with the
       * inputs already passed */
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
      g_autofree char *name = g_path_get_basename (path);
      printf ("ok %u %s (%" G_GSIZE_FORMAT " bytes)\n", i + 1, name, length);
      fflush (stdout);
    }
  return 0;
}
