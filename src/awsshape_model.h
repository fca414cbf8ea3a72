/*
 * awsshape_model.h - the nodes of the generated shape tables (private to
 * awsshape.c and the generated src/shapes_<service>.c).
 *
 * One node per botocore shape reachable from an operation's input.  A
 * node points at the nodes it is made of (a structure's members, a list's
 * member, a map's key and value) inside the same static array, so the
 * tables need no relocation and no initialisation at run time.
 *
 *   shapes_glue.c:  static const struct fl_awsshape S[] = {
 *                       [SH_GetTableRequest] = { "GetTableRequest",
 *                           FL_AWSSHAPE_STRUCTURE, MEMBERS(m_GetTableRequest) },
 *                       [SH_NameString] = { "NameString", FL_AWSSHAPE_STRING,
 *                           MIN(1), MAX(255), PATTERN(GLUE_LINE, ...) }, ...
 *
 * Patterns are named by the generator (scripts/gen-shapes.py knows the
 * exact pattern texts awsshape.c implements and writes
 * FL_AWSSHAPE_PAT_UNCHECKED for any other); the model's text travels
 * beside the id because AWS quotes it in its messages.
 */
#ifndef FL_AWSSHAPE_MODEL_H
#define FL_AWSSHAPE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "awsshape.h"

enum fl_awsshape_kind {
	FL_AWSSHAPE_STRUCTURE,
	FL_AWSSHAPE_LIST,
	FL_AWSSHAPE_MAP,
	FL_AWSSHAPE_STRING,
	FL_AWSSHAPE_INTEGER,    /* 32-bit */
	FL_AWSSHAPE_LONG,       /* 64-bit */
	FL_AWSSHAPE_DOUBLE,     /* double and float */
	FL_AWSSHAPE_BOOLEAN,
	FL_AWSSHAPE_TIMESTAMP,  /* epoch seconds (number) or an ISO 8601 string */
	FL_AWSSHAPE_BLOB,       /* base64 string */
	FL_AWSSHAPE_DOCUMENT,   /* any JSON value, not looked into */
};

/* The patterns awsshape.c checks, by the model's exact text (the texts
 * are in scripts/gen-shapes.py, KNOWN_PATTERNS). */
enum fl_awsshape_pattern {
	FL_AWSSHAPE_PAT_NONE = 0,       /* the shape has no pattern */
	FL_AWSSHAPE_PAT_UNCHECKED,      /* a pattern awsshape.c does not know */
	FL_AWSSHAPE_PAT_GLUE_LINE,      /* Glue single-line string: XML chars but \r \n */
	FL_AWSSHAPE_PAT_GLUE_TEXT,      /* Glue multi-line string: XML chars */
	FL_AWSSHAPE_PAT_GLUE_ARN,       /* arn:aws(-(cn|us-gov|iso(-[bef])?))?:glue:.* */
	FL_AWSSHAPE_PAT_UUID,           /* lower-case hex 8-4-4-4-12 */
	FL_AWSSHAPE_PAT_REGISTRY_NAME,  /* [a-zA-Z0-9-_$#.]+ */
	FL_AWSSHAPE_PAT_LETTERS_PUNCT,  /* [\p{L}\p{N}\p{P}]* (exact for ASCII) */
	FL_AWSSHAPE_PAT_WORKGROUP,      /* [a-zA-Z0-9._-]{1,128} */
	FL_AWSSHAPE_PAT_LOG_GROUP,      /* ^[a-zA-Z0-9._/-]+$ */
	FL_AWSSHAPE_PAT_DIGITS,         /* ^[0-9]+$ */
	FL_AWSSHAPE_PAT_LOG_STREAM,     /* ^[^:*]*$ */
	FL_AWSSHAPE_PAT_NOT_SPACE,      /* \S+ */
	FL_AWSSHAPE_PAT_IAM_ROLE_ARN,   /* ^arn:aws[a-z\-]*:iam::\d{12}:role/?[...]+$ */
	FL_AWSSHAPE_PAT_S3_URI,         /* ^s3://[a-z0-9][a-z0-9\-]*[a-z0-9](/.*)?$ */
	FL_AWSSHAPE_PAT_KMS_KEY,        /* key ARN | alias ARN | alias/name | key id */
	FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN, /* ^arn:(aws|...):sso:::instance/(sso)?ins-... */
};

struct fl_awsshape_member {
	const char *name;                   /* as the model spells it: "DatabaseName" */
	const struct fl_awsshape *shape;
	bool required;
};

struct fl_awsshape {
	const char *name;                   /* the model's shape name */
	enum fl_awsshape_kind kind;
	bool has_min, has_max;
	/* Length (string characters, blob bytes, list or map entries) or
	 * value (numbers).  The models hold integral bounds only. */
	int64_t min, max;
	enum fl_awsshape_pattern pattern;
	const char *pattern_text;           /* the model's text, quoted in messages */
	const char *const *enums;           /* NULL-terminated, or NULL */
	const struct fl_awsshape_member *members; /* structure */
	size_t nmembers;
	const struct fl_awsshape *elem;     /* list member, map value */
	const struct fl_awsshape *key;      /* map key */
};

/* Initialiser pieces for the generated tables. */
#define FL_AWSSHAPE_MIN(v) .has_min = true, .min = (v)
#define FL_AWSSHAPE_MAX(v) .has_max = true, .max = (v)
#define FL_AWSSHAPE_PATTERN(id, text) .pattern = FL_AWSSHAPE_PAT_##id, .pattern_text = (text)
#define FL_AWSSHAPE_ENUM(list) .enums = (list)
#define FL_AWSSHAPE_MEMBERS(list) .members = (list), .nmembers = sizeof(list) / sizeof((list)[0])

#endif
