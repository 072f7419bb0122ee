/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Compiled with nothing but -I for lib/ (no config.h, no MS_COMPILATION), as
 * a user's program is: <memscope.h> must stand alone, be warning-free under
 * strict flags, and the calls below must link against libmemscope.so.0. */
#include <memscope.h>

static void
test_version (void)
{
  g_autofree char *expected = g_strdup_printf ("%d.%d.%d", MS_MAJOR_VERSION, MS_MINOR_VERSION,
                                               MS_MICRO_VERSION);

  g_assert_cmpstr (MS_VERSION_S, ==, expected);
  g_assert_true (MS_CHECK_VERSION (0, 1, 0));
  g_assert_true (MS_CHECK_VERSION (MS_MAJOR_VERSION, MS_MINOR_VERSION, MS_MICRO_VERSION));
  g_assert_false (MS_CHECK_VERSION (MS_MAJOR_VERSION + 1, 0, 0));
  g_assert_cmpint (MS_FORMAT_MAJOR, ==, 1);
}

static void
test_crc32c (void)
{
  /* The CRC-32C check value of the Rocksoft model (RFC 3720 B.4 uses the
   * same polynomial), in one call and in two. */
  g_assert_cmphex (ms_crc32c (0, "123456789", 9), ==, 0xe3069283);
  g_assert_cmphex (ms_crc32c (ms_crc32c (0, "1234", 4), "56789", 5), ==, 0xe3069283);
}

static void
test_record_codec (void)
{
  MsRecord in = { .kind = MS_RECORD_ALLOC, .time_ns = 5000 };
  MsRecord out;
  MsCodecState enc, dec;
  uint8_t buf[256]; /* ms_record_max_bytes is a loose bound, above MS_HOT_RECORD_MAX_BYTES */
  const uint8_t *pos = buf;
  size_t body;

  in.u.event.addr = 0x7f0000001000;
  in.u.event.size = 24;
  in.u.event.stack_id = 3;
  in.u.event.weight = MS_WEIGHT_ONE;
  g_assert_cmpuint (ms_record_max_bytes (&in), <=, sizeof buf);

  ms_codec_state_init (&enc, 1000);
  ms_codec_state_init (&dec, 1000);
  buf[0] = (uint8_t) in.kind;
  body = ms_record_encode_body (buf + 1, &enc, &in);
  g_assert_cmpuint (body, >, 0);

  g_assert_cmpint (ms_record_decode (&pos, buf + 1 + body, &dec, &out), ==, MS_DECODE_OK);
  g_assert_true (pos == buf + 1 + body);
  g_assert_cmpint (out.kind, ==, MS_RECORD_ALLOC);
  g_assert_cmpuint (out.time_ns, ==, in.time_ns);
  g_assert_cmphex (out.u.event.addr, ==, in.u.event.addr);
  g_assert_cmpuint (out.u.event.size, ==, in.u.event.size);
  g_assert_cmpuint (out.u.event.stack_id, ==, in.u.event.stack_id);
}

static void
test_reader_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsReader) reader = ms_reader_open ("/nonexistent/memscope/trace.mst", &error);

  g_assert_null (reader);
  g_assert_error (error, MS_ERROR, MS_ERROR_IO);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memscope/public-header/c/version", test_version);
  g_test_add_func ("/memscope/public-header/c/crc32c", test_crc32c);
  g_test_add_func ("/memscope/public-header/c/record-codec", test_record_codec);
  g_test_add_func ("/memscope/public-header/c/reader-error", test_reader_error);
  return g_test_run ();
}
