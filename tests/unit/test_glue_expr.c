/*
 * test_glue_expr.c - GetPartitions' Expression compiled to SQL, GetTables'
 * Expression rewritten to an anchored ERE.
 *
 * Every SQL the compiler produces in these tests (the table's cases and a
 * deterministic fuzz over mutated expressions) goes through sql_is_ours(),
 * which accepts only the compiler's own vocabulary: the values column, the
 * guard constants, $n and [i] numbers, SQL keywords.  A key name, a literal
 * or any other client text in the SQL fails it.  Running the SQL in
 * PostgreSQL is the catalog tests' business; this stays pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <regex.h>

#include <cmocka.h>

#include "glue_expr.h"

static const struct fl_glue_key keys[] = {
	{ "dt", "string" },             /* 1 */
	{ "year", "int" },              /* 2 */
	{ "price", "decimal(10,2)" },   /* 3 */
	{ "day", "date" },              /* 4 */
	{ "ts", "timestamp" },          /* 5 */
	{ "region", "varchar(16)" },    /* 6 */
	{ "event type", "string" },     /* 7 */
	{ "flag", "boolean" },          /* 8 */
	{ "cl\xc3\xa9", "string" },     /* 9 */
	{ "n", "BIGINT" },              /* 10 */
	{ "x", "double" },              /* 11 */
};
#define NKEYS (sizeof keys / sizeof *keys)

/* The guards, as the compiler must write them. */
#define G_INT "'^[+-]?[0-9]{1,200}$'"
#define G_DEC "'^[+-]?([0-9]{1,200}(\\.[0-9]{0,200})?|\\.[0-9]{1,200})([eE][+-]?[0-9]{1,3})?$'"
#define G_DATE "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'"
#define G_TS "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3])" \
	":[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?$'"

#define TEXT(i) "((p.vals)[" #i "] COLLATE \"C\")"
#define DT TEXT(1)
#define YEAR "(CASE WHEN (p.vals)[2] ~ " G_INT " THEN ((p.vals)[2])::numeric END)"
#define PRICE "(CASE WHEN (p.vals)[3] ~ " G_DEC " THEN ((p.vals)[3])::numeric END)"
#define DAY "((CASE WHEN (p.vals)[4] ~ " G_DATE " THEN (p.vals)[4] END) COLLATE \"C\")"
#define TS "(CASE WHEN (p.vals)[5] ~ " G_TS " THEN translate((p.vals)[5], '-: T', '')::numeric END)"
#define BIG "(CASE WHEN (p.vals)[10] ~ " G_INT " THEN ((p.vals)[10])::numeric END)"

#define MAXP 4

struct ok_case {
	const char *expr;
	int first;                   /* first parameter number; 0 means 1 */
	const char *sql;
	int nparams;
	const char *params[MAXP];
};

static const struct ok_case ok_cases[] = {
	/* Every operator, per key type. */
	{ "dt = '2024-01-01'", 0, "(" DT " = $1::text)", 1, { "2024-01-01" } },
	{ "dt <> 'a'", 0, "(" DT " <> $1::text)", 1, { "a" } },
	{ "dt != 'a'", 0, "(" DT " <> $1::text)", 1, { "a" } },
	{ "dt < > 'a'", 0, "(" DT " <> $1::text)", 1, { "a" } },
	{ "dt < 'a'", 0, "(" DT " < $1::text)", 1, { "a" } },
	{ "dt > 'a'", 0, "(" DT " > $1::text)", 1, { "a" } },
	{ "dt <= 'a'", 0, "(" DT " <= $1::text)", 1, { "a" } },
	{ "dt >= 'a'", 0, "(" DT " >= $1::text)", 1, { "a" } },
	{ "year >= 2020", 0, "(" YEAR " >= $1::numeric)", 1, { "2020" } },
	{ "year > '2020'", 0, "(" YEAR " > $1::numeric)", 1, { "2020" } },
	{ "year < -5", 0, "(" YEAR " < $1::numeric)", 1, { "-5" } },
	{ "year = '+7'", 0, "(" YEAR " = $1::numeric)", 1, { "+7" } },
	{ "price <= 9.99", 0, "(" PRICE " <= $1::numeric)", 1, { "9.99" } },
	{ "price != '10'", 0, "(" PRICE " <> $1::numeric)", 1, { "10" } },
	{ "price > '-0.5'", 0, "(" PRICE " > $1::numeric)", 1, { "-0.5" } },
	{ "x < 1.5", 0, "((CASE WHEN (p.vals)[11] ~ " G_DEC " THEN ((p.vals)[11])::numeric END)"
	  " < $1::numeric)", 1, { "1.5" } },
	{ "day = '2024-2-9'", 0, "(" DAY " = $1::text)", 1, { "2024-02-09" } },
	{ "day > '2024-02-29'", 0, "(" DAY " > $1::text)", 1, { "2024-02-29" } },
	{ "day < '2000-02-29'", 0, "(" DAY " < $1::text)", 1, { "2000-02-29" } },
	{ "ts > '2024-01-01 10:00:00.500'", 0, "(" TS " > $1::numeric)", 1,
	  { "20240101100000.500" } },
	{ "ts = '2024-01-01'", 0, "(" TS " = $1::numeric)", 1, { "20240101000000" } },
	{ "ts <= '2024-12-31T23:59:59.123456789'", 0, "(" TS " <= $1::numeric)", 1,
	  { "20241231235959.123456789" } },
	{ "ts < '2024-1-2 3:04:05'", 0, "(" TS " < $1::numeric)", 1, { "20240102030405" } },
	{ "dt IN ('a','b', 'c')", 0, "(" DT " IN ($1::text, $2::text, $3::text))", 3,
	  { "a", "b", "c" } },
	{ "year NOT IN (1, '2')", 0, "(" YEAR " NOT IN ($1::numeric, $2::numeric))", 2,
	  { "1", "2" } },
	{ "day IN ('2024-01-01')", 0, "(" DAY " IN ($1::text))", 1, { "2024-01-01" } },
	{ "year BETWEEN 2015 AND 2018", 0, "(" YEAR " BETWEEN $1::numeric AND $2::numeric)", 2,
	  { "2015", "2018" } },
	{ "dt NOT BETWEEN 'a' AND 'b'", 0, "(" DT " NOT BETWEEN $1::text AND $2::text)", 2,
	  { "a", "b" } },
	{ "ts BETWEEN '2024-01-01' AND '2024-01-01 23:59:59'", 0,
	  "(" TS " BETWEEN $1::numeric AND $2::numeric)", 2,
	  { "20240101000000", "20240101235959" } },
	{ "dt LIKE '2024-%'", 0, "(" DT " LIKE $1::text)", 1, { "2024-%" } },
	{ "year NOT LIKE '20\\_%'", 0, "(" TEXT(2) " NOT LIKE $1::text)", 1, { "20\\_%" } },
	{ "dt LIKE 'a\\\\'", 0, "(" DT " LIKE $1::text)", 1, { "a\\\\" } },
	{ "dt IS NULL", 0, "((p.vals)[1] IS NULL)", 0, { NULL } },
	{ "year is not null", 0, "((p.vals)[2] IS NOT NULL)", 0, { NULL } },
	{ "NOT dt = 'a'", 0, "NOT (" DT " = $1::text)", 1, { "a" } },
	{ "NOT NOT dt = 'a'", 0, "NOT NOT (" DT " = $1::text)", 1, { "a" } },
	{ "NOT (dt = 'a')", 0, "NOT ((" DT " = $1::text))", 1, { "a" } },
	/* Literal first. */
	{ "'2020' < dt", 0, "($1::text < " DT ")", 1, { "2020" } },
	{ "5 >= year", 0, "($1::numeric >= " YEAR ")", 1, { "5" } },
	/* Precedence: AND binds tighter than OR, as in SQL; parentheses kept. */
	{ "dt = 'a' OR dt = 'b' AND year = 1", 0,
	  "(" DT " = $1::text) OR (" DT " = $2::text) AND (" YEAR " = $3::numeric)", 3,
	  { "a", "b", "1" } },
	{ "(dt = 'a' OR dt = 'b') AND year = 1", 0,
	  "((" DT " = $1::text) OR (" DT " = $2::text)) AND (" YEAR " = $3::numeric)", 3,
	  { "a", "b", "1" } },
	{ "NOT dt = 'a' AND dt = 'b'", 0, "NOT (" DT " = $1::text) AND (" DT " = $2::text)", 2,
	  { "a", "b" } },
	{ "dt BETWEEN 'a' AND 'b' AND dt = 'c'", 0,
	  "(" DT " BETWEEN $1::text AND $2::text) AND (" DT " = $3::text)", 3, { "a", "b", "c" } },
	{ "dt in ('a') and not year between 1 and 2 or dt like 'x'", 0,
	  "(" DT " IN ($1::text)) AND NOT (" YEAR " BETWEEN $2::numeric AND $3::numeric) OR ("
	  DT " LIKE $4::text)", 4, { "a", "1", "2", "x" } },
	/* Quoting: '' in strings, backtick keys, key case. */
	{ "dt = 'it''s'", 0, "(" DT " = $1::text)", 1, { "it's" } },
	{ "dt = ''''", 0, "(" DT " = $1::text)", 1, { "'" } },
	{ "dt = ''", 0, "(" DT " = $1::text)", 1, { "" } },
	{ "`event type` = 'x'", 0, "(" TEXT(7) " = $1::text)", 1, { "x" } },
	{ "`DT` = 'a'", 0, "(" DT " = $1::text)", 1, { "a" } },
	{ "DT = 'a'", 0, "(" DT " = $1::text)", 1, { "a" } },
	{ "N = 123456789012345678901234567890", 0, "(" BIG " = $1::numeric)", 1,
	  { "123456789012345678901234567890" } },
	/* A number for a string key compares as its spelling. */
	{ "region = 5", 0, "(" TEXT(6) " = $1::text)", 1, { "5" } },
	{ "dt BETWEEN 2015 AND 2018", 0, "(" DT " BETWEEN $1::text AND $2::text)", 2,
	  { "2015", "2018" } },
	/* Unicode in literals and quoted keys. */
	{ "dt = 'h\xc3\xa9llo \xe2\x9c\x93'", 0, "(" DT " = $1::text)", 1,
	  { "h\xc3\xa9llo \xe2\x9c\x93" } },
	{ "`cl\xc3\xa9` = 'x'", 0, "(" TEXT(9) " = $1::text)", 1, { "x" } },
	/* White space, the empty expression. */
	{ "\tdt\n=\r'a'  ", 0, "(" DT " = $1::text)", 1, { "a" } },
	{ "dt='a'AND(year=1)", 0, "(" DT " = $1::text) AND ((" YEAR " = $2::numeric))", 2,
	  { "a", "1" } },
	{ "", 0, "TRUE", 0, { NULL } },
	{ " \t\n", 0, "TRUE", 0, { NULL } },
	/* Parameter numbering from first_param. */
	{ "year >= 2020 AND dt = 'a'", 3, "(" YEAR " >= $3::numeric) AND (" DT " = $4::text)", 2,
	  { "2020", "a" } },
	/* Injection attempts stay inside parameters. */
	{ "dt = 'x'' OR ''1''=''1'", 0, "(" DT " = $1::text)", 1, { "x' OR '1'='1" } },
	{ "dt = '1; DROP TABLE x --'", 0, "(" DT " = $1::text)", 1, { "1; DROP TABLE x --" } },
	{ "dt = '$1) OR (TRUE'", 0, "(" DT " = $1::text)", 1, { "$1) OR (TRUE" } },
};

static void free_check(struct fl_glue_expr *e)
{
	fl_glue_expr_free(e);
	assert_int_equal(e->nparams, 0);
	assert_null(e->sql.data);
}

/* The SQL holds only what the compiler writes itself (see top). */
static bool sql_is_ours(const char *s)
{
	static const char *const words[] = {
		"p.vals", "CASE", "WHEN", "THEN", "END", "COLLATE", "AND", "OR", "NOT", "IN",
		"BETWEEN", "LIKE", "IS", "NULL", "TRUE", "numeric", "text", "translate",
	};
	static const char *const strings[] = {
		G_INT, G_DEC, G_DATE, G_TS, "'-: T'", "''", "\"C\"",
	};
	while (*s) {
		size_t n;
		if (strchr(" (),=<>~", *s)) {
			s++;
		} else if (*s == ':' && s[1] == ':') {
			s += 2;
		} else if (*s == '$' || *s == '[') {
			n = strspn(s + 1, "0123456789");
			if (n == 0 || (*s == '[' && s[n + 1] != ']'))
				return false;
			s += n + 1 + (*s == '[');
		} else if (*s == '\'' || *s == '"') {
			bool known = false;
			for (size_t i = 0; i < sizeof strings / sizeof *strings && !known; i++)
				if (strncmp(s, strings[i], strlen(strings[i])) == 0) {
					s += strlen(strings[i]);
					known = true;
				}
			if (!known)
				return false;
		} else {
			n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.");
			bool known = false;
			for (size_t i = 0; i < sizeof words / sizeof *words && !known; i++)
				known = strlen(words[i]) == n && strncmp(s, words[i], n) == 0;
			if (!known)
				return false;
			s += n;
		}
	}
	return true;
}

static void test_sql_is_ours_catches_leaks(void **state)
{
	(void)state;
	assert_true(sql_is_ours("(" DT " = $1::text) AND NOT (" TS " > $2::numeric)"));
	assert_false(sql_is_ours("(" DT " = 'x')"));
	assert_false(sql_is_ours("(" DT " = 2020)"));
	assert_false(sql_is_ours("((p.vals)[1] COLLATE \"C\") = $1::text; DROP"));
	assert_false(sql_is_ours("(dt = $1::text)"));
	assert_false(sql_is_ours("((p.vals)[1x] IS NULL)"));
}

static void test_compile(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ok_cases / sizeof *ok_cases; i++) {
		const struct ok_case *c = &ok_cases[i];
		struct fl_glue_expr e;
		struct fl_error err = { 0 };
		enum fl_result r = fl_glue_expr_compile(c->expr, keys, NKEYS, "p.vals",
							c->first ? c->first : 1, &e, &err);
		if (r != FL_OK)
			print_error("case %zu '%s': %s\n", i, c->expr, err.msg);
		assert_int_equal(r, FL_OK);
		if (strcmp(e.sql.data, c->sql) != 0)
			print_error("case %zu '%s':\n got %s\nwant %s\n", i, c->expr, e.sql.data,
				    c->sql);
		assert_string_equal(e.sql.data, c->sql);
		assert_int_equal(e.nparams, c->nparams);
		for (int k = 0; k < c->nparams; k++)
			assert_string_equal(e.params[k], c->params[k]);
		assert_true(sql_is_ours(e.sql.data));
		free_check(&e);
	}
}

struct bad_case {
	const char *expr;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "foo = 1", "Unknown partition key 'foo' in expression at position 1" },
	{ "dt = 'a' AND foo = 1", "Unknown partition key 'foo' in expression at position 14" },
	{ "`p.vals)[1] OR (1` = 1",
	  "Unknown partition key 'p.vals)[1] OR (1' in expression at position 1" },
	{ "`year` = `year`", "Syntax error in expression at position 10: expected literal" },
	{ "dt = '1'; DROP TABLE x --",
	  "Syntax error in expression at position 9: unexpected character" },
	{ "dt = 1 OR 1=1", "Syntax error in expression at position 13: expected partition key" },
	{ "1 = 1", "Syntax error in expression at position 5: expected partition key" },
	{ "dt = ", "Syntax error in expression at position 6: expected literal" },
	{ "dt = dt", "Syntax error in expression at position 6: expected literal" },
	{ "dt = NULL", "Syntax error in expression at position 6: expected literal" },
	{ "NULL = dt", "Syntax error in expression at position 1: expected partition key" },
	{ "dt == 'a'", "Syntax error in expression at position 5: expected literal" },
	{ "(dt = 'a'", "Syntax error in expression at position 10: expected ')'" },
	{ "((dt = 'a')", "Syntax error in expression at position 12: expected ')'" },
	{ "dt = 'a')", "Syntax error in expression at position 9: unmatched ')'" },
	{ "()", "Syntax error in expression at position 2: expected partition key" },
	{ "dt = 'abc", "Syntax error in expression at position 6: unterminated string literal" },
	{ "dt = 'it''", "Syntax error in expression at position 6: unterminated string literal" },
	{ "`dt = 1", "Syntax error in expression at position 1: unterminated quoted key" },
	{ "`` = 1", "Syntax error in expression at position 1: empty quoted key" },
	{ "dt = 1abc", "Syntax error in expression at position 7: malformed number" },
	{ "dt = 1.2.3", "Syntax error in expression at position 9: malformed number" },
	{ "dt = 1.", "Syntax error in expression at position 7: malformed number" },
	{ "dt = - 1", "Syntax error in expression at position 6: unexpected character" },
	{ "dt = 'a' || 1", "Syntax error in expression at position 10: unexpected character" },
	{ "dt = \"a\"", "Syntax error in expression at position 6: unexpected character" },
	{ "dt = 'a'; --", "Syntax error in expression at position 9: unexpected character" },
	{ "dt = 'a' /* x */", "Syntax error in expression at position 10: unexpected character" },
	{ "dt", "Syntax error in expression at position 3: expected comparison operator" },
	{ "dt 'a'", "Syntax error in expression at position 4: expected comparison operator" },
	{ "'a' dt", "Syntax error in expression at position 5: expected comparison operator" },
	{ "dt NOT = 'a'", "Syntax error in expression at position 8: expected IN, BETWEEN or LIKE" },
	{ "dt IS 'a'", "Syntax error in expression at position 7: expected NULL" },
	{ "dt IS NOT 'a'", "Syntax error in expression at position 11: expected NULL" },
	{ "dt IN 'a'", "Syntax error in expression at position 7: expected '('" },
	{ "dt IN ()", "Syntax error in expression at position 8: expected literal" },
	{ "dt IN ('a' 'b')", "Syntax error in expression at position 12: expected ',' or ')'" },
	{ "dt IN ('a',)", "Syntax error in expression at position 12: expected literal" },
	{ "dt BETWEEN 'a' OR 'b'", "Syntax error in expression at position 16: expected AND" },
	{ "dt BETWEEN 'a'", "Syntax error in expression at position 15: expected AND" },
	{ "dt = 'a' dt = 'b'",
	  "Syntax error in expression at position 10: expected AND, OR or end of expression" },
	{ "dt = 'a' AND", "Syntax error in expression at position 13: expected partition key" },
	{ "dt = 'a' OR OR dt = 'b'",
	  "Syntax error in expression at position 13: expected partition key" },
	{ "NOT", "Syntax error in expression at position 4: expected partition key" },
	{ "dt LIKE 5", "Syntax error in expression at position 9: expected string literal" },
	{ "dt LIKE 'abc\\'", "Invalid LIKE pattern in expression at position 9: it ends with "
	  "the escape character '\\'" },
	{ "dt = 1 OR 1", "Syntax error in expression at position 12: expected comparison operator" },
	/* Literals of the wrong kind for the key. */
	{ "year = 'abc'", "Invalid literal for partition key 'year' of type int in expression at "
	  "position 8: expected an integer" },
	{ "year = 1.5", "Invalid literal for partition key 'year' of type int in expression at "
	  "position 8: expected an integer" },
	{ "year = ''", "Invalid literal for partition key 'year' of type int in expression at "
	  "position 8: expected an integer" },
	{ "year = ' 1'", "Invalid literal for partition key 'year' of type int in expression at "
	  "position 8: expected an integer" },
	{ "year IN (1, 'x')", "Invalid literal for partition key 'year' of type int in expression "
	  "at position 13: expected an integer" },
	{ "'x' < year", "Invalid literal for partition key 'year' of type int in expression at "
	  "position 1: expected an integer" },
	{ "price = 'x'", "Invalid literal for partition key 'price' of type decimal(10,2) in "
	  "expression at position 9: expected a number" },
	{ "price = '1.'", "Invalid literal for partition key 'price' of type decimal(10,2) in "
	  "expression at position 9: expected a number" },
	{ "price BETWEEN 1 AND '1e5'", "Invalid literal for partition key 'price' of type "
	  "decimal(10,2) in expression at position 21: expected a number" },
	{ "day = 20240101", "Invalid literal for partition key 'day' of type date in expression "
	  "at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '2024-02-30'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '2023-02-29'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '1900-02-29'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '2024-13-01'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '0000-01-01'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '24-01-01'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '2024-01-01 '", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "day = '2024-001-01'", "Invalid literal for partition key 'day' of type date in "
	  "expression at position 7: expected a date string 'yyyy-MM-dd'" },
	{ "ts = '2024-01-01 24:00:00'", "Invalid literal for partition key 'ts' of type "
	  "timestamp in expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "ts = '2024-01-01 10:00'", "Invalid literal for partition key 'ts' of type "
	  "timestamp in expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "ts = '2024-01-01 10:60:00'", "Invalid literal for partition key 'ts' of type "
	  "timestamp in expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "ts = '2024-01-01 10:00:00.1234567890'", "Invalid literal for partition key 'ts' of "
	  "type timestamp in expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "ts = '2024-01-01 10:00:00.'", "Invalid literal for partition key 'ts' of "
	  "type timestamp in expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "ts = 20240101", "Invalid literal for partition key 'ts' of type timestamp in "
	  "expression at position 6: expected a timestamp string "
	  "'yyyy-MM-dd HH:mm:ss[.fffffffff]'" },
	{ "flag = true", "Unsupported type boolean of partition key 'flag' in expression at "
	  "position 1" },
	{ "flag IS NULL", "Unsupported type boolean of partition key 'flag' in expression at "
	  "position 1" },
	/* Unicode outside quotes; positions count characters, not bytes. */
	{ "\xc3\xa9 = 1", "Syntax error in expression at position 1: unexpected character" },
	{ "dt = '\xc3\xa9' AND \xc3\xbc = 1",
	  "Syntax error in expression at position 14: unexpected character" },
	{ "cl\xc3\xa9 = 'x'", "Syntax error in expression at position 3: unexpected character" },
	{ "dt = '\xe2\x9c\x93\xe2\x9c\x93' AND x = 1.5 AND bogus = 1",
	  "Unknown partition key 'bogus' in expression at position 27" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		struct fl_glue_expr e;
		struct fl_error err = { 0 };
		enum fl_result r = fl_glue_expr_compile(bad_cases[i].expr, keys, NKEYS, "p.vals", 1,
							&e, &err);
		if (r != FL_INVALID || strcmp(err.msg, bad_cases[i].msg) != 0)
			print_error("case %zu '%s': %d %s\n", i, bad_cases[i].expr, r, err.msg);
		assert_int_equal(r, FL_INVALID);
		assert_int_equal(err.code, FL_INVALID);
		assert_string_equal(err.msg, bad_cases[i].msg);
		/* A failure leaves nothing to run. */
		assert_int_equal(e.nparams, 0);
		assert_true(e.sql.data == NULL || e.sql.len == 0);
		free_check(&e);
	}
}

/* Builds a string of n bytes: head, then fill repeated, then tail. */
static char *build(const char *head, const char *fill, size_t times, const char *tail)
{
	size_t hn = strlen(head), fn = strlen(fill), tn = strlen(tail);
	char *s = malloc(hn + fn * times + tn + 1);
	assert_non_null(s);
	memcpy(s, head, hn);
	for (size_t i = 0; i < times; i++)
		memcpy(s + hn + i * fn, fill, fn);
	memcpy(s + hn + fn * times, tail, tn + 1);
	return s;
}

static enum fl_result compile(const char *expr, struct fl_glue_expr *e, struct fl_error *err)
{
	return fl_glue_expr_compile(expr, keys, NKEYS, "p.vals", 1, e, err);
}

static void test_limits(void **state)
{
	(void)state;
	struct fl_glue_expr e;
	struct fl_error err = { 0 };
	char *s;

	/* 64 levels of parentheses pass, 65 do not. */
	s = build("", "(", 64, "dt = 'a'");
	char *t = build(s, ")", 64, "");
	assert_int_equal(compile(t, &e, &err), FL_OK);
	assert_true(sql_is_ours(e.sql.data));
	assert_int_equal(e.nparams, 1);
	free_check(&e);
	free(s);
	free(t);
	s = build("", "(", 65, "dt = 'a'");
	t = build(s, ")", 65, "");
	assert_int_equal(compile(t, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression nests deeper than 64 levels at position 65");
	free_check(&e);
	free(s);
	free(t);
	/* NOT counts as a level too. */
	s = build("", "NOT ", 65, "dt = 'a'");
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression nests deeper than 64 levels at position 257");
	free_check(&e);
	free(s);
	/* 2000 open parentheses: refused at the limit, no deep recursion. */
	s = build("", "(", 2000, "");
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression nests deeper than 64 levels at position 65");
	free_check(&e);
	free(s);
	/* 100k-deep parentheses and 5000 bytes are over the length limit. */
	s = build("", "(", 100000, "dt = 'a'");
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression is longer than 2048 bytes");
	free_check(&e);
	free(s);
	s = build("dt = '", "a", 4993, "'");
	assert_int_equal(strlen(s), 5000);
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression is longer than 2048 bytes");
	free_check(&e);
	free(s);
	/* Exactly 2048 bytes pass; 2049 do not. */
	s = build("dt = '", "a", 2041, "'");
	assert_int_equal(strlen(s), 2048);
	assert_int_equal(compile(s, &e, &err), FL_OK);
	assert_int_equal(strlen(e.params[0]), 2041);
	assert_true(sql_is_ours(e.sql.data));
	free_check(&e);
	free(s);
	s = build("dt = '", "a", 2042, "'");
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	free_check(&e);
	free(s);
	/* 256 literals pass, 257 do not. */
	s = build("dt IN (", "'a',", 255, "'a')");
	assert_int_equal(compile(s, &e, &err), FL_OK);
	assert_int_equal(e.nparams, 256);
	assert_non_null(strstr(e.sql.data, "$256::text))"));
	assert_true(sql_is_ours(e.sql.data));
	free_check(&e);
	free(s);
	s = build("dt IN (", "'a',", 256, "'a')");
	assert_int_equal(compile(s, &e, &err), FL_INVALID);
	assert_string_equal(err.msg, "Expression has more than 256 literals (position 1032)");
	free_check(&e);
	free(s);
	/* A long unknown key is quoted in part, cut on a character boundary:
	 * 'a' then 60 two-byte characters; byte 100 is inside one, so 99 show. */
	s = build("a", "\xc3\xa9", 60, "");
	t = build("`", s, 1, "` = 1");
	assert_int_equal(compile(t, &e, &err), FL_INVALID);
	const char *shown = err.msg + strlen("Unknown partition key '");
	assert_int_equal(strncmp(shown, s, 99), 0);
	assert_string_equal(shown + 99, "...' in expression at position 1");
	free_check(&e);
	free(s);
	free(t);
	/* Bad arguments are the caller's bug, not the client's. */
	assert_int_equal(fl_glue_expr_compile("dt = 'a'", keys, NKEYS, "p.vals", 0, &e, &err),
			 FL_INTERNAL);
	free_check(&e);
	assert_int_equal(fl_glue_expr_compile("dt = 'a'", keys, NKEYS, NULL, 1, &e, &err),
			 FL_INTERNAL);
	free_check(&e);
	/* No keys: every key is unknown. */
	assert_int_equal(fl_glue_expr_compile("dt = 'a'", NULL, 0, "p.vals", 1, &e, &err),
			 FL_INVALID);
	assert_string_equal(err.msg, "Unknown partition key 'dt' in expression at position 1");
	free_check(&e);
	fl_glue_expr_free(NULL);
}

/* The values column is written as given, and only it. */
static void test_values_sql(void **state)
{
	(void)state;
	struct fl_glue_expr e;
	struct fl_error err = { 0 };
	assert_int_equal(fl_glue_expr_compile("dt = 'a' OR year IS NULL", keys, NKEYS,
					      "part.values", 7, &e, &err), FL_OK);
	assert_string_equal(e.sql.data, "(((part.values)[1] COLLATE \"C\") = $7::text) OR "
			    "((part.values)[2] IS NULL)");
	free_check(&e);
}

/* Deterministic fuzz: mutations of valid expressions either compile to our
 * own SQL or fail as FL_INVALID with a message; never anything else. */
static void test_fuzz(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"dt = 'a' OR (year BETWEEN 1 AND 2 AND NOT day IN ('2024-01-01', '2024-1-2'))",
		"ts >= '2024-01-01 00:00:00.5' AND price < 3.25 OR `event type` LIKE 'x%'",
		"NOT (dt IS NOT NULL) AND '5' <= year AND region NOT LIKE 'a\\_b'",
	};
	static const char pieces[] = "()'`,=<>!- \t\nANDORNOTINaz09._%\\\xc3\xa9";
	uint32_t rnd = 12345;
	char buf[256];
	int ok = 0, bad = 0;
	for (int round = 0; round < 20000; round++) {
		const char *seed = seeds[round % 3];
		size_t n = strlen(seed);
		memcpy(buf, seed, n + 1);
		int edits = 1 + round % 4;
		for (int k = 0; k < edits; k++) {
			rnd = rnd * 1103515245u + 12345u;
			size_t at = (rnd >> 8) % n;
			rnd = rnd * 1103515245u + 12345u;
			char c = pieces[(rnd >> 8) % (sizeof pieces - 1)];
			rnd = rnd * 1103515245u + 12345u;
			switch ((rnd >> 8) % 3) {
			case 0:
				buf[at] = c;
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at);
				n--;
				break;
			default:
				if (n + 1 < sizeof buf) {
					memmove(buf + at + 1, buf + at, n - at + 1);
					buf[at] = c;
					n++;
				}
			}
		}
		struct fl_glue_expr e;
		struct fl_error err = { 0 };
		enum fl_result r = compile(buf, &e, &err);
		if (r == FL_OK) {
			if (!sql_is_ours(e.sql.data))
				print_error("'%s' -> %s\n", buf, e.sql.data);
			assert_true(sql_is_ours(e.sql.data));
			ok++;
		} else {
			assert_int_equal(r, FL_INVALID);
			assert_true(err.msg[0] != '\0');
			bad++;
		}
		free_check(&e);
	}
	print_message("fuzz: %d compiled, %d refused\n", ok, bad);
	/* Both outcomes are exercised. */
	assert_true(ok > 500);
	assert_true(bad > 1000);
}

/* ---- GetTables' Expression ---------------------------------------------- */

static const struct {
	const char *expr;
	const char *want;
} pattern_cases[] = {
	{ "*", "^.*" },
	{ ".*", "^.*" },
	{ "sales*", "^sales.*" },
	{ "*_2024", "^.*_2024" },
	{ "a.*b", "^a.*b" },
	{ "(a|b)+", "^(a|b)+" },
	{ "a**", "^a.*.*" },
	{ "[*]x", "^[*]x" },
	{ "\\*", "^\\*" },
	{ "\\.*", "^\\..*" },
	{ "sales|orders", "^(sales|orders)" },
	{ "(a|b)c", "^(a|b)c" },
	{ "[]|]x", "^[]|]x" },
	{ "[^]*]x", "^[^]*]x" },
	{ "[[:alpha:]*]+", "^[[:alpha:]*]+" },
	{ "[a-z]{2}_[0-9]{4}", "^[a-z]{2}_[0-9]{4}" },
	{ "a{1,255}", "^a{1,255}" },
	{ "^abc$", "^^abc$" },
	{ "t\xc3\xa9*", "^t\xc3\xa9.*" },
	{ "", "^" },
};

static void test_table_pattern(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern_cases / sizeof *pattern_cases; i++) {
		struct fl_buf out;
		struct fl_error err = { 0 };
		fl_buf_init(&out, 16384);
		assert_int_equal(fl_buf_adds(&out, "stale"), FL_OK);
		enum fl_result r = fl_glue_table_pattern(pattern_cases[i].expr, &out, &err);
		if (r != FL_OK)
			print_error("case %zu '%s': %s\n", i, pattern_cases[i].expr, err.msg);
		assert_int_equal(r, FL_OK);
		assert_string_equal(out.data, pattern_cases[i].want);
		fl_buf_free(&out);
	}
}

/* What the patterns match, through regexec as PostgreSQL's ~ would. */
static const struct {
	const char *expr;
	const char *name;
	bool match;
} match_cases[] = {
	{ "sales*", "sales", true },
	{ "sales*", "sales_2024", true },
	{ "sales*", "my_sales", false },
	{ "sales", "sales_2024", true },
	{ "*sales", "my_sales", true },
	{ "sales|orders", "orders_x", true },
	{ "sales|orders", "x_orders", false },
	{ "sales|orders", "x_sales", false },
	{ "a.c", "abc", true },
	{ "a\\.c", "abc", false },
	{ "[*]x", "*x", true },
	{ "[*]x", "ax", false },
};

static void test_table_pattern_matches(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof match_cases / sizeof *match_cases; i++) {
		struct fl_buf out;
		struct fl_error err = { 0 };
		regex_t re;
		fl_buf_init(&out, 16384);
		assert_int_equal(fl_glue_table_pattern(match_cases[i].expr, &out, &err), FL_OK);
		assert_int_equal(regcomp(&re, out.data, REG_EXTENDED | REG_NOSUB), 0);
		bool m = regexec(&re, match_cases[i].name, 0, NULL, 0) == 0;
		if (m != match_cases[i].match)
			print_error("case %zu: '%s' ~ '%s'\n", i, match_cases[i].name, out.data);
		assert_int_equal(m, match_cases[i].match);
		regfree(&re);
		fl_buf_free(&out);
	}
}

static const struct {
	const char *expr;
	const char *msg;   /* NULL: regcomp's own text after "Invalid Expression: " */
} pattern_bad[] = {
	{ "(a)\\1", "Invalid Expression: back references are not supported (position 4)" },
	{ "x\\9", "Invalid Expression: back references are not supported (position 2)" },
	{ "a{256}", "Invalid Expression: repetition count over 255 at position 2" },
	{ "a{1,300}", "Invalid Expression: repetition count over 255 at position 2" },
	{ "a{,300}", "Invalid Expression: repetition count over 255 at position 2" },
	{ "a{0000000300}", "Invalid Expression: repetition count over 255 at position 2" },
	{ "a{99999999999999999999999}", "Invalid Expression: repetition count over 255 at position 2" },
	{ "((a{200}){200})", "Invalid Expression: too complex" },
	{ "((a{,200}){,200})", "Invalid Expression: too complex" },
	{ "((a{200,}){200,})", "Invalid Expression: too complex" },
	{ "a.*++", "Invalid Expression: a repetition of what can match the empty string at position 4" },
	{ "(.*)+", "Invalid Expression: a repetition of what can match the empty string at position 5" },
	{ "(", "Invalid Expression: unmatched '('" },
	{ "a)", "Invalid Expression: unmatched ')' at position 2" },
	{ "[abc", NULL },
	{ "a{2,1}", NULL },
	{ "a\\", NULL },
};

static void test_table_pattern_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern_bad / sizeof *pattern_bad; i++) {
		struct fl_buf out;
		struct fl_error err = { 0 };
		fl_buf_init(&out, 16384);
		enum fl_result r = fl_glue_table_pattern(pattern_bad[i].expr, &out, &err);
		if (r != FL_INVALID)
			print_error("case %zu '%s': %d %s\n", i, pattern_bad[i].expr, r,
				    out.data ? out.data : "");
		assert_int_equal(r, FL_INVALID);
		if (pattern_bad[i].msg)
			assert_string_equal(err.msg, pattern_bad[i].msg);
		else
			assert_int_equal(strncmp(err.msg, "Invalid Expression: ", 20), 0);
		assert_true(strlen(err.msg) > 20);
		fl_buf_free(&out);
	}
	/* Length: 2048 bytes pass, 2049 do not; 65 nested groups do not. */
	struct fl_buf out;
	struct fl_error err = { 0 };
	fl_buf_init(&out, 16384);
	char *s = build("", "a", 2048, "");
	assert_int_equal(fl_glue_table_pattern(s, &out, &err), FL_OK);
	assert_int_equal(out.len, 2049);
	free(s);
	s = build("", "a", 2049, "");
	assert_int_equal(fl_glue_table_pattern(s, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "Invalid Expression: longer than 2048 bytes");
	free(s);
	s = build("", "(", 65, "a");
	char *t = build(s, ")", 65, "");
	assert_int_equal(fl_glue_table_pattern(t, &out, &err), FL_INVALID);
	assert_string_equal(err.msg, "Invalid Expression: groups nest deeper than 64 levels");
	free(s);
	free(t);
	s = build("", "(", 64, "a");
	t = build(s, ")", 64, "");
	assert_int_equal(fl_glue_table_pattern(t, &out, &err), FL_OK);
	free(s);
	free(t);
	fl_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_is_ours_catches_leaks),
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_values_sql),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_table_pattern),
		cmocka_unit_test(test_table_pattern_matches),
		cmocka_unit_test(test_table_pattern_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
