/* File services codec (mms_file.h):
 *  - goldens 108-129 byte for byte: requests encoded from parameters equal the
 *    captured ones (and decode back on the server side), responses decode to
 *    the captured values and re-encode to the same octets (the client's
 *    ObtainFile answers 124/126/128 included), errors and rejects map to the
 *    right i61_err;
 *  - GeneralizedTime <-> ms, FileName forms (several GraphicStrings, NUL
 *    octets), sizes above 2^32 - 1, the implicit directory list form, the
 *    size helpers used for paging and chunking;
 *  - malformed input: every truncation and every single-octet change of each
 *    golden decodes or fails cleanly (ASan watches the bounds). */
#include "t.h"
#include "ber/ber.h"
#include "mms/mms_file.h"
#include "mms/mms_pdu.h"

/* The MMS PDU of a golden frame (TPKT, COTP DT, session GT+DT, presentation
 * 61 { 30 { 02 ctx, a0 <MMS> } }): a malloc'd copy. */
static uint8_t *g_pdu(const char *name, size_t *len)
{
    size_t fl;
    uint8_t *f = t_golden(name, &fl);
    size_t p = 4 + 1 + (size_t)f[4] + 4;
    i61_ber_tlv t, c;
    i61_ber_reader r;
    if (i61_ber_parse(f + p, fl - p, &t, NULL) != 0 || t.id != 0x61) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &t) != 0 || t.id != 0x30) goto bad;
    i61_ber_reader_sub(&r, &t);
    if (i61_ber_next(&r, &c) != 0 || c.id != 0x02) goto bad;
    if (i61_ber_next(&r, &c) != 0 || c.id != 0xa0) goto bad;
    uint8_t *out = malloc(c.len);
    memcpy(out, c.val, c.len);
    *len = c.len;
    free(f);
    return out;
bad:
    fprintf(stderr, "%s: no presentation data\n", name);
    exit(2);
}

#define GOLD_MTIME 1795245237000LL     /* 2026-11-21 07:13:57 UTC */

/* b equals golden `name`. */
static void check_equal(const i61_buf *b, const char *name)
{
    size_t gl;
    uint8_t *g = g_pdu(name, &gl);
    T_EQ_MEM(b->data, b->len, g, gl);
    if (b->len != gl || memcmp(b->data, g, gl) != 0) {
        fprintf(stderr, "  (%s)\n  got ", name);
        for (size_t i = 0; i < b->len; i++) fprintf(stderr, "%02x", b->data[i]);
        fprintf(stderr, "\n  exp ");
        for (size_t i = 0; i < gl; i++) fprintf(stderr, "%02x", g[i]);
        fprintf(stderr, "\n");
    }
    free(g);
}

/* Decodes golden request `name` as a server would. */
static int dec_golden_req(const char *name, i61_mms_request *rq, i61_mms_file_req *fr,
                          uint8_t **keep)
{
    size_t gl;
    *keep = g_pdu(name, &gl);
    int rc = i61_mms_dec_request(*keep, gl, rq);
    if (rc != I61_OK)
        return rc;
    return i61_mms_dec_file_req(rq, fr);
}

/* ------------------------------------------------------------ directory */

static void test_directory_108_109(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 53, "/", NULL), I61_OK);
    check_equal(&b, "108_filedirectory_request");

    i61_mms_request rq;
    i61_mms_file_req fr;
    uint8_t *keep;
    T_EQ_INT(dec_golden_req("108_filedirectory_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(rq.invoke_id, 53);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_DIRECTORY);
    T_CHECK(fr.has_name && strcmp(fr.name, "/") == 0 && fr.name_len == 1);
    T_CHECK(!fr.has_name2 && fr.name2 == NULL);
    i61_mms_file_req_clear(&fr);
    free(keep);

    size_t gl;
    uint8_t *g = g_pdu("109_filedirectory_response", &gl);
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    bool more = true;
    i61_mms_error e;
    T_EQ_INT(i61_mms_dec_file_directory_resp(g, gl, &d, &more, &e), I61_OK);
    T_EQ_INT(e.kind, 0);
    T_CHECK(!more);
    T_EQ_INT(d.count, 2);
    if (d.count == 2) {
        T_CHECK(strcmp(d.items[0].name, "file2.txt") == 0);
        T_EQ_INT(d.items[0].size, 25);
        T_EQ_INT(d.items[0].mtime_ms, GOLD_MTIME);
        T_CHECK(strcmp(d.items[1].name, "file1.txt") == 0);
        T_EQ_INT(d.items[1].size, 30);
        T_EQ_INT(d.items[1].mtime_ms, GOLD_MTIME);
        /* re-encode */
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_file_directory_resp(&b, 53, d.items, d.count, false), I61_OK);
        check_equal(&b, "109_filedirectory_response");
        /* the size helpers agree with the encoder (moreFollows TRUE adds 3) */
        size_t sum = i61_mms_file_entry_encoded_size(&d.items[0]) +
                     i61_mms_file_entry_encoded_size(&d.items[1]);
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_file_directory_resp(&b, 53, d.items, d.count, true), I61_OK);
        T_EQ_INT(i61_mms_file_dir_resp_size(53, sum), b.len);
        bool m2 = false;
        i61_mms_file_dir d2;
        i61_mms_file_dir_init(&d2);
        T_EQ_INT(i61_mms_dec_file_directory_resp(b.data, b.len, &d2, &m2, NULL), I61_OK);
        T_CHECK(m2);
        T_EQ_INT(d2.count, 2);
        i61_mms_file_dir_clear(&d2);
    }
    /* a second page appends */
    T_EQ_INT(i61_mms_dec_file_directory_resp(g, gl, &d, &more, NULL), I61_OK);
    T_EQ_INT(d.count, 4);
    i61_mms_file_dir_clear(&d);
    T_EQ_INT(d.count, 0);
    free(g);

    /* absent fileSpecification, continueAfter only */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 7, NULL, "file2.txt"), I61_OK);
    static const uint8_t exp[] = { 0xa0, 0x13, 0x02, 0x01, 0x07, 0xbf, 0x4d, 0x0d, 0xa1, 0x0b,
                                   0x19, 0x09, 'f', 'i', 'l', 'e', '2', '.', 't', 'x', 't' };
    T_EQ_MEM(b.data, b.len, exp, sizeof exp);
    T_EQ_INT(i61_mms_dec_request(b.data, b.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_CHECK(!fr.has_name && fr.has_name2 && strcmp(fr.name2, "file2.txt") == 0);
    i61_mms_file_req_clear(&fr);
    /* no parameters at all */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_directory_req(&b, 7, NULL, NULL), I61_OK);
    static const uint8_t exp2[] = { 0xa0, 0x06, 0x02, 0x01, 0x07, 0xbf, 0x4d, 0x00 };
    T_EQ_MEM(b.data, b.len, exp2, sizeof exp2);
    /* empty listing */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_directory_resp(&b, 9, NULL, 0, false), I61_OK);
    i61_mms_file_dir_init(&d);
    T_EQ_INT(i61_mms_dec_file_directory_resp(b.data, b.len, &d, &more, NULL), I61_OK);
    T_EQ_INT(d.count, 0);
    T_CHECK(!more);
    i61_buf_free(&b);
}

/* Directory listing with the entries directly in [0] (implicit SEQUENCE OF):
 * tolerated. */
static void test_directory_implicit_form(void)
{
    static const uint8_t pdu[] = {
        0xa1, 0x18, 0x02, 0x01, 0x05, 0xbf, 0x4d, 0x12,
        0xa0, 0x10,
        0x30, 0x0e, 0xa0, 0x05, 0x19, 0x03, 'a', '.', 'b',
        0xa1, 0x05, 0x80, 0x03, 0x01, 0x00, 0x00
    };
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    bool more = true;
    T_EQ_INT(i61_mms_dec_file_directory_resp(pdu, sizeof pdu, &d, &more, NULL), I61_OK);
    T_EQ_INT(d.count, 1);
    T_CHECK(!more);
    if (d.count == 1) {
        T_CHECK(strcmp(d.items[0].name, "a.b") == 0);
        T_EQ_INT(d.items[0].size, 65536);
        T_EQ_INT(d.items[0].mtime_ms, -1);
    }
    i61_mms_file_dir_clear(&d);
}

/* --------------------------------------------------------------- download */

static void test_download_110_115(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_open_req(&b, 54, "file1.txt", 0), I61_OK);
    check_equal(&b, "110_fileopen_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_read_req(&b, 55, 0), I61_OK);
    check_equal(&b, "112_fileread_request");
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_close_req(&b, 56, 0), I61_OK);
    check_equal(&b, "114_fileclose_request");

    /* server side of the requests */
    i61_mms_request rq;
    i61_mms_file_req fr;
    uint8_t *keep;
    T_EQ_INT(dec_golden_req("110_fileopen_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_OPEN);
    T_CHECK(fr.has_name && strcmp(fr.name, "file1.txt") == 0);
    T_EQ_INT(fr.initial_position, 0);
    i61_mms_file_req_clear(&fr);
    free(keep);
    T_EQ_INT(dec_golden_req("112_fileread_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_READ);
    T_EQ_INT(fr.frsm_id, 0);
    T_EQ_INT(rq.invoke_id, 55);
    i61_mms_file_req_clear(&fr);
    free(keep);
    T_EQ_INT(dec_golden_req("114_fileclose_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_CLOSE);
    i61_mms_file_req_clear(&fr);
    free(keep);

    /* responses */
    size_t gl;
    uint8_t *g = g_pdu("111_fileopen_response", &gl);
    int32_t frsm = -1;
    uint64_t size = 0;
    int64_t mt = 0;
    T_EQ_INT(i61_mms_dec_file_open_resp(g, gl, &frsm, &size, &mt, NULL), I61_OK);
    T_EQ_INT(frsm, 0);
    T_EQ_INT(size, 30);
    T_EQ_INT(mt, GOLD_MTIME);
    free(g);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, 54, 0, 30, GOLD_MTIME), I61_OK);
    check_equal(&b, "111_fileopen_response");

    g = g_pdu("113_fileread_response", &gl);
    const uint8_t *data = NULL;
    size_t dl = 0;
    bool more = true;
    T_EQ_INT(i61_mms_dec_file_read_resp(g, gl, &data, &dl, &more, NULL), I61_OK);
    T_EQ_MEM(data, dl, "Golden capture test file one.\n", 30);
    T_CHECK(!more);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_read_resp(&b, 55, data, dl, false), I61_OK);
    check_equal(&b, "113_fileread_response");
    free(g);

    g = g_pdu("115_fileclose_response", &gl);
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_FILE_CLOSE, NULL), I61_OK);
    /* the wrong service is malformed */
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_FILE_DELETE, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    free(g);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, 56, I61_MMS_SVC_FILE_CLOSE), I61_OK);
    check_equal(&b, "115_fileclose_response");

    /* moreFollows absent = TRUE */
    static const uint8_t rd[] = { 0xa1, 0x0b, 0x02, 0x01, 0x01, 0xbf, 0x49, 0x05, 0x80, 0x03,
                                  'a', 'b', 'c' };
    more = false;
    T_EQ_INT(i61_mms_dec_file_read_resp(rd, sizeof rd, &data, &dl, &more, NULL), I61_OK);
    T_CHECK(more);
    T_EQ_INT(dl, 3);
    /* an empty chunk */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_read_resp(&b, 3, NULL, 0, false), I61_OK);
    T_EQ_INT(i61_mms_dec_file_read_resp(b.data, b.len, &data, &dl, &more, NULL), I61_OK);
    T_EQ_INT(dl, 0);
    T_CHECK(!more);
    /* negative and large frsm ids round-trip */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_read_req(&b, 70000, -2), I61_OK);
    T_EQ_INT(i61_mms_dec_request(b.data, b.len, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_EQ_INT(fr.frsm_id, -2);
    T_EQ_INT(rq.invoke_id, 70000);
    i61_buf_free(&b);
}

/* -------------------------------------------------------- rename, delete */

static void test_rename_delete_116_121(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 57, "file1.txt", "file1b.txt"), I61_OK);
    check_equal(&b, "116_filerename_request");
    i61_mms_request rq;
    i61_mms_file_req fr;
    uint8_t *keep;
    T_EQ_INT(dec_golden_req("116_filerename_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_RENAME);
    T_CHECK(fr.name && strcmp(fr.name, "file1.txt") == 0);
    T_CHECK(fr.name2 && strcmp(fr.name2, "file1b.txt") == 0);
    i61_mms_file_req_clear(&fr);
    free(keep);

    size_t gl;
    uint8_t *g = g_pdu("117_filerename_reject", &gl);
    i61_mms_error e;
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_FILE_RENAME, &e),
             I61_ERR_SERVICE_NOT_SUPPORTED);
    T_EQ_INT(e.kind, I61_MMS_KIND_REJECT);
    T_EQ_INT(e.cls, I61_MMS_REJECT_CONFIRMED_REQUEST);
    T_EQ_INT(e.code, I61_MMS_REJECT_UNRECOGNIZED_SERVICE);
    free(g);

    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 58, "file2.txt"), I61_OK);
    check_equal(&b, "118_filedelete_request");
    T_EQ_INT(dec_golden_req("118_filedelete_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_DELETE);
    T_CHECK(fr.name && strcmp(fr.name, "file2.txt") == 0);
    i61_mms_file_req_clear(&fr);
    free(keep);
    g = g_pdu("119_filedelete_response", &gl);
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_FILE_DELETE, &e), I61_OK);
    T_EQ_INT(e.kind, 0);
    free(g);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, 58, I61_MMS_SVC_FILE_DELETE), I61_OK);
    check_equal(&b, "119_filedelete_response");

    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 59, "nosuchfile.txt"), I61_OK);
    check_equal(&b, "120_filedelete_fail_request");
    g = g_pdu("121_filedelete_fail_error", &gl);
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_FILE_DELETE, &e),
             I61_ERR_OBJECT_DOES_NOT_EXIST);
    T_EQ_INT(e.kind, I61_MMS_KIND_ERROR);
    T_EQ_INT(e.cls, I61_MMS_ERRCLASS_FILE);
    T_EQ_INT(e.code, I61_MMS_FILE_ERR_FILE_NON_EXISTENT);
    char txt[96];
    T_CHECK(strcmp(i61_mms_error_text(&e, txt, sizeof txt), "ServiceError file/file-non-existent") == 0);
    free(g);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_error(&b, 59, I61_MMS_FILE_ERR_FILE_NON_EXISTENT), I61_OK);
    check_equal(&b, "121_filedelete_fail_error");
    /* the same error answers any file service */
    T_EQ_INT(i61_mms_dec_file_open_resp(b.data, b.len, NULL, NULL, NULL, NULL),
             I61_ERR_OBJECT_DOES_NOT_EXIST);

    /* file error classes -> i61_err */
    static const struct { int code; int err; } map[] = {
        { I61_MMS_FILE_ERR_FILE_ACCESS_DENIED, I61_ERR_ACCESS_DENIED },
        { I61_MMS_FILE_ERR_FILE_NON_EXISTENT, I61_ERR_OBJECT_DOES_NOT_EXIST },
        { I61_MMS_FILE_ERR_DUPLICATE_FILENAME, I61_ERR_OBJECT_EXISTS },
        { I61_MMS_FILE_ERR_FILE_BUSY, I61_ERR_TEMPORARILY_UNAVAILABLE },
        { I61_MMS_FILE_ERR_INSUFFICIENT_SPACE, I61_ERR_TEMPORARILY_UNAVAILABLE },
        { I61_MMS_FILE_ERR_FILENAME_SYNTAX_ERROR, I61_ERR_INVALID_ARGUMENT },
        { I61_MMS_FILE_ERR_OTHER, I61_ERR_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        i61_buf_reset(&b);
        T_EQ_INT(i61_mms_enc_file_error(&b, 1, map[i].code), I61_OK);
        T_EQ_INT(i61_mms_dec_file_null_resp(b.data, b.len, I61_MMS_SVC_FILE_RENAME, NULL),
                 map[i].err);
    }
    T_EQ_INT(i61_mms_enc_file_error(&b, 1, 10), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_file_error(&b, 1, -1), I61_ERR_INVALID_ARGUMENT);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ obtain file */

static void test_obtain_122_129(void)
{
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 60, "upload.txt", "upload.txt"), I61_OK);
    check_equal(&b, "122_obtainfile_request");
    i61_mms_request rq;
    i61_mms_file_req fr;
    uint8_t *keep;
    T_EQ_INT(dec_golden_req("122_obtainfile_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(fr.service, I61_MMS_SVC_OBTAIN_FILE);
    T_CHECK(fr.name && strcmp(fr.name, "upload.txt") == 0);
    T_CHECK(fr.name2 && strcmp(fr.name2, "upload.txt") == 0);
    T_CHECK(!fr.has_source_server);
    i61_mms_file_req_clear(&fr);
    free(keep);

    /* the server's requests to the client, as the client decodes them */
    T_EQ_INT(dec_golden_req("123_obtainfile_srv_fileopen_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(rq.invoke_id, 1);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_OPEN);
    T_CHECK(fr.name && strcmp(fr.name, "upload.txt") == 0);
    i61_mms_file_req_clear(&fr);
    free(keep);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_open_req(&b, 1, "upload.txt", 0), I61_OK);
    check_equal(&b, "123_obtainfile_srv_fileopen_request");
    /* the client's answers, byte for byte */
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, 1, 0, 24, GOLD_MTIME), I61_OK);
    check_equal(&b, "124_obtainfile_cli_fileopen_response");

    T_EQ_INT(dec_golden_req("125_obtainfile_srv_fileread_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(rq.invoke_id, 2);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_READ);
    T_EQ_INT(fr.frsm_id, 0);
    i61_mms_file_req_clear(&fr);
    free(keep);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_read_resp(&b, 2, (const uint8_t *)"uploaded via ObtainFile\n", 24,
                                        false), I61_OK);
    check_equal(&b, "126_obtainfile_cli_fileread_response");

    T_EQ_INT(dec_golden_req("127_obtainfile_srv_fileclose_request", &rq, &fr, &keep), I61_OK);
    T_EQ_INT(rq.invoke_id, 3);
    T_EQ_INT(fr.service, I61_MMS_SVC_FILE_CLOSE);
    i61_mms_file_req_clear(&fr);
    free(keep);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, 3, I61_MMS_SVC_FILE_CLOSE), I61_OK);
    check_equal(&b, "128_obtainfile_cli_fileclose_response");

    size_t gl;
    uint8_t *g = g_pdu("129_obtainfile_response", &gl);
    T_EQ_INT(i61_mms_dec_file_null_resp(g, gl, I61_MMS_SVC_OBTAIN_FILE, NULL), I61_OK);
    free(g);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_null_resp(&b, 60, I61_MMS_SVC_OBTAIN_FILE), I61_OK);
    check_equal(&b, "129_obtainfile_response");

    /* with a sourceFileServer (skipped) */
    static const uint8_t ob[] = { 0xa0, 0x16, 0x02, 0x01, 0x09, 0xbf, 0x2e, 0x10,
                                  0xa0, 0x02, 0x80, 0x00,
                                  0xa1, 0x04, 0x19, 0x02, 'a', 'b',
                                  0xa2, 0x04, 0x19, 0x02, 'c', 'd' };
    T_EQ_INT(i61_mms_dec_request(ob, sizeof ob, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_CHECK(fr.has_source_server);
    T_CHECK(fr.name && strcmp(fr.name, "ab") == 0 && fr.name2 && strcmp(fr.name2, "cd") == 0);
    i61_mms_file_req_clear(&fr);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------ file names */

static void test_file_names(void)
{
    /* FileDelete with two GraphicStrings -> joined with '/' */
    static const uint8_t two[] = { 0xa0, 0x0e, 0x02, 0x01, 0x01, 0xbf, 0x4c, 0x08,
                                   0x19, 0x02, 'd', 'r', 0x19, 0x02, 'f', 'n' };
    i61_mms_request rq;
    i61_mms_file_req fr;
    T_EQ_INT(i61_mms_dec_request(two, sizeof two, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_CHECK(fr.name && strcmp(fr.name, "dr/fn") == 0);
    T_EQ_INT(fr.name_len, 5);
    i61_mms_file_req_clear(&fr);
    /* a NUL octet is kept: strlen differs from the length */
    static const uint8_t nul[] = { 0xa0, 0x0b, 0x02, 0x01, 0x01, 0xbf, 0x4c, 0x05,
                                   0x19, 0x03, 'a', 0x00, 'b' };
    T_EQ_INT(i61_mms_dec_request(nul, sizeof nul, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_EQ_INT(fr.name_len, 3);
    T_CHECK(fr.name && strlen(fr.name) == 1);
    i61_mms_file_req_clear(&fr);
    /* no GraphicString at all: empty name */
    static const uint8_t empty[] = { 0xa0, 0x06, 0x02, 0x01, 0x01, 0xbf, 0x4c, 0x00 };
    T_EQ_INT(i61_mms_dec_request(empty, sizeof empty, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_OK);
    T_CHECK(fr.has_name && fr.name && fr.name[0] == '\0' && fr.name_len == 0);
    i61_mms_file_req_clear(&fr);
    /* a non-string element is malformed */
    static const uint8_t bad[] = { 0xa0, 0x09, 0x02, 0x01, 0x01, 0xbf, 0x4c, 0x03,
                                   0x02, 0x01, 0x05 };
    T_EQ_INT(i61_mms_dec_request(bad, sizeof bad, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_ERR_MALFORMED_MESSAGE);
    i61_mms_file_req_clear(&fr);
    /* a non-file service */
    static const uint8_t ident[] = { 0xa0, 0x05, 0x02, 0x01, 0x01, 0x82, 0x00 };
    T_EQ_INT(i61_mms_dec_request(ident, sizeof ident, &rq), I61_OK);
    T_EQ_INT(i61_mms_dec_file_req(&rq, &fr), I61_ERR_MALFORMED_MESSAGE);
    T_CHECK(!i61_mms_is_file_service(2));
    T_CHECK(i61_mms_is_file_service(46) && i61_mms_is_file_service(77));
    /* encoders refuse empty / NULL names */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_open_req(&b, 1, "", 0), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_file_delete_req(&b, 1, NULL), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_file_rename_req(&b, 1, "a", ""), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_obtain_file_req(&b, 1, NULL, "x"), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);
    i61_buf_free(&b);
}

/* ------------------------------------------------------------- sizes, time */

static void test_sizes(void)
{
    /* a FileOpen response carrying a 5-octet size (6 GiB) decodes as uint64 */
    static const uint8_t big[] = { 0xa1, 0x10, 0x02, 0x01, 0x01, 0xbf, 0x48, 0x0a,
                                   0x80, 0x01, 0x03, 0xa1, 0x05, 0x80, 0x03, 0x00, 0x80, 0x00 };
    int32_t frsm;
    uint64_t size;
    int64_t mt;
    T_EQ_INT(i61_mms_dec_file_open_resp(big, sizeof big, &frsm, &size, &mt, NULL), I61_OK);
    T_EQ_INT(size, 32768);
    T_EQ_INT(mt, -1);
    T_EQ_INT(frsm, 3);
    static const uint8_t big2[] = { 0xa1, 0x12, 0x02, 0x01, 0x01, 0xbf, 0x48, 0x0c,
                                    0x80, 0x01, 0x03, 0xa1, 0x07, 0x80, 0x05, 0x01, 0x80, 0x00,
                                    0x00, 0x00 };
    T_EQ_INT(i61_mms_dec_file_open_resp(big2, sizeof big2, &frsm, &size, &mt, NULL), I61_OK);
    T_EQ_INT(size, 0x180000000ULL);
    /* negative sizes are malformed */
    static const uint8_t neg[] = { 0xa1, 0x0e, 0x02, 0x01, 0x01, 0xbf, 0x48, 0x08,
                                   0x80, 0x01, 0x03, 0xa1, 0x03, 0x80, 0x01, 0xff };
    T_EQ_INT(i61_mms_dec_file_open_resp(neg, sizeof neg, &frsm, &size, &mt, NULL),
             I61_ERR_MALFORMED_MESSAGE);
    /* encoders refuse more than 2^32 - 1 */
    i61_buf b;
    i61_buf_init(&b);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, 1, 0, 0x100000000ULL, -1), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(i61_mms_enc_file_open_resp(&b, 1, 0, 0xffffffffULL, -1), I61_OK);
    T_EQ_INT(i61_mms_dec_file_open_resp(b.data, b.len, &frsm, &size, &mt, NULL), I61_OK);
    T_EQ_INT(size, 0xffffffffULL);
    T_EQ_INT(mt, -1);
    i61_mms_file_entry e = { "x", 1, 0x100000000ULL, -1 };
    T_EQ_INT(i61_mms_file_entry_encoded_size(&e), 0);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_directory_resp(&b, 1, &e, 1, false), I61_ERR_INVALID_ARGUMENT);
    T_EQ_INT(b.len, 0);

    /* read chunks: the largest chunk always fits the PDU, one more octet does not */
    static const uint32_t pdus[] = { 64, 127, 128, 129, 300, 1000, 65000, 70000, 1u << 20 };
    static const uint32_t ids[] = { 0, 127, 128, 65535, 0x7fffffff, 0xffffffffu };
    for (size_t i = 0; i < sizeof pdus / sizeof pdus[0]; i++) {
        size_t n = i61_mms_file_read_max_data(pdus[i]);
        T_CHECK(n > 0);
        uint8_t *d = calloc(1, n + 1);
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
            i61_buf_reset(&b);
            T_EQ_INT(i61_mms_enc_file_read_resp(&b, ids[k], d, n, true), I61_OK);
            T_CHECK(b.len <= pdus[i]);
        }
        /* the overhead estimate is tight to within a few octets */
        i61_buf_reset(&b);
        i61_mms_enc_file_read_resp(&b, 1, d, n, true);
        T_CHECK(b.len + 32 >= pdus[i]);
        free(d);
    }
    T_EQ_INT(i61_mms_file_read_max_data(10), 0);

    /* directory paging helper: entries that sum up to a budget fit the PDU */
    i61_mms_file_entry many[200];
    char names[200][40];
    size_t sum = 0, fit = 0;
    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof names[i], "dir%03d/COMTRADE_record_%05d.cfg", i % 7, i * 37);
        many[i].name = names[i];
        many[i].name_len = strlen(names[i]);
        many[i].size = (uint64_t)i * 100003u;
        many[i].mtime_ms = i % 3 ? GOLD_MTIME + i : -1;
        size_t es = i61_mms_file_entry_encoded_size(&many[i]);
        T_CHECK(es > 0);
        if (i61_mms_file_dir_resp_size(0xffffffffu, sum + es) <= 4000) {
            sum += es;
            fit++;
        }
    }
    T_CHECK(fit > 10 && fit < 200);
    i61_buf_reset(&b);
    T_EQ_INT(i61_mms_enc_file_directory_resp(&b, 0xffffffffu, many, fit, true), I61_OK);
    T_CHECK(b.len <= 4000);
    T_EQ_INT(b.len, i61_mms_file_dir_resp_size(0xffffffffu, sum));
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    bool more = false;
    T_EQ_INT(i61_mms_dec_file_directory_resp(b.data, b.len, &d, &more, NULL), I61_OK);
    T_EQ_INT(d.count, fit);
    T_CHECK(more);
    for (size_t i = 0; i < d.count && i < fit; i++) {
        T_CHECK(strcmp(d.items[i].name, names[i]) == 0);
        T_EQ_INT(d.items[i].size, many[i].size);
        T_EQ_INT(d.items[i].mtime_ms, many[i].mtime_ms);
    }
    i61_mms_file_dir_clear(&d);
    i61_buf_free(&b);
}

static void test_gtime(void)
{
    int64_t ms = 0;
    T_EQ_INT(i61_mms_gtime_to_ms("20261121071357.000Z", 19, &ms), I61_OK);
    T_EQ_INT(ms, GOLD_MTIME);
    T_EQ_INT(i61_mms_gtime_to_ms("20261121071357Z", 15, &ms), I61_OK);
    T_EQ_INT(ms, GOLD_MTIME);
    T_EQ_INT(i61_mms_gtime_to_ms("20261121071357", 14, &ms), I61_OK);      /* no zone: UTC */
    T_EQ_INT(ms, GOLD_MTIME);
    T_EQ_INT(i61_mms_gtime_to_ms("20261121081357.5+0100", 21, &ms), I61_OK);
    T_EQ_INT(ms, GOLD_MTIME + 500);
    T_EQ_INT(i61_mms_gtime_to_ms("20261121061357,25-01", 20, &ms), I61_OK);
    T_EQ_INT(ms, GOLD_MTIME + 250);
    T_EQ_INT(i61_mms_gtime_to_ms("2026112107Z", 11, &ms), I61_OK);
    T_EQ_INT(ms, GOLD_MTIME - (13 * 60 + 57) * 1000);
    T_EQ_INT(i61_mms_gtime_to_ms("20000229235959.999Z", 19, &ms), I61_OK);
    T_EQ_INT(ms, 951868799999LL);
    T_EQ_INT(i61_mms_gtime_to_ms("19691231235959.5Z", 17, &ms), I61_OK);
    T_EQ_INT(ms, -500);
    /* broken texts */
    static const char *bad[] = { "", "2026", "20261321071357Z", "20260230071357Z",
                                 "20261121241357Z", "2026112107135Z", "20261121071357.Z",
                                 "20261121071357ZZ", "2026x121071357Z", "20261121071357+1",
                                 "19000229000000Z", "20261121071357 " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = i61_mms_gtime_to_ms(bad[i], strlen(bad[i]), &ms);
        if (rc != I61_ERR_MALFORMED_MESSAGE)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        T_EQ_INT(rc, I61_ERR_MALFORMED_MESSAGE);
    }
    char t[I61_MMS_GTIME_TEXT];
    T_EQ_INT(i61_mms_gtime_from_ms(GOLD_MTIME, t), 19);
    T_CHECK(strcmp(t, "20261121071357.000Z") == 0);
    T_EQ_INT(i61_mms_gtime_from_ms(-500, t), 19);
    T_CHECK(strcmp(t, "19691231235959.500Z") == 0);
    T_EQ_INT(i61_mms_gtime_from_ms(-11670912000000LL, t), 19);
    T_CHECK(strcmp(t, "16000301000000.000Z") == 0);
    T_EQ_INT(i61_mms_gtime_from_ms(253402300800000LL, t), 0);     /* year 10000 */
    /* round trips over a wide range */
    int ok = 1;
    for (int64_t v = -62167219200000LL; v < 253402300799999LL; v += 86400000LL * 97 + 12345) {
        int64_t back;
        if (i61_mms_gtime_from_ms(v, t) != 19 || i61_mms_gtime_to_ms(t, 19, &back) != I61_OK
            || back != v) {
            fprintf(stderr, "round trip %lld -> %s\n", (long long)v, t);
            ok = 0;
            break;
        }
    }
    T_CHECK(ok);
    /* an unreadable lastModified is reported as absent */
    static const uint8_t odd[] = { 0xa1, 0x13, 0x02, 0x01, 0x01, 0xbf, 0x48, 0x0d,
                                   0x80, 0x01, 0x00, 0xa1, 0x08, 0x80, 0x01, 0x05,
                                   0x81, 0x03, 'x', 'y', 'z' };
    int32_t f;
    uint64_t s;
    ms = 0;
    T_EQ_INT(i61_mms_dec_file_open_resp(odd, sizeof odd, &f, &s, &ms, NULL), I61_OK);
    T_EQ_INT(ms, -1);
    T_EQ_INT(s, 5);
}

/* ------------------------------------------------------------- malformed */

typedef int (*dec_fn)(const uint8_t *p, size_t n);

static int d_dir(const uint8_t *p, size_t n)
{
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    bool m;
    int rc = i61_mms_dec_file_directory_resp(p, n, &d, &m, NULL);
    i61_mms_file_dir_clear(&d);
    return rc;
}
static int d_open(const uint8_t *p, size_t n)
{
    int32_t f;
    uint64_t s;
    int64_t t;
    return i61_mms_dec_file_open_resp(p, n, &f, &s, &t, NULL);
}
static int d_read(const uint8_t *p, size_t n)
{
    const uint8_t *d;
    size_t l;
    bool m;
    return i61_mms_dec_file_read_resp(p, n, &d, &l, &m, NULL);
}
static int d_close(const uint8_t *p, size_t n)
{
    return i61_mms_dec_file_null_resp(p, n, I61_MMS_SVC_FILE_CLOSE, NULL);
}
static int d_del(const uint8_t *p, size_t n)
{
    return i61_mms_dec_file_null_resp(p, n, I61_MMS_SVC_FILE_DELETE, NULL);
}
static int d_req(const uint8_t *p, size_t n)
{
    i61_mms_request rq;
    i61_mms_file_req fr;
    int rc = i61_mms_dec_request(p, n, &rq);
    if (rc == I61_OK)
        rc = i61_mms_dec_file_req(&rq, &fr);
    else
        memset(&fr, 0, sizeof fr);
    i61_mms_file_req_clear(&fr);
    return rc;
}

static void mutate(const char *golden, dec_fn fn)
{
    size_t n;
    uint8_t *g = g_pdu(golden, &n);
    T_EQ_INT(fn(g, n), fn == d_del && strstr(golden, "fail") ? I61_ERR_OBJECT_DOES_NOT_EXIST : I61_OK);
    int truncated_ok = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = malloc(k ? k : 1);
        memcpy(c, g, k);
        if (fn(c, k) == I61_OK)
            truncated_ok++;
        free(c);
    }
    T_EQ_INT(truncated_ok, 0);
    uint8_t *c = malloc(n);
    for (size_t i = 0; i < n; i++) {
        static const uint8_t deltas[] = { 0x01, 0x80, 0xff, 0x20 };
        for (size_t d = 0; d < sizeof deltas; d++) {
            memcpy(c, g, n);
            c[i] ^= deltas[d];
            (void)fn(c, n);              /* any result, but no crash or over-read */
        }
    }
    free(c);
    free(g);
}

static void test_malformed(void)
{
    mutate("109_filedirectory_response", d_dir);
    mutate("111_fileopen_response", d_open);
    mutate("124_obtainfile_cli_fileopen_response", d_open);
    mutate("113_fileread_response", d_read);
    mutate("126_obtainfile_cli_fileread_response", d_read);
    mutate("115_fileclose_response", d_close);
    mutate("119_filedelete_response", d_del);
    mutate("121_filedelete_fail_error", d_del);
    mutate("108_filedirectory_request", d_req);
    mutate("110_fileopen_request", d_req);
    mutate("112_fileread_request", d_req);
    mutate("116_filerename_request", d_req);
    mutate("118_filedelete_request", d_req);
    mutate("122_obtainfile_request", d_req);
    /* trailing octets after the PDU */
    size_t n;
    uint8_t *g = g_pdu("113_fileread_response", &n);
    uint8_t *c = malloc(n + 1);
    memcpy(c, g, n);
    c[n] = 0;
    T_EQ_INT(d_read(c, n + 1), I61_ERR_MALFORMED_MESSAGE);
    free(c);
    free(g);
    /* a response for another service */
    g = g_pdu("111_fileopen_response", &n);
    T_EQ_INT(d_read(g, n), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(d_dir(g, n), I61_ERR_MALFORMED_MESSAGE);
    free(g);
    /* a directory that fails half-way keeps what the list had */
    i61_mms_file_dir d;
    i61_mms_file_dir_init(&d);
    g = g_pdu("109_filedirectory_response", &n);
    T_EQ_INT(i61_mms_dec_file_directory_resp(g, n, &d, NULL, NULL), I61_OK);
    g[n - 21] = 0x82;       /* second entry's lastModified tag 81 -> 82 */
    T_EQ_INT(i61_mms_dec_file_directory_resp(g, n, &d, NULL, NULL), I61_ERR_MALFORMED_MESSAGE);
    T_EQ_INT(d.count, 2);
    i61_mms_file_dir_clear(&d);
    free(g);
}

T_MAIN(T_CASE(test_directory_108_109), T_CASE(test_directory_implicit_form),
       T_CASE(test_download_110_115), T_CASE(test_rename_delete_116_121),
       T_CASE(test_obtain_122_129), T_CASE(test_file_names), T_CASE(test_sizes),
       T_CASE(test_gtime), T_CASE(test_malformed))
