/* SPDX-License-Identifier: LGPL-2.1-or-later
 * v-dlopen LIB: dlopen LIB, call its plugin_allocate (leaks 30123 bytes),
 * dlclose it, then allocate once more (30124 bytes, leaked) from main. */
#include <dlfcn.h>

#include "victim.h"

int
main (int argc, char **argv)
{
  void *lib = dlopen (argv[1], RTLD_NOW);
  if (lib == NULL)
    {
      fprintf (stderr, "%s\n", dlerror ());
      return 1;
    }
  void *(*allocate) (void) = (void *(*) (void)) dlsym (lib, "plugin_allocate");
  victim_touch (allocate ());
  dlclose (lib);
  victim_touch (malloc (30124));
  return 0;
}
