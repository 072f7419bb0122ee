/* SPDX-License-Identifier: LGPL-2.1-or-later
 * test-aggregate-jsonschema SCHEMA FILE…: validates each JSON FILE against
 * SCHEMA; prints the first violation of each and exits 1 if any. */
#include "config.h"

#include <stdio.h>

#include "test-aggregate-validate.h"

int
main (int argc, char **argv)
{
  int status = 0;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s SCHEMA FILE…\n", argv[0]);
      return 2;
    }
  for (int i = 2; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      if (!ms_test_json_validate_files (argv[1], argv[i], &error))
        {
          fprintf (stderr, "%s\n", error->message);
          status = 1;
        }
    }
  return status;
}
