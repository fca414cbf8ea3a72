/*
 * test_storage_local.c - the storage dispatch, name rules and the local
 * directory backend: round trip, overwrite, atomic put (no tmp files
 * left), list order and prefixes, hostile keys, missing objects, get max.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage.h"

struct fx {
	char root[64];
	struct fl_storage *s;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	strcpy(fx->root, "/tmp/fl_sto_XXXXXX");
	if (!mkdtemp(fx->root))
		return -1;
	char url[128];
	snprintf(url, sizeof url, "file://%s/lake", fx->root);
	struct fl_error err;
	if (fl_storage_open(url, NULL, &fx->s, &err) != FL_OK)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	fl_storage_free(fx->s);
	nftw(fx->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static enum fl_result put_s(struct fx *fx, const char *bucket, const char *key,
			    const char *data)
{
	struct fl_error err;
	return fl_storage_put(fx->s, bucket, key, data, strlen(data), &err);
}

static void assert_object(struct fx *fx, const char *bucket, const char *key,
			  const char *want)
{
	struct fl_buf b;
	struct fl_error err;
	fl_buf_init(&b, 1 << 20);
	assert_int_equal(fl_storage_get(fx->s, bucket, key, &b, &err), FL_OK);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal(b.data, want);
	fl_buf_free(&b);
}

/* ---- name rules (table-driven) --------------------------------------- */

static void test_check_name(void **state)
{
	(void)state;
	static const struct {
		const char *bucket, *key;
		enum fl_result want;
	} cases[] = {
		{ "lake", "a/b/c.json.gz", FL_OK },
		{ "my.bucket-01", "k", FL_OK },
		{ "abc", "dt=2024-01-01/hour=00/part-0001.gz", FL_OK },
		{ "a23456789012345678901234567890123456789012345678901234567890123", "k", FL_OK },
		{ "ab", "k", FL_INVALID },                 /* too short */
		{ "a234567890123456789012345678901234567890123456789012345678901234", "k",
		  FL_INVALID },                             /* 64 chars */
		{ "Lake", "k", FL_INVALID },               /* upper case */
		{ "la_ke", "k", FL_INVALID },
		{ "-lake", "k", FL_INVALID },
		{ "lake-", "k", FL_INVALID },
		{ ".lake", "k", FL_INVALID },
		{ "la..ke", "k", FL_INVALID },
		{ "192.168.5.4", "k", FL_INVALID },       /* IP-like */
		{ "192.168.5.4a", "k", FL_OK },
		{ "1.2.3", "k", FL_OK },
		{ "xn--lake", "k", FL_INVALID },
		{ "lake-s3alias", "k", FL_INVALID },
		{ "lake", "", FL_INVALID },
		{ "lake", "../x", FL_INVALID },
		{ "lake", "a/../../b", FL_INVALID },
		{ "lake", "a/./b", FL_INVALID },
		{ "lake", ".", FL_INVALID },
		{ "lake", "..", FL_INVALID },
		{ "lake", "/abs", FL_INVALID },
		{ "lake", "a//b", FL_INVALID },
		{ "lake", "a/", FL_INVALID },
		{ "lake", "..a/b..", FL_OK },              /* dots inside names are fine */
		{ "lake", ".hidden", FL_OK },
		{ "lake", "caf\xc3\xa9", FL_OK },          /* UTF-8 */
		{ "lake", "bad\xff", FL_INVALID },
		{ "lake", "over\xc0\xaflong", FL_INVALID },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fl_error err;
		enum fl_result r = fl_storage_check_name(cases[i].bucket, cases[i].key, &err);
		if (r != cases[i].want)
			fail_msg("case %zu (%s, %s): got %d want %d", i, cases[i].bucket,
				 cases[i].key, r, cases[i].want);
	}
	char key[1100];
	memset(key, 'k', sizeof key);
	key[1024] = '\0';
	assert_int_equal(fl_storage_check_name("lake", key, NULL), FL_OK);
	key[1024] = 'k';
	key[1025] = '\0';
	assert_int_equal(fl_storage_check_name("lake", key, NULL), FL_INVALID);
}

static void test_open_urls(void **state)
{
	(void)state;
	struct fl_storage *s = NULL;
	struct fl_error err;
	assert_int_equal(fl_storage_open("s3://Bad_Bucket/prefix", NULL, &s, &err), FL_INVALID);
	assert_null(s);
	assert_int_equal(fl_storage_open("s3://lake/a//b", NULL, &s, &err), FL_INVALID);
	assert_int_equal(fl_storage_open("s3://lake/../b", NULL, &s, &err), FL_INVALID);
	assert_null(s);
	assert_int_equal(fl_storage_open("ftp://x", NULL, &s, &err), FL_INVALID);
	assert_int_equal(fl_storage_open("file://", NULL, &s, &err), FL_INVALID);
	fl_storage_free(NULL);
}

/* ---- local backend -------------------------------------------------- */

static void test_round_trip_overwrite(void **state)
{
	struct fx *fx = *state;
	struct fl_error err;
	assert_int_equal(put_s(fx, "lake", "raw/payment/dt=2024-05-01/a.json", "hello"), FL_OK);
	assert_object(fx, "lake", "raw/payment/dt=2024-05-01/a.json", "hello");
	assert_int_equal(put_s(fx, "lake", "raw/payment/dt=2024-05-01/a.json", "bye!!!"), FL_OK);
	assert_object(fx, "lake", "raw/payment/dt=2024-05-01/a.json", "bye!!!");

	struct fl_object_info info;
	assert_int_equal(fl_storage_stat(fx->s, "lake", "raw/payment/dt=2024-05-01/a.json",
					 &info, &err), FL_OK);
	assert_string_equal(info.key, "raw/payment/dt=2024-05-01/a.json");
	assert_int_equal(info.bytes, 6);
	assert_true(info.mtime_ms > 1600000000000LL);

	/* Empty and binary objects. */
	assert_int_equal(fl_storage_put(fx->s, "lake", "empty", "", 0, &err), FL_OK);
	assert_object(fx, "lake", "empty", "");
	char bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (char)i;
	assert_int_equal(fl_storage_put(fx->s, "lake", "bin", bin, sizeof bin, &err), FL_OK);
	struct fl_buf b;
	fl_buf_init(&b, 1024);
	assert_int_equal(fl_buf_adds(&b, "pre:"), FL_OK);
	assert_int_equal(fl_storage_get(fx->s, "lake", "bin", &b, &err), FL_OK);
	assert_int_equal(b.len, 4 + 256); /* get appends */
	assert_memory_equal(b.data + 4, bin, 256);

	/* Ranges: inside, clipped at the end, past the end, empty. */
	static const struct { uint64_t off, len, want_off, want_len; } ranges[] = {
		{ 0, 1, 0, 1 }, { 10, 20, 10, 20 }, { 250, 100, 250, 6 },
		{ 256, 5, 0, 0 }, { 1000, 5, 0, 0 }, { 7, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		fl_buf_reset(&b);
		assert_int_equal(fl_storage_get_range(fx->s, "lake", "bin", ranges[i].off,
						      ranges[i].len, &b, &err), FL_OK);
		assert_int_equal(b.len, ranges[i].want_len);
		if (b.len)
			assert_memory_equal(b.data, bin + ranges[i].want_off, b.len);
	}
	assert_int_equal(fl_storage_get_range(fx->s, "lake", "nope", 0, 1, &b, &err),
			 FL_NOT_FOUND);
	fl_buf_free(&b);

	/* Health: a good write leaves the store "ok". */
	struct fl_storage_health h;
	fl_storage_health(fx->s, &h);
	assert_int_equal(h.state, FL_STORAGE_OK);
	assert_string_equal(fl_storage_state_name(h.state), "ok");

	/* The object is the file <root>/<bucket>/<key>. */
	char path[256];
	snprintf(path, sizeof path, "%s/lake/lake/raw/payment/dt=2024-05-01/a.json", fx->root);
	assert_int_equal(access(path, F_OK), 0);
}

static int count_tmp(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".tmp.", 5) == 0)
			n++;
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char sub[1024];
			snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
			n += count_tmp(sub);
		}
	}
	closedir(d);
	return n;
}

static void test_atomic_no_tmp_left(void **state)
{
	struct fx *fx = *state;
	char key[64], data[64];
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof key, "d%d/obj", i % 3);
		snprintf(data, sizeof data, "version %d", i);
		assert_int_equal(put_s(fx, "lake", key, data), FL_OK);
	}
	char dir[128];
	snprintf(dir, sizeof dir, "%s/lake", fx->root);
	assert_int_equal(count_tmp(dir), 0);
	assert_object(fx, "lake", "d0/obj", "version 18");

	/* A leftover tmp file (crash mid-put) is never listed. */
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s/lake/lake/d0/.tmp.0123456789abcdef", fx->root);
	FILE *f = fopen(tmp, "w");
	fputs("partial", f);
	fclose(f);
	struct fl_error err;
	struct fl_object_info info;
	assert_int_equal(fl_storage_stat(fx->s, "lake", "d0/.tmp.0123456789abcdef", &info, &err),
			 FL_INVALID);
	assert_int_equal(put_s(fx, "lake", "x/.tmp.1", "reserved"), FL_INVALID);
}

struct keys {
	char k[64][1025];
	int n;
	int stop_at;
};

static int keys_fn(void *arg, const struct fl_object_info *info)
{
	struct keys *k = arg;
	assert_true(k->n < 64);
	snprintf(k->k[k->n], sizeof k->k[0], "%s", info->key);
	k->n++;
	return k->stop_at && k->n >= k->stop_at;
}

static void list_keys(struct fx *fx, const char *prefix, struct keys *k)
{
	struct fl_error err;
	k->n = 0;
	assert_int_equal(fl_storage_list(fx->s, "lake", prefix, keys_fn, k, &err), FL_OK);
}

static void test_list_order_prefix(void **state)
{
	struct fx *fx = *state;
	/* Byte order puts '-' (0x2d) and '.' (0x2e) before '/' (0x2f): "a-c"
	 * and "a.b" list before everything under "a/". */
	static const char *const put_order[] = {
		"a/b", "a-c", "a.b", "a/a/z", "b", "a/ab", "A", "a0", "a/b0", "a/b/c/d",
	};
	static const char *const sorted[] = {
		"A", "a-c", "a.b", "a/a/z", "a/ab", "a/b", "a/b/c/d", "a/b0", "a0", "b",
	};
	/* "a/b" as an object and as a directory cannot both exist locally. */
	for (size_t i = 0; i < sizeof put_order / sizeof put_order[0]; i++) {
		enum fl_result r = put_s(fx, "lake", put_order[i], put_order[i]);
		if (strcmp(put_order[i], "a/b/c/d") == 0)
			assert_int_equal(r, FL_EXISTS);
		else
			assert_int_equal(r, FL_OK);
	}
	struct keys k = { 0 };
	list_keys(fx, "", &k);
	size_t j = 0;
	for (size_t i = 0; i < sizeof sorted / sizeof sorted[0]; i++) {
		if (strcmp(sorted[i], "a/b/c/d") == 0)
			continue;
		assert_true((int)j < k.n);
		assert_string_equal(k.k[j], sorted[i]);
		j++;
	}
	assert_int_equal(k.n, (int)j);

	list_keys(fx, "a/", &k);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.k[0], "a/a/z");
	assert_string_equal(k.k[3], "a/b0");

	list_keys(fx, "a/b", &k);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.k[0], "a/b");
	assert_string_equal(k.k[1], "a/b0");

	list_keys(fx, "a", &k);
	assert_int_equal(k.n, 7); /* not "A" */

	list_keys(fx, "a/a/", &k);
	assert_int_equal(k.n, 1);
	list_keys(fx, "zzz", &k);
	assert_int_equal(k.n, 0);
	list_keys(fx, "nope/", &k);
	assert_int_equal(k.n, 0);
	list_keys(fx, "../", &k); /* can match no key */
	assert_int_equal(k.n, 0);
	list_keys(fx, "b/", &k);  /* "b" is a file */
	assert_int_equal(k.n, 0);

	/* fn stops the listing. */
	k.stop_at = 3;
	list_keys(fx, "", &k);
	assert_int_equal(k.n, 3);

	/* A bucket nothing was put into lists empty. */
	struct fl_error err;
	k.stop_at = 0;
	k.n = 0;
	assert_int_equal(fl_storage_list(fx->s, "other", "", keys_fn, &k, &err), FL_OK);
	assert_int_equal(k.n, 0);
	assert_int_equal(fl_storage_list(fx->s, "Bad_Bucket", "", keys_fn, &k, &err), FL_INVALID);

	/* After delete, the key is gone from listings. */
	assert_int_equal(fl_storage_delete(fx->s, "lake", "a/ab", &err), FL_OK);
	list_keys(fx, "a/", &k);
	assert_int_equal(k.n, 3);
}

static void test_hostile_keys(void **state)
{
	struct fx *fx = *state;
	static const char *const bad[] = { "../x", "a/../../b", "/abs", "a//b", "..", "a/./b",
					   "a/" };
	struct fl_error err;
	struct fl_buf b;
	fl_buf_init(&b, 100);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(put_s(fx, "lake", bad[i], "x"), FL_INVALID);
		assert_int_equal(fl_storage_get(fx->s, "lake", bad[i], &b, &err), FL_INVALID);
		assert_int_equal(fl_storage_delete(fx->s, "lake", bad[i], &err), FL_INVALID);
	}
	assert_int_equal(put_s(fx, "..", "x", "x"), FL_INVALID);
	/* Nothing escaped the root. */
	char p[256];
	snprintf(p, sizeof p, "%s/x", fx->root);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof p, "%s/b", fx->root);
	assert_int_equal(access(p, F_OK), -1);
	fl_buf_free(&b);
}

static void test_missing_and_max(void **state)
{
	struct fx *fx = *state;
	struct fl_error err;
	struct fl_buf b;
	struct fl_object_info info;
	fl_buf_init(&b, 10);
	assert_int_equal(fl_storage_get(fx->s, "lake", "nope", &b, &err), FL_NOT_FOUND);
	assert_int_equal(fl_storage_stat(fx->s, "lake", "nope/deeper", &info, &err), FL_NOT_FOUND);
	assert_int_equal(fl_storage_delete(fx->s, "lake", "nope", &err), FL_OK);

	assert_int_equal(put_s(fx, "lake", "dir/file", "0123456789"), FL_OK);
	/* A directory is not an object; a file is not a directory. */
	assert_int_equal(fl_storage_get(fx->s, "lake", "dir", &b, &err), FL_NOT_FOUND);
	assert_int_equal(fl_storage_get(fx->s, "lake", "dir/file/x", &b, &err), FL_NOT_FOUND);
	assert_int_equal(fl_storage_delete(fx->s, "lake", "dir", &err), FL_OK);
	assert_int_equal(put_s(fx, "lake", "dir", "clash"), FL_EXISTS);

	assert_int_equal(fl_storage_get(fx->s, "lake", "dir/file", &b, &err), FL_OK);
	assert_int_equal(b.len, 10);
	fl_buf_reset(&b);
	assert_int_equal(fl_buf_adds(&b, "x"), FL_OK);
	assert_int_equal(fl_storage_get(fx->s, "lake", "dir/file", &b, &err), FL_TOO_LARGE);
	assert_int_equal(b.len, 1); /* left as it was */
	assert_string_equal(b.data, "x");
	fl_buf_free(&b);

	assert_int_equal(fl_storage_delete(fx->s, "lake", "dir/file", &err), FL_OK);
	assert_int_equal(fl_storage_stat(fx->s, "lake", "dir/file", &info, &err), FL_NOT_FOUND);
	assert_int_equal(fl_storage_delete(fx->s, "lake", "dir/file", &err), FL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_open_urls),
		cmocka_unit_test_setup_teardown(test_round_trip_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_no_tmp_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_max, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
