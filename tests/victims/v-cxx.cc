// SPDX-License-Identifier: LGPL-2.1-or-later
// C++ new/delete in their forms: 10 x new char[30001], delete[];
// 5 x new Big (30200 bytes), delete; one new Big leaked.
#include <cstdio>
#include <new>

struct Big
{
  char data[30200];
};

static Big *leaked;

int
main ()
{
  for (int i = 0; i < 10; i++)
    {
      char *p = new char[30001];
      __asm__ volatile ("" : : "r"(p) : "memory");
      delete[] p;
    }
  for (int i = 0; i < 5; i++)
    {
      Big *b = new Big;
      __asm__ volatile ("" : : "r"(b) : "memory");
      delete b;
    }
  leaked = new (std::nothrow) Big;
  std::printf ("cxx done %s\n", leaked != nullptr ? "ok" : "failed");
  return 0;
}
