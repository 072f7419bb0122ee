/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "ms-writer.h"

void
ms_config_init (MsConfig *config)
{
  memset (config, 0, sizeof *config);
  config->sampling = MS_SAMPLING_EXACT;
  config->sample_bytes = 512 * 1024;
  config->depth = 64;
  config->buffer_bytes = MS_WRITER_DEFAULT_CHUNK_BYTES;
  config->freq_table = true;
  config->follow_children = true;
}

/* strtoull without locale or allocation; accepts k/K, m/M, g/G suffixes
 * (powers of 1024) for sizes. */
static int
parse_size (const char *text, uint64_t *out)
{
  uint64_t v = 0;
  const char *p = text;

  if (*p < '0' || *p > '9')
    return -EINVAL;
  for (; *p >= '0' && *p <= '9'; p++)
    {
      if (v > (UINT64_MAX - 9) / 10)
        return -EINVAL;
      v = v * 10 + (uint64_t) (*p - '0');
    }
  unsigned shift = 0;
  switch (*p)
    {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: break;
    }
  if (*p == 'i' && shift) /* KiB spelled out */
    p++;
  if (*p == 'B' || *p == 'b')
    p++;
  if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
    return -EINVAL;
  *out = v << shift;
  return 0;
}

static int
parse_bool (const char *text, bool *out)
{
  if (!strcmp (text, "1") || !strcmp (text, "yes") || !strcmp (text, "true") || !strcmp (text, "on"))
    *out = true;
  else if (!strcmp (text, "0") || !strcmp (text, "no") || !strcmp (text, "false") || !strcmp (text, "off"))
    *out = false;
  else
    return -EINVAL;
  return 0;
}

int
ms_config_parse_sampling (MsConfig *config, const char *text)
{
  uint64_t n;

  if (!strcmp (text, "exact"))
    config->sampling = MS_SAMPLING_EXACT;
  else if (!strcmp (text, "tiered"))
    config->sampling = MS_SAMPLING_TIERED;
  else if (!strncmp (text, "bytes:", 6) && parse_size (text + 6, &n) == 0 && n > 0)
    {
      config->sampling = MS_SAMPLING_BYTES;
      config->sample_bytes = n;
    }
  else
    return -EINVAL;
  return 0;
}

int
ms_config_load_env (MsConfig *config, const char **out_bad_name)
{
  const char *bad = NULL;
  const char *v;
  uint64_t n;
  bool b;

#define BAD(name) \
  do { if (bad == NULL) bad = (name); } while (0)

  if ((v = getenv ("MEMSCOPE_SAMPLING")) && *v && ms_config_parse_sampling (config, v) < 0)
    BAD ("MEMSCOPE_SAMPLING");
  if ((v = getenv ("MEMSCOPE_DEPTH")) && *v)
    {
      if (parse_size (v, &n) == 0 && n >= 1 && n <= MS_CONFIG_MAX_DEPTH)
        config->depth = (uint32_t) n;
      else
        BAD ("MEMSCOPE_DEPTH");
    }
  if ((v = getenv ("MEMSCOPE_MIN_SIZE")) && *v)
    {
      if (parse_size (v, &n) == 0)
        config->min_size = n;
      else
        BAD ("MEMSCOPE_MIN_SIZE");
    }
  if ((v = getenv ("MEMSCOPE_BUFFER")) && *v)
    {
      /* rounded up to whole pages, as the writer's windows must be */
      if (parse_size (v, &n) == 0 && n >= MS_WRITER_MIN_CHUNK_BYTES && n <= 64u * 1024 * 1024)
        config->buffer_bytes = (size_t) ((n + 4095) & ~(uint64_t) 4095);
      else
        BAD ("MEMSCOPE_BUFFER");
    }
  if ((v = getenv ("MEMSCOPE_FREQ")) && *v)
    {
      if (parse_bool (v, &b) == 0)
        config->freq_table = b;
      else
        BAD ("MEMSCOPE_FREQ");
    }
  if ((v = getenv ("MEMSCOPE_MMAP")) && *v)
    {
      if (parse_bool (v, &b) == 0)
        config->track_mmap = b;
      else
        BAD ("MEMSCOPE_MMAP");
    }
  if ((v = getenv ("MEMSCOPE_FOLLOW_CHILDREN")) && *v)
    {
      if (parse_bool (v, &b) == 0)
        config->follow_children = b;
      else
        BAD ("MEMSCOPE_FOLLOW_CHILDREN");
    }
  if ((v = getenv ("MEMSCOPE_DEBUG")) && *v)
    {
      if (parse_bool (v, &b) == 0)
        config->debug = b;
      else
        BAD ("MEMSCOPE_DEBUG");
    }
  if ((v = getenv ("MEMSCOPE_THREADS")))
    {
      size_t len = strlen (v);
      if (len < sizeof config->threads)
        memcpy (config->threads, v, len + 1);
      else
        BAD ("MEMSCOPE_THREADS");
    }
#undef BAD

  if (out_bad_name)
    *out_bad_name = bad;
  return bad ? -EINVAL : 0;
}

bool
ms_config_threads_match (const char *patterns, const char *name)
{
  char glob[MS_CONFIG_THREADS_MAX];
  const char *p = patterns;

  if (*p == '\0')
    return true;
  while (*p)
    {
      const char *comma = strchr (p, ',');
      size_t len = comma ? (size_t) (comma - p) : strlen (p);
      if (len > 0 && len < sizeof glob)
        {
          memcpy (glob, p, len);
          glob[len] = '\0';
          if (fnmatch (glob, name, 0) == 0)
            return true;
        }
      p += len + (comma ? 1 : 0);
    }
  return false;
}
