/*
 * test_awscred.c - AWS credentials: the INI reader (table-driven over
 * file texts) and the lookup order (environment, then the shared
 * credentials file by AWS_SHARED_CREDENTIALS_FILE or $HOME, profile
 * AWS_PROFILE or default) with temp files.  Every failure message is
 * checked for what it must say and for the secret it must never say.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awscred.h"

#define ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* ---- the INI reader ------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *text;
	const char *profile;
	enum fl_result want;
	const char *id, *secret, *token; /* when FL_OK */
	const char *msg;                 /* substring of the message otherwise */
};

static const struct parse_case parse_cases[] = {
	{ "plain", "[default]\naws_access_key_id = " ID "\naws_secret_access_key = " SECRET "\n",
	  "default", FL_OK, ID, SECRET, "", NULL },
	{ "no final newline, CRLF, blanks",
	  "[default]\r\n  aws_access_key_id\t=\t" ID "  \r\naws_secret_access_key=" SECRET,
	  "default", FL_OK, ID, SECRET, "", NULL },
	{ "comments of both kinds, inline too",
	  "# top\n; also\n[default] # the one\naws_access_key_id = " ID " # mine\n"
	  "aws_secret_access_key = " SECRET " ; yes\n",
	  "default", FL_OK, ID, SECRET, "", NULL },
	{ "'#' inside a value is kept", "[p]\naws_access_key_id = a#b\naws_secret_access_key = c;d\n",
	  "p", FL_OK, "a#b", "c;d", "", NULL },
	{ "other profile chosen",
	  "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n"
	  "[prod]\naws_access_key_id = P\naws_secret_access_key = PS\naws_session_token = T==\n",
	  "prod", FL_OK, "P", "PS", "T==", NULL },
	{ "section names are exact, property names any case",
	  "[Default]\naws_access_key_id = X\naws_secret_access_key = Y\n"
	  "[ default ]\nAWS_Access_Key_ID = " ID "\nAws_Secret_Access_Key: " SECRET "\n",
	  "default", FL_OK, ID, SECRET, "", NULL },
	{ "unknown properties and nested settings skipped",
	  "[default]\nregion = eu-west-1\ns3 =\n  addressing_style = path\n  x = y\n"
	  "aws_access_key_id = " ID "\naws_secret_access_key = " SECRET "\n",
	  "default", FL_OK, ID, SECRET, "", NULL },
	{ "later section of the same name adds", "[a]\naws_access_key_id = 1\n[b]\n[a]\n"
	  "aws_secret_access_key = 2\n", "a", FL_OK, "1", "2", "", NULL },
	{ "BOM", "\xEF\xBB\xBF[default]\naws_access_key_id=i\naws_secret_access_key=s\n",
	  "default", FL_OK, "i", "s", "", NULL },
	{ "profile missing", "[other]\naws_access_key_id = i\naws_secret_access_key = s\n",
	  "default", FL_NOT_FOUND, NULL, NULL, NULL, "no credentials for profile default" },
	{ "empty file", "", "default", FL_NOT_FOUND, NULL, NULL, NULL, "profile default" },
	{ "profile without keys", "[default]\nregion = us-east-1\n", "default", FL_NOT_FOUND,
	  NULL, NULL, NULL, "no credentials" },
	{ "key id without secret", "[default]\naws_access_key_id = " ID "\n", "default",
	  FL_INVALID, NULL, NULL, NULL, "has aws_access_key_id but no aws_secret_access_key" },
	{ "secret without key id", "[default]\naws_secret_access_key = " SECRET "\n", "default",
	  FL_INVALID, NULL, NULL, NULL, "has aws_secret_access_key but no aws_access_key_id" },
	{ "unclosed section", "[default\naws_access_key_id = i\n", "default", FL_INVALID,
	  NULL, NULL, NULL, "line 1: section header without ']'" },
	{ "text after section", "[default] x\n", "default", FL_INVALID, NULL, NULL, NULL,
	  "line 1: text after a section header" },
	{ "line without '=' (never echoed)", "[default]\n" SECRET "\n", "default", FL_INVALID,
	  NULL, NULL, NULL, "line 2: expected name = value" },
	{ "property without name", "[default]\n= " SECRET "\n", "default", FL_INVALID, NULL,
	  NULL, NULL, "line 2: property without a name" },
	{ "value too long", "[default]\naws_access_key_id = "
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  "default", FL_INVALID, NULL, NULL, NULL, "line 2: aws_access_key_id longer than 128" },
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct fl_awscred cred;
		struct fl_error err = { 0 };
		memset(&cred, 'z', sizeof cred);
		enum fl_result r = fl_awscred_parse(c->text, strlen(c->text), c->profile, &cred,
						    &err);
		if (r != c->want)
			fail_msg("%s: result %d, want %d (%s)", c->name, r, c->want, err.msg);
		if (r == FL_OK) {
			assert_string_equal(cred.key_id, c->id);
			assert_string_equal(cred.secret, c->secret);
			assert_string_equal(cred.token, c->token);
		} else {
			if (!strstr(err.msg, c->msg))
				fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err.msg, c->msg);
			assert_null(strstr(err.msg, SECRET));
			assert_string_equal(cred.secret, "");
		}
	}
}

static void test_parse_nul(void **state)
{
	(void)state;
	static const char text[] = "[default]\naws_access_key_id = a\0b\n";
	struct fl_awscred cred;
	struct fl_error err;
	assert_int_equal(fl_awscred_parse(text, sizeof text - 1, "default", &cred, &err),
			 FL_INVALID);
	assert_non_null(strstr(err.msg, "line 2: NUL byte"));
}

/* ---- lookup order ------------------------------------------------------ */

enum where { NO_FILE, FILE_ENV, FILE_HOME, FILE_DIR };

struct load_case {
	const char *name;
	const char *id, *secret, *token; /* environment; NULL: unset */
	const char *profile;             /* AWS_PROFILE; NULL: unset */
	enum where where;
	const char *file;                /* credentials file text */
	enum fl_result want;
	const char *want_id, *want_secret, *want_token;
	const char *msg;                 /* substring of the message or of the source */
};

#define FILE_DEFAULT "[default]\naws_access_key_id = FILEID\naws_secret_access_key = FILESECRET\n" \
	"[prod]\naws_access_key_id = PRODID\naws_secret_access_key = PRODSECRET\n" \
	"aws_session_token = PRODTOKEN\n"

static const struct load_case load_cases[] = {
	{ "environment", ID, SECRET, NULL, NULL, NO_FILE, NULL, FL_OK, ID, SECRET, "",
	  "environment" },
	{ "environment with token", ID, SECRET, "TOK", NULL, NO_FILE, NULL, FL_OK, ID, SECRET,
	  "TOK", "environment" },
	{ "environment wins over the file", ID, SECRET, NULL, NULL, FILE_ENV, FILE_DEFAULT, FL_OK,
	  ID, SECRET, "", "environment" },
	{ "empty environment values are unset", "", "", NULL, NULL, FILE_ENV, FILE_DEFAULT,
	  FL_OK, "FILEID", "FILESECRET", "", "[default]" },
	{ "key id alone in the environment", ID, NULL, NULL, NULL, FILE_ENV, FILE_DEFAULT,
	  FL_INVALID, NULL, NULL, NULL,
	  "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" },
	{ "secret alone in the environment", NULL, SECRET, NULL, NULL, NO_FILE, NULL, FL_INVALID,
	  NULL, NULL, NULL, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" },
	{ "file by AWS_SHARED_CREDENTIALS_FILE", NULL, NULL, NULL, NULL, FILE_ENV, FILE_DEFAULT,
	  FL_OK, "FILEID", "FILESECRET", "", "/creds [default]" },
	{ "file under $HOME", NULL, NULL, NULL, NULL, FILE_HOME, FILE_DEFAULT, FL_OK, "FILEID",
	  "FILESECRET", "", "/.aws/credentials [default]" },
	{ "AWS_PROFILE", NULL, NULL, NULL, "prod", FILE_HOME, FILE_DEFAULT, FL_OK, "PRODID",
	  "PRODSECRET", "PRODTOKEN", "[prod]" },
	{ "AWS_PROFILE not in the file", NULL, NULL, NULL, "dev", FILE_ENV, FILE_DEFAULT,
	  FL_INVALID, NULL, NULL, NULL, "AWS_PROFILE is dev but " },
	{ "nothing anywhere", NULL, NULL, NULL, NULL, NO_FILE, NULL, FL_INVALID, NULL, NULL, NULL,
	  "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and " },
	{ "file without default", NULL, NULL, NULL, NULL, FILE_HOME,
	  "[prod]\naws_access_key_id = a\naws_secret_access_key = b\n", FL_INVALID, NULL, NULL,
	  NULL, "holds no [default] profile" },
	{ "malformed file", NULL, NULL, NULL, NULL, FILE_ENV,
	  "[default]\naws_access_key_id = a\nFILESECRET\n", FL_INVALID, NULL, NULL, NULL,
	  "/creds: line 3: expected name = value" },
	{ "named profile, no file", NULL, NULL, NULL, "prod", NO_FILE, NULL, FL_INVALID, NULL,
	  NULL, NULL, "No such file or directory" },
	{ "file is a directory", NULL, NULL, NULL, NULL, FILE_DIR, NULL, FL_INVALID, NULL, NULL,
	  NULL, "Is a directory" },
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void set_or_unset(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

static void test_load_table(void **state)
{
	(void)state;
	char dir[] = "/tmp/fl_cred_XXXXXX";
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
		const struct load_case *c = &load_cases[i];
		char home[64], aws[80], creds[100], envfile[80];
		snprintf(home, sizeof home, "%s/h%zu", dir, i);
		snprintf(aws, sizeof aws, "%s/.aws", home);
		snprintf(creds, sizeof creds, "%s/credentials", aws);
		snprintf(envfile, sizeof envfile, "%s/creds", home);
		assert_int_equal(mkdir(home, 0700), 0);
		assert_int_equal(mkdir(aws, 0700), 0);
		set_or_unset("AWS_ACCESS_KEY_ID", c->id);
		set_or_unset("AWS_SECRET_ACCESS_KEY", c->secret);
		set_or_unset("AWS_SESSION_TOKEN", c->token);
		set_or_unset("AWS_PROFILE", c->profile);
		setenv("HOME", home, 1);
		unsetenv("AWS_SHARED_CREDENTIALS_FILE");
		if (c->where == FILE_ENV || c->where == NO_FILE)
			setenv("AWS_SHARED_CREDENTIALS_FILE", envfile, 1);
		if (c->where == FILE_ENV)
			write_text(envfile, c->file);
		else if (c->where == FILE_HOME)
			write_text(creds, c->file);
		else if (c->where == FILE_DIR)
			assert_int_equal(mkdir(creds, 0700), 0);

		struct fl_awscred cred;
		struct fl_error err = { 0 };
		enum fl_result r = fl_awscred_load(&cred, &err);
		if (r != c->want)
			fail_msg("%s: result %d, want %d (%s)", c->name, r, c->want, err.msg);
		if (r == FL_OK) {
			assert_string_equal(cred.key_id, c->want_id);
			assert_string_equal(cred.secret, c->want_secret);
			assert_string_equal(cred.token, c->want_token);
			if (!strstr(cred.source, c->msg))
				fail_msg("%s: source \"%s\" lacks \"%s\"", c->name, cred.source,
					 c->msg);
		} else {
			if (!strstr(err.msg, c->msg))
				fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, err.msg, c->msg);
			assert_null(strstr(err.msg, SECRET));
			assert_null(strstr(err.msg, "FILESECRET"));
			assert_string_equal(cred.secret, "");
		}
		unlink(envfile);
		unlink(creds);
		rmdir(creds);
		rmdir(aws);
		rmdir(home);
	}
	rmdir(dir);
}

/* The message of "nothing anywhere" names the file it looked for. */
static void test_load_names_file(void **state)
{
	(void)state;
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	setenv("HOME", "/nonexistent-fl-home", 1);
	struct fl_awscred cred;
	struct fl_error err;
	assert_int_equal(fl_awscred_load(&cred, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "/nonexistent-fl-home/.aws/credentials does not exist"));
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/elsewhere", 1);
	assert_int_equal(fl_awscred_load(&cred, &err), FL_INVALID);
	assert_non_null(strstr(err.msg, "/nonexistent-fl-home/elsewhere does not exist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_load_table),
		cmocka_unit_test(test_load_names_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
