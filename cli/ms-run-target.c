/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "ms-run-target.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ms-cli-error.h"
#include "ms-cli-util.h"

/* The kernel reads this much of a file to recognise it (BINPRM_BUF_SIZE),
 * and follows at most this many "#!" interpreters. */
#define HEAD_BYTES 256
#define MAX_INTERPRETERS 4

typedef struct
{
  guint8 elf_class;
  guint16 machine;
} ElfIdentity;

typedef struct
{
  ElfIdentity identity;
  gboolean dynamic;           /* has PT_INTERP */
} ElfInfo;

static guint16
get16 (const guint8 *p, gboolean big_endian)
{
  return big_endian ? (guint16) (p[0] << 8 | p[1]) : (guint16) (p[1] << 8 | p[0]);
}

static guint32
get32 (const guint8 *p, gboolean big_endian)
{
  return big_endian ? (guint32) get16 (p, TRUE) << 16 | get16 (p + 2, TRUE)
                    : (guint32) get16 (p + 2, FALSE) << 16 | get16 (p, FALSE);
}

static guint64
get64 (const guint8 *p, gboolean big_endian)
{
  return big_endian ? (guint64) get32 (p, TRUE) << 32 | get32 (p + 4, TRUE)
                    : (guint64) get32 (p + 4, FALSE) << 32 | get32 (p, FALSE);
}

/* Reads the ELF header and program headers of FD, whose first bytes are
 * HEAD, without trusting any of their fields. */
static gboolean
read_elf (int fd, const guint8 *head, gsize head_len, const char *path, ElfInfo *out, GError **error)
{
  gboolean is64 = head[EI_CLASS] == ELFCLASS64;
  gboolean big = head[EI_DATA] == ELFDATA2MSB;
  gsize ehdr_bytes = is64 ? sizeof (Elf64_Ehdr) : sizeof (Elf32_Ehdr);
  guint64 phoff;
  guint phentsize, phnum;
  gsize want_phentsize = is64 ? sizeof (Elf64_Phdr) : sizeof (Elf32_Phdr);

  if (head_len < ehdr_bytes || (head[EI_CLASS] != ELFCLASS32 && !is64)
      || (head[EI_DATA] != ELFDATA2LSB && !big))
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is not a valid ELF file"), path);

  out->identity.elf_class = head[EI_CLASS];
  out->identity.machine = get16 (head + 18, big);
  phoff = is64 ? get64 (head + 32, big) : get32 (head + 28, big);
  phentsize = get16 (head + (is64 ? 54 : 42), big);
  phnum = get16 (head + (is64 ? 56 : 44), big);
  out->dynamic = FALSE;
  if (phnum == 0 || phentsize < want_phentsize || phnum > 4096)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is not an executable ELF file"), path);

  for (guint i = 0; i < phnum; i++)
    {
      guint8 ph[sizeof (Elf64_Phdr)];

      if (pread (fd, ph, want_phentsize, (off_t) (phoff + (guint64) i * phentsize)) != (gssize) want_phentsize)
        return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” is a truncated ELF file"), path);
      if (get32 (ph, big) == PT_INTERP)
        out->dynamic = TRUE;
    }
  return TRUE;
}

static gboolean
own_identity (ElfIdentity *out)
{
  guint8 head[64];
  ms_cli_autofd fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);

  if (fd < 0 || read (fd, head, sizeof head) != (gssize) sizeof head)
    return FALSE;
  out->elf_class = head[EI_CLASS];
  out->machine = get16 (head + 18, head[EI_DATA] == ELFDATA2MSB);
  return TRUE;
}

/* The loader runs a program in secure mode, and ignores LD_PRELOAD, when
 * exec changes the user or group ID or grants capabilities. */
static gboolean
check_secure_mode (int fd, const struct stat *st, const char *path, GError **error)
{
  struct statvfs fs;
  gboolean nosuid = fstatvfs (fd, &fs) == 0 && (fs.f_flag & ST_NOSUID);

  if (nosuid)
    return TRUE;
  if ((st->st_mode & S_ISUID) && st->st_uid != getuid ())
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” is set-user-ID to another user: the dynamic loader ignores "
                           "LD_PRELOAD for it, so memscope cannot profile it (run memscope-run "
                           "as its owner, or profile a copy without the set-user-ID bit)"),
                         path);
  if ((st->st_mode & S_ISGID) && st->st_gid != getgid ())
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” is set-group-ID to another group: the dynamic loader ignores "
                           "LD_PRELOAD for it, so memscope cannot profile it (profile a copy "
                           "without the set-group-ID bit)"),
                         path);
  if (fgetxattr (fd, "security.capability", NULL, 0) > 0)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” has file capabilities: the dynamic loader ignores LD_PRELOAD "
                           "for it, so memscope cannot profile it (profile a copy without them)"),
                         path);
  return TRUE;
}

/* The "#!" line's interpreter, as the kernel reads it. */
static char *
shebang_interpreter (const guint8 *head, gsize len)
{
  gsize start = 2, end;

  while (start < len && (head[start] == ' ' || head[start] == '\t'))
    start++;
  for (end = start; end < len && head[end] != ' ' && head[end] != '\t' && head[end] != '\n'
                    && head[end] != '\0';
       end++)
    ;
  return end > start ? g_strndup ((const char *) head + start, end - start) : NULL;
}

static gboolean check_file (const char *path, guint depth, gboolean *out_needs_sh, GError **error);

static gboolean
check_interpreter (const char *script, const char *interpreter, guint depth, GError **error)
{
  gboolean needs_sh = FALSE;

  if (interpreter == NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” has an empty “#!” line"), script);
  if (depth >= MAX_INTERPRETERS)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s”: too many levels of “#!” interpreters"), script);
  if (!check_file (interpreter, depth + 1, &needs_sh, error))
    {
      g_prefix_error (error, _("Interpreter of “%s”: "), script);
      return FALSE;
    }
  if (needs_sh)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("The interpreter “%s” of “%s” is not a program the kernel can run"),
                         interpreter, script);
  return TRUE;
}

static gboolean
check_file (const char *path, guint depth, gboolean *out_needs_sh, GError **error)
{
  ms_cli_autofd fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  guint8 head[HEAD_BYTES];
  gssize len;
  ElfInfo info = { 0 };
  ElfIdentity own;

  if (fd < 0)
    return ms_cli_throw_errno (error, errno, _("Cannot run “%s”"), path);
  if (fstat (fd, &st) < 0)
    return ms_cli_throw_errno (error, errno, _("Cannot run “%s”"), path);
  if (S_ISDIR (st.st_mode))
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("Cannot run “%s”: it is a directory"), path);
  if (!S_ISREG (st.st_mode))
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("Cannot run “%s”: it is not a regular file"), path);
  if (access (path, X_OK) < 0)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("Cannot run “%s”: it is not executable (%s)"), path,
                         g_strerror (errno));

  len = pread (fd, head, sizeof head, 0);
  if (len < 0)
    return ms_cli_throw_errno (error, errno, _("Reading “%s”"), path);
  *out_needs_sh = FALSE;

  if (len >= 2 && head[0] == '#' && head[1] == '!')
    {
      g_autofree char *interpreter = shebang_interpreter (head, (gsize) len);
      return check_interpreter (path, interpreter, depth, error);
    }
  if (len < SELFMAG || memcmp (head, ELFMAG, SELFMAG) != 0)
    {
      /* Like execvp: the shell runs what the kernel does not know. */
      *out_needs_sh = TRUE;
      return depth == 0 ? check_interpreter (path, "/bin/sh", depth, error)
                        : TRUE;
    }

  if (!read_elf (fd, head, (gsize) len, path, &info, error))
    return FALSE;
  if (own_identity (&own) && (own.elf_class != info.identity.elf_class || own.machine != info.identity.machine))
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” is built for another architecture than memscope: the preload "
                           "library cannot be loaded into it"),
                         path);
  if (!info.dynamic)
    return ms_cli_throw (error, MS_CLI_ERROR_DATA,
                         _("“%s” is statically linked: memscope works by preloading a library, "
                           "which a static executable never loads (link it dynamically to profile it)"),
                         path);
  return check_secure_mode (fd, &st, path, error);
}

/* execvp's search: the first executable regular file of that name in PATH
 * (glibc's default when PATH is unset); a denied one only if none is found. */
static char *
search_path (const char *name, GError **error)
{
  const char *path_env = g_getenv ("PATH");
  g_auto (GStrv) dirs = g_strsplit (path_env != NULL ? path_env : "/bin:/usr/bin", ":", -1);
  g_autofree char *denied = NULL;

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *candidate = g_build_filename (*dirs[i] != '\0' ? dirs[i] : ".", name, NULL);
      struct stat st;

      if (stat (candidate, &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      if (S_ISREG (st.st_mode) && access (candidate, X_OK) == 0)
        return g_steal_pointer (&candidate);
      if (denied == NULL)
        denied = g_steal_pointer (&candidate);
    }
  if (denied != NULL)
    return g_steal_pointer (&denied); /* check_file says why it cannot run */
  ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” was not found: no such program in PATH"), name);
  return NULL;
}

gboolean
ms_run_target_resolve (char **command, MsRunTarget *out_target, GError **error)
{
  g_autofree char *path = NULL;
  gboolean needs_sh = FALSE;
  GPtrArray *argv;

  if (strchr (command[0], '/') != NULL)
    {
      if (!g_file_test (command[0], G_FILE_TEST_EXISTS))
        return ms_cli_throw (error, MS_CLI_ERROR_DATA, _("“%s” was not found: no such file"), command[0]);
      path = g_strdup (command[0]);
    }
  else if ((path = search_path (command[0], error)) == NULL)
    return FALSE;

  if (!check_file (path, 0, &needs_sh, error))
    return FALSE;

  argv = g_ptr_array_new ();
  if (needs_sh)
    {
      g_ptr_array_add (argv, g_strdup (command[0]));
      g_ptr_array_add (argv, g_strdup (path));
      g_free (path);
      path = g_strdup ("/bin/sh");
    }
  else
    g_ptr_array_add (argv, g_strdup (command[0]));
  for (guint i = 1; command[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (command[i]));
  g_ptr_array_add (argv, NULL);

  out_target->path = g_steal_pointer (&path);
  out_target->argv = (char **) g_ptr_array_free (argv, FALSE);
  return TRUE;
}

void
ms_run_target_clear (MsRunTarget *target)
{
  g_clear_pointer (&target->path, g_free);
  g_clear_pointer (&target->argv, g_strfreev);
}

static gboolean
same_directory (const char *a, const char *b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static gboolean
in_build_tree (void)
{
  g_autofree char *program_dir = ms_cli_get_program_dir ();

  return program_dir != NULL && same_directory (program_dir, MS_ABS_BUILDDIR "/cli");
}

char **
ms_run_undo_libtool_wrapper (char **envp)
{
  const char *libs = MS_ABS_BUILDDIR "/lib/.libs";
  const char *path = g_environ_getenv (envp, "LD_LIBRARY_PATH");

  if (!in_build_tree ())
    return envp;
  if (g_strcmp0 (g_environ_getenv (envp, "BIN_SH"), "xpg4") == 0)
    envp = g_environ_unsetenv (envp, "BIN_SH");
  if (g_strcmp0 (g_environ_getenv (envp, "DUALCASE"), "1") == 0)
    envp = g_environ_unsetenv (envp, "DUALCASE");
  if (path != NULL && g_str_has_prefix (path, libs))
    {
      const char *rest = path + strlen (libs);
      if (*rest == '\0')
        envp = g_environ_unsetenv (envp, "LD_LIBRARY_PATH");
      else if (*rest == ':')
        {
          g_autofree char *kept = g_strdup (rest + 1);
          envp = g_environ_setenv (envp, "LD_LIBRARY_PATH", kept, TRUE);
        }
    }
  return envp;
}

gboolean
ms_run_find_preload (char **out_path, GError **error)
{
  const char *env = g_getenv (MS_RUN_PRELOAD_ENV);
  g_autofree char *found = NULL;

  if (env != NULL && *env != '\0')
    {
      if (!g_file_test (env, G_FILE_TEST_IS_REGULAR))
        return ms_cli_throw (error, MS_CLI_ERROR_FAILED, _("%s names “%s”, which is not a file"),
                             MS_RUN_PRELOAD_ENV, env);
      found = g_canonicalize_filename (env, NULL);
    }
  else if (in_build_tree ())
    {
      /* Running from the build tree: the shim built beside us, never an
       * older installed one. */
      found = g_strdup (MS_ABS_BUILDDIR "/preload/.libs/" MS_RUN_PRELOAD_NAME);
      if (!g_file_test (found, G_FILE_TEST_IS_REGULAR))
        return ms_cli_throw (error, MS_CLI_ERROR_FAILED,
                             _("The preload library is not built yet: “%s” is missing (run make, "
                               "or set %s)"),
                             found, MS_RUN_PRELOAD_ENV);
    }
  else
    {
      found = g_strdup (MS_PKGLIBDIR "/" MS_RUN_PRELOAD_NAME);
      if (!g_file_test (found, G_FILE_TEST_IS_REGULAR))
        return ms_cli_throw (error, MS_CLI_ERROR_FAILED,
                             _("The preload library “%s” is missing: reinstall memscope, or set %s"),
                             found, MS_RUN_PRELOAD_ENV);
    }

  /* LD_PRELOAD splits its list at spaces and colons. */
  if (strpbrk (found, ": \t") != NULL)
    return ms_cli_throw (error, MS_CLI_ERROR_FAILED,
                         _("The preload library's path “%s” holds a space or a colon, which "
                           "LD_PRELOAD cannot express"),
                         found);
  *out_path = g_steal_pointer (&found);
  return TRUE;
}
