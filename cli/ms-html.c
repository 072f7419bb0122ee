/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-html.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ms-agg-report.h"
#include "ms-cli-error.h"
#include "ms-html-resources.h"

#define RESOURCE_DIR "/org/memscope/html/"
#define COMPREHENSIVE_SUFFIX "_comprehensive.json"
#define RANKINGS_SUFFIX "_resource_rankings.json"
#define DASHBOARD_SUFFIX "_dashboard.html"
/* The output goes out in few large writes: reports run to megabytes. */
#define OUTPUT_BUFFER_SIZE (1u << 20)

/* ---- the reports --------------------------------------------------------- */

/* A report as it is on disk: mapped, not copied, since it is written out
 * byte for byte. */
typedef struct
{
  GMappedFile *map;
  const char *data;
  gsize len;
  char *program;        /* trace.program, when the report has it */
} Report;

static void
report_clear (Report *r)
{
  g_clear_pointer (&r->map, g_mapped_file_unref);
  g_clear_pointer (&r->program, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Report, report_clear)

/* MEMBER of O when it is a string; NULL otherwise (json-glib's getter
 * would complain about other types). */
static const char *
string_member (JsonObject *o, const char *member)
{
  JsonNode *node = o ? json_object_get_member (o, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonObject *
object_member (JsonObject *o, const char *member)
{
  JsonNode *node = o ? json_object_get_member (o, member) : NULL;

  return node && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* The major number of a "MAJOR.MINOR" schema version. */
static gboolean
parse_major (const char *version, guint64 *out)
{
  char *end = NULL;

  if (!g_ascii_isdigit (version[0]))
    return FALSE;
  *out = g_ascii_strtoull (version, &end, 10);
  return *end == '.' || *end == '\0';
}

/* json-glib says "<data>:LINE:COLUMN: Parse error: …": the line first. */
static gboolean
throw_parse_error (GError **error, const char *path, const GError *parse_error)
{
  guint line, column;
  int end = 0;

  if (sscanf (parse_error->message, "<data>:%u:%u: %n", &line, &column, &end) == 2 && end > 0)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is not JSON: line %u, column %u: %s"), path, line,
                         column, parse_error->message + end);
  return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is not JSON: %s"), path, parse_error->message);
}

/* Maps PATH and checks that it is a memscope-aggregate report of KIND
 * ("comprehensive" or "resource_rankings") in a schema this program
 * reads. The JSON is parsed for that alone: it is written out as it is. */
static gboolean
report_load (Report *r, const char *path, const char *kind, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonParser) parser = NULL;
  struct stat st;
  guint64 major, supported;

  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      if (errsv == ENOENT)
        /* TRANSLATORS: the second %s is "comprehensive" or "resource_rankings", part of a file name */
        return ms_cli_throw (error, MS_CLI_ERROR_IO,
                             _("“%s” does not exist: give a PREFIX_%s.json that memscope-aggregate wrote"), path,
                             kind);
      return ms_cli_throw_errno (error, errsv, _("Cannot read “%s”"), path);
    }
  if (fstat (fd, &st) == 0 && !S_ISREG (st.st_mode))
    {
      close (fd);
      /* TRANSLATORS: the second %s is "comprehensive" or "resource_rankings", part of a file name */
      return ms_cli_throw (error, MS_CLI_ERROR_IO,
                           _("“%s” is not a file: give a PREFIX_%s.json that memscope-aggregate wrote"), path, kind);
    }
  r->map = g_mapped_file_new_from_fd (fd, FALSE, &local_error);
  close (fd);
  if (r->map == NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_IO, _("Cannot read “%s”: %s"), path, local_error->message);
  r->len = g_mapped_file_get_length (r->map);
  r->data = r->len ? g_mapped_file_get_contents (r->map) : "";

  if (r->len == 0)
    /* TRANSLATORS: the second %s is "comprehensive" or "resource_rankings", part of a file name */
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is empty: it is no memscope-aggregate PREFIX_%s.json"),
                         path, kind);
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, r->data, (gssize) r->len, &local_error))
    return throw_parse_error (error, path, local_error);

  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *version = string_member (o, "schema_version");
  if (g_strcmp0 (string_member (o, "report"), kind) != 0 || version == NULL || !parse_major (version, &major))
    /* TRANSLATORS: the second %s is "comprehensive" or "resource_rankings", part of a file name */
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is not a memscope-aggregate PREFIX_%s.json"), path,
                         kind);
  parse_major (MS_AGG_SCHEMA_VERSION, &supported);
  if (major > supported)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” has report schema %s, newer than the %s that this memscope-html reads: "
                           "upgrade memscope"),
                         path, version, MS_AGG_SCHEMA_VERSION);
  r->program = g_strdup (string_member (object_member (o, "trace"), "program"));
  return TRUE;
}

/* PATH without SUFFIX, or without ".json", or as it is. */
static char *
strip_suffix (const char *path, const char *suffix)
{
  if (g_str_has_suffix (path, suffix))
    return g_strndup (path, strlen (path) - strlen (suffix));
  if (g_str_has_suffix (path, ".json"))
    return g_strndup (path, strlen (path) - strlen (".json"));
  return g_strdup (path);
}

/* --rankings, or PREFIX_resource_rankings.json beside the report when it
 * is there (the dashboard then shows no rankings: null). */
static gboolean
rankings_load (Report *r, const char *report_path, const char *option, gboolean *out_found, GError **error)
{
  g_autofree char *path = NULL;

  *out_found = FALSE;
  if (option)
    path = g_strdup (option);
  else if (g_str_has_suffix (report_path, COMPREHENSIVE_SUFFIX))
    {
      g_autofree char *prefix = strip_suffix (report_path, COMPREHENSIVE_SUFFIX);
      path = g_strconcat (prefix, RANKINGS_SUFFIX, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  else
    return TRUE;
  if (!report_load (r, path, "resource_rankings", error))
    return FALSE;
  *out_found = TRUE;
  return TRUE;
}

/* ---- the template -------------------------------------------------------- */

typedef enum
{
  MARK_TITLE,
  MARK_CSS,
  MARK_JS,
  MARK_DATA,
  MARK_RANKINGS,
  N_MARKS
} Mark;

/* The interface with data/dashboard.html: each marker once, the title's
 * wherever the page shows it. */
static const char *const marks[N_MARKS] = {
  "@MEMSCOPE_TITLE@", "/*@MEMSCOPE_CSS@*/", "/*@MEMSCOPE_JS@*/", "@MEMSCOPE_DATA@", "@MEMSCOPE_RANKINGS@",
};

typedef struct
{
  GBytes *html, *css, *js;
} Template;

static void
template_clear (Template *t)
{
  g_clear_pointer (&t->html, g_bytes_unref);
  g_clear_pointer (&t->css, g_bytes_unref);
  g_clear_pointer (&t->js, g_bytes_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Template, template_clear)

/* The first marker in TEXT (NUL-terminated) and which it is; NULL when
 * there is none left. */
static const char *
next_mark (const char *text, Mark *out_mark)
{
  const char *first = NULL;

  for (guint m = 0; m < N_MARKS; m++)
    {
      const char *at = strstr (text, marks[m]);
      if (at && (first == NULL || at < first))
        {
          first = at;
          *out_mark = m;
        }
    }
  return first;
}

static gboolean
template_load (Template *t, GError **error)
{
  static const char *const names[] = { "dashboard.html", "dashboard.css", "dashboard.js" };
  GBytes **slots[] = { &t->html, &t->css, &t->js };
  guint count[N_MARKS] = { 0 };
  Mark m;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_strconcat (RESOURCE_DIR, names[i], NULL);
      *slots[i] = g_resource_lookup_data (ms_html_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      if (*slots[i] == NULL)
        return ms_cli_throw (error, MS_CLI_ERROR_FAILED, _("The dashboard's %s is missing from this memscope-html"),
                             names[i]);
    }
  /* resource data is NUL-terminated: the template is a C string */
  for (const char *p = g_bytes_get_data (t->html, NULL); (p = next_mark (p, &m)) != NULL; p += strlen (marks[m]))
    count[m]++;
  for (guint i = 0; i < N_MARKS; i++)
    if (count[i] == 0 || (i != MARK_TITLE && count[i] > 1))
      return ms_cli_throw (error, MS_CLI_ERROR_FAILED,
                           _("The dashboard template of this memscope-html has %u times %s: it is broken"),
                           count[i], marks[i]);
  return TRUE;
}

/* ---- writing --------------------------------------------------------------- */

gboolean
ms_html_write_json (FILE *out, const char *data, gsize len)
{
  const guchar *p = (const guchar *) data, *end = p + len, *run = p;

  for (; p < end; p++)
    {
      const char *escape;
      gsize skip = 1;

      if (*p == '<')
        escape = "\\u003c";
      else if (*p == 0xe2 && end - p >= 3 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        {
          /* U+2028 and U+2029 end a line in older JavaScript */
          escape = p[2] == 0xa8 ? "\\u2028" : "\\u2029";
          skip = 3;
        }
      else
        continue;
      if (fwrite (run, 1, (gsize) (p - run), out) != (gsize) (p - run) || fputs (escape, out) == EOF)
        return FALSE;
      p += skip - 1;
      run = p + 1;
    }
  return fwrite (run, 1, (gsize) (end - run), out) == (gsize) (end - run);
}

static gboolean
write_bytes (FILE *out, GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return fwrite (data, 1, len, out) == len;
}

typedef struct
{
  const Template *template;
  const char *title_html;
  const Report *data;
  const Report *rankings;  /* NULL: null */
} Page;

/* The template with each marker replaced, streamed to OUT. */
static gboolean
write_page (FILE *out, const Page *page)
{
  const char *p = g_bytes_get_data (page->template->html, NULL);
  const char *at;
  Mark m;
  gboolean ok = TRUE;

  while (ok && (at = next_mark (p, &m)) != NULL)
    {
      ok = fwrite (p, 1, (gsize) (at - p), out) == (gsize) (at - p);
      switch (m)
        {
        case MARK_TITLE:
          ok = ok && fputs (page->title_html, out) != EOF;
          break;
        case MARK_CSS:
          ok = ok && write_bytes (out, page->template->css);
          break;
        case MARK_JS:
          ok = ok && write_bytes (out, page->template->js);
          break;
        case MARK_DATA:
          ok = ok && ms_html_write_json (out, page->data->data, page->data->len);
          break;
        case MARK_RANKINGS:
          if (page->rankings)
            ok = ok && ms_html_write_json (out, page->rankings->data, page->rankings->len);
          else
            ok = ok && fputs ("null", out) != EOF;
          break;
        case N_MARKS:
        default:
          g_assert_not_reached ();
        }
      p = at + strlen (marks[m]);
    }
  return ok && fputs (p, out) != EOF && fflush (out) == 0;
}

/* PATH is replaced only once the whole page is written: a temporary file
 * in the same directory (so that rename() cannot cross file systems) is
 * removed on any failure. */
static gboolean
write_file_atomically (const char *path, const Page *page, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  g_autofree char *buffer = g_malloc (OUTPUT_BUFFER_SIZE);
  int errsv;

  /* 0666 less the umask, as any file the user creates */
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return ms_cli_throw_errno (error, errno, _("Cannot write the dashboard into “%s”"), dir);
  FILE *out = fdopen (fd, "w");
  if (out == NULL)
    {
      errsv = errno;
      close (fd);
      g_unlink (tmp);
      return ms_cli_throw_errno (error, errsv, _("Cannot write the dashboard into “%s”"), dir);
    }
  setvbuf (out, buffer, _IOFBF, OUTPUT_BUFFER_SIZE);
  errno = 0;
  gboolean ok = write_page (out, page);
  errsv = errno;
  if (fclose (out) != 0 && ok)
    {
      ok = FALSE;
      errsv = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      errsv = errno;
      g_unlink (tmp);
      return ms_cli_throw_errno (error, errsv, _("Cannot write “%s”"), path);
    }
  if (!ok)
    {
      g_unlink (tmp);
      return ms_cli_throw_errno (error, errsv ? errsv : EIO, _("Writing “%s”"), path);
    }
  return TRUE;
}

gboolean
ms_html_write_dashboard (const char *report, const MsHtmlOptions *options, char **out_path, GError **error)
{
  g_auto (Report) data = { 0 };
  g_auto (Report) rankings = { 0 };
  g_auto (Template) template = { 0 };
  gboolean have_rankings = FALSE;
  g_autofree char *title = NULL;
  g_autofree char *title_html = NULL;
  g_autofree char *path = NULL;

  if (!template_load (&template, error) || !report_load (&data, report, "comprehensive", error)
      || !rankings_load (&rankings, report, options->rankings, &have_rankings, error))
    return FALSE;

  if (options->title)
    title = g_strdup (options->title);
  else if (data.program && *data.program)
    /* TRANSLATORS: the dashboard's default title; %s is the program's name */
    title = g_strdup_printf (_("memscope — %s"), data.program);
  else
    title = g_strdup ("memscope");
  title_html = g_markup_escape_text (title, -1);

  Page page = { &template, title_html, &data, have_rankings ? &rankings : NULL };
  if (g_strcmp0 (options->output, "-") == 0)
    {
      errno = 0;
      if (!write_page (stdout, &page))
        return ms_cli_throw_errno (error, errno ? errno : EIO, _("Writing to standard output failed"));
    }
  else
    {
      if (options->output)
        path = g_strdup (options->output);
      else
        {
          g_autofree char *prefix = strip_suffix (report, COMPREHENSIVE_SUFFIX);
          path = g_strconcat (prefix, DASHBOARD_SUFFIX, NULL);
        }
      if (!write_file_atomically (path, &page, error))
        return FALSE;
    }
  if (out_path)
    *out_path = g_steal_pointer (&path);
  return TRUE;
}
