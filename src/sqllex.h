/*
 * sqllex.h - Athena (Trino) SQL text cut into tokens, by Trino's lexical
 * rules.
 *
 * Tokens:
 *   FL_SQL_TK_IDENT   a word: letters, digits, '_' (not first a digit);
 *                     name = the word in lower case
 *   FL_SQL_TK_QIDENT  "quoted identifier" ("" escapes a quote); name =
 *                     its content, unescaped, in lower case
 *   FL_SQL_TK_STRING  'string' ('' escapes a quote); text holds the quotes
 *   FL_SQL_TK_NUMBER  digits [. digits] [e [+-] digits], or . digits
 *   FL_SQL_TK_BINARY  X'hex' (blanks between digits allowed); name = the
 *                     hex digits in lower case, an even number of them
 *   FL_SQL_TK_OP      one of + - * / % = < > ( ) [ ] , . ; <> != <= >=
 *                     || =>
 *   FL_SQL_TK_END     the end of the text (always the last token)
 * White space, -- comments and non-nesting block comments separate tokens
 * and are not tokens (a token after them has space set).
 *
 * Refused, FL_INVALID "<what> at line L, column C" (the token's place,
 * both counted from 1): unterminated strings, identifiers and comments,
 * "" (zero-length identifier), whatever PostgreSQL reads and Trino does
 * not - $ (dollar quoting, parameters), E'' B'' N'' U&'' strings, '::'
 * casts, '->' lambdas, '?' parameters, `backquotes` - a number running
 * into a word ("1a"), any other character.
 *
 * Pure, no I/O.
 */
#ifndef FL_SQLLEX_H
#define FL_SQLLEX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

#define FL_SQL_LEX_MAX_DEPTH 100     /* nesting of ( and [ */

enum fl_sql_tk {
	FL_SQL_TK_END, FL_SQL_TK_IDENT, FL_SQL_TK_QIDENT, FL_SQL_TK_STRING, FL_SQL_TK_NUMBER,
	FL_SQL_TK_BINARY, FL_SQL_TK_OP,
};

struct fl_sql_tok {
	enum fl_sql_tk kind;
	int role;            /* the caller's: 0 from the lexer */
	const char *text;    /* in the query text (borrowed) */
	unsigned len, line, col;
	bool space;          /* white space or a comment came before it */
	const char *name;    /* identifiers: unescaped, lower case; X'': hex */
	int match;           /* ( [ ) ]: index of the other one (fl_sql_lex_pair);
	                      * -1 from the lexer */
	int src;             /* the caller's: -1 from the lexer */
	int gen;             /* the caller's: 0 from the lexer */
};

struct fl_sql_lex {
	struct fl_sql_tok *t;   /* t[n - 1] is the FL_SQL_TK_END token */
	int n, cap;
	char *arena;            /* the tokens' names */
	size_t arena_len;
};

/* Cuts sql (NUL-terminated) into out's tokens (out initialised here; free
 * with fl_sql_lex_free, also after a failure).  FL_INVALID as above,
 * FL_INTERNAL on ENOMEM. */
enum fl_result fl_sql_lex(const char *sql, struct fl_sql_lex *out, struct fl_error *err)
	FL_MUST_USE;
void fl_sql_lex_free(struct fl_sql_lex *lx);

/* Pairs ( with ) and [ with ] among t[0..n) (their match fields), nested
 * at most FL_SQL_LEX_MAX_DEPTH deep; FL_INVALID for an unbalanced one. */
enum fl_result fl_sql_lex_pair(struct fl_sql_tok *t, int n, struct fl_error *err)
	FL_MUST_USE;

/* Sets err to the message fmt formats followed by " at line L, column C"
 * of token k; returns code. */
enum fl_result fl_sql_tok_error(struct fl_error *err, const struct fl_sql_tok *k,
				enum fl_result code, const char *fmt, ...) FL_PRINTF(4, 5);
enum fl_result fl_sql_tok_verror(struct fl_error *err, const struct fl_sql_tok *k,
				 enum fl_result code, const char *fmt, va_list ap)
	FL_PRINTF(4, 0);

#endif
