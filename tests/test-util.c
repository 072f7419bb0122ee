/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "test-util.h"

#include <glib/gstdio.h>

void
ms_test_rm_rf (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        ms_test_rm_rf (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

void
ms_test_tmp_file_set_up (MsTestTmpFile *f, gconstpointer file_name)
{
  f->dir = g_dir_make_tmp ("ms-test-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, (const char *) file_name, NULL);
}

void
ms_test_tmp_file_tear_down (MsTestTmpFile *f, gconstpointer file_name)
{
  ms_test_rm_rf (f->dir);
  g_free (f->path);
  g_free (f->dir);
}
