/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Helpers every C test shares. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Removes PATH and everything below it, symbolic links not followed. */
void ms_test_rm_rf (const char *path);

G_END_DECLS
