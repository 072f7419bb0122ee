/* SPDX-License-Identifier: LGPL-2.1-or-later
 * A library to preload that does nothing but, when MS_TEST_SAY is set,
 * say so on stderr as it is loaded: the user's own LD_PRELOAD in the
 * tests, and a stand-in for the shim where it is not built. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__ ((constructor)) static void
say_loaded (void)
{
  const char *say = getenv ("MS_TEST_SAY");

  if (say != NULL && write (2, say, strlen (say)) >= 0)
    (void) !write (2, "\n", 1);
}
