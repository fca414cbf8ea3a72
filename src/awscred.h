/*
 * awscred.h - AWS credentials for our S3 client, found where the AWS CLI
 * and SDKs look, in the same order:
 *
 *   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for
 *      temporary credentials, AWS_SESSION_TOKEN;
 *   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      $HOME/.aws/credentials), profile AWS_PROFILE or "default":
 *
 *        # comment            ; comment too
 *        [default]
 *        aws_access_key_id = AKIAIOSFODNN7EXAMPLE
 *        aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
 *        aws_session_token = ...          (optional)
 *
 * Section names are matched exactly, property names without regard to
 * case; blanks around names and values are dropped; a '#' or ';' after a
 * blank starts a comment; an indented line under a property with an
 * empty value belongs to it (a nested setting) and is skipped.
 *
 * Nothing here logs.  The secret and the token never appear in a message;
 * the key id may (it is not a secret: S3 echoes it in its errors).
 */
#ifndef FL_AWSCRED_H
#define FL_AWSCRED_H

#include "result.h"

struct fl_awscred {
	char key_id[129];
	char secret[129];
	char token[4096];        /* "" unless temporary credentials */
	char source[300];        /* "environment" or "FILE [profile]", for logs */
};

/* Loads credentials from the environment, else the shared credentials
 * file.  FL_INVALID, with a message that says where it looked, when there
 * are none or only part of a pair (a key id without its secret), when
 * AWS_PROFILE names a profile the file lacks, or when the file cannot be
 * read or does not parse. */
enum fl_result fl_awscred_load(struct fl_awscred *out, struct fl_error *err) FL_MUST_USE;

/* Reads profile's credentials from the text of a shared credentials file
 * (len bytes).  FL_NOT_FOUND when the profile is absent or holds no key
 * id and no secret; FL_INVALID when the text does not parse (message
 * gives the line) or holds only one of the pair.  Fills out's key_id,
 * secret and token only. */
enum fl_result fl_awscred_parse(const char *text, size_t len, const char *profile,
				struct fl_awscred *out, struct fl_error *err) FL_MUST_USE;

#endif
