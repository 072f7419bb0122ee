/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Writes trace directories the way the preload shim and memscope-run do
 * (memscope-trace(5), the contract in HACKING.md), from a compact text
 * description, so that memscope-aggregate can be tested on workloads whose
 * every number is known.
 *
 * One command per line, '#' starts a comment; times T are ns after the
 * trace's start; numbers are decimal or 0x hex:
 *
 *   process PID [ppid=N] [exe=PATH] [cmd=A,B,C] [sampling=S] [dir=SUB] [start=T]
 *       begins a process: DIR/process.mst, or DIR/SUB/process.mst for a child;
 *       its files start at T (default 0)
 *   module START SIZE BIAS PATH [build_id=HEX]   a MODULE_LOAD at time 0
 *   module self [path=P]          this test program's own mapping (real build-id),
 *                                 recorded under another path P if given
 *   unload T START                MODULE_UNLOAD
 *   file N                        the next events go to thread-N.mst of the process
 *   start T TID [NAME]            THREAD_START, and THREAD_NAME when NAME is given
 *   name T TID NAME               THREAD_NAME
 *   end T TID                     THREAD_END
 *   alloc T ADDR SIZE STACK [w=W] ALLOC (ALLOC_SAMPLED with a weight; W is a float)
 *   free T ADDR                   FREE
 *   realloc T OLD NEW SIZE STACK [w=W]
 *   mmap T ADDR SIZE STACK        MMAP;  munmap T ADDR SIZE
 *   lost T N                      LOST (N events, reason unknown)
 *   freq T TID IP COUNT BYTES     FREQ
 *   label T ADDR SIZE NAME TYPE   LABEL (ms_track_var)
 *   noclose                       the current file gets no CLOSE (its writer "died")
 *   res T SCOPE ID V0,V1,…        a RESOURCE record in DIR/resources.mst
 *                                 (SCOPE: process, thread, cpu, system)
 *   resinfo KEY VALUE             an INFO record in DIR/resources.mst
 *   resname T TID NAME            a THREAD_NAME record in DIR/resources.mst
 *
 * STACK is "-" (no stack) or frames innermost first, comma-separated:
 * "leak_a,main". A frame is a name from the table given to
 * ms_test_write_trace() (real return addresses, for symbolisation) or any
 * other word, which becomes a made-up address outside every module. */
#pragma once

#include <glib.h>

#include "test-util.h"

G_BEGIN_DECLS

/* Writes DESCRIPTION into DIR (created if needed). SYMBOLS maps frame
 * names to addresses (guint64 *) and may be NULL. Fails the test on a
 * bad description. */
void ms_test_write_trace (const char *dir, const char *description, GHashTable *symbols);

/* The made-up address a frame NAME becomes. */
guint64 ms_test_fake_ip (const char *name);

/* A fresh temporary directory, removed with everything in it by
 * ms_test_rm_rf() (test-util.h). */
char *ms_test_mkdtemp (void);

G_END_DECLS
