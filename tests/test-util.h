/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Helpers every C test shares. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes PATH and everything below it, symbolic links not followed. */
void ms_test_rm_rf (const char *path);

/* A GTest fixture: a fresh temporary directory and the path of a file in
 * it, named by the test's data (a string):
 *   g_test_add (name, MsTestTmpFile, "t.mst", ms_test_tmp_file_set_up, fn,
 *               ms_test_tmp_file_tear_down);
 * tear-down removes the directory and all in it. */
typedef struct
{
  char *dir;
  char *path;
} MsTestTmpFile;

void ms_test_tmp_file_set_up (MsTestTmpFile *f, gconstpointer file_name);
void ms_test_tmp_file_tear_down (MsTestTmpFile *f, gconstpointer file_name);

G_END_DECLS
