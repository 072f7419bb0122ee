/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-error.h"

G_DEFINE_QUARK (ms-error-quark, ms_error)
