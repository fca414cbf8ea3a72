/* Request validation against the generated botocore shapes: table-driven
 * cases for each kind of violation with AWS's exact text, the generated
 * operation tables, fl_awsshape_parse, and the patterns one by one on
 * shapes made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsshape.h"
#include "awsshape_model.h"

#define GLUE_LINE "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*"
#define GLUE_TEXT "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"
#define NOT_NULL "failed to satisfy constraint: Member must not be null"
#define ONE "1 validation error detected: "

enum svc { GLUE, ATHENA };

static const struct fl_awsshape_op *op_of(enum svc svc, const char *name)
{
	if (svc == GLUE)
		return fl_awsshape_find(fl_glue_ops, fl_glue_op_count, name);
	return fl_awsshape_find(fl_athena_ops, fl_athena_op_count, name);
}

/* Checks body against svc's op; want FL_OK or the error with msg exactly. */
static void expect(enum svc svc, const char *op, const char *body, enum fl_result want,
		   const char *msg)
{
	const struct fl_awsshape_op *o = op_of(svc, op);
	json_error_t jerr;
	json_t *req = json_loads(body, 0, &jerr);
	struct fl_error err = { FL_OK, "", "" };
	enum fl_result r;

	if (!o || !req)
		fail_msg("case %s %s: no op or bad test JSON (%s)", op, body, jerr.text);
	r = fl_awsshape_check(o, req, &err);
	if (r != want || (msg && strcmp(err.msg, msg) != 0))
		fail_msg("case %s %s:\n  got  %d \"%s\"\n  want %d \"%s\"", op, body, r,
			 r == FL_OK ? "" : err.msg, want, msg ? msg : "");
	json_decref(req);
}

struct check_case {
	enum svc svc;
	const char *op;
	const char *body;
	enum fl_result want;
	const char *msg;
};

/* ---- Glue ------------------------------------------------------------------ */

static const struct check_case glue_cases[] = {
	{ GLUE, "GetTable", "{\"DatabaseName\":\"db\",\"Name\":\"t\"}", FL_OK, NULL },
	/* missing required members, in model order */
	{ GLUE, "GetTable", "{}", FL_VALIDATION,
	  "2 validation errors detected: Value null at 'databaseName' " NOT_NULL
	  "; Value null at 'name' " NOT_NULL },
	/* null is an absent member; unknown members are ignored */
	{ GLUE, "GetTable", "{\"DatabaseName\":null,\"Name\":\"t\"}", FL_VALIDATION,
	  ONE "Value null at 'databaseName' " NOT_NULL },
	{ GLUE, "GetTable", "{\"DatabaseName\":\"d\",\"Name\":\"t\",\"CatalogId\":null,"
	  "\"Bogus\":{\"x\":[1,{}]},\"name\":5}", FL_OK, NULL },
	/* lengths */
	{ GLUE, "GetTable", "{\"DatabaseName\":\"db\",\"Name\":\"\"}", FL_VALIDATION,
	  ONE "Value '' at 'name' failed to satisfy constraint: Member must have length "
	  "greater than or equal to 1" },
	/* the single-line pattern: tab and astral characters pass, newlines,
	 * controls and U+FFFE do not */
	{ GLUE, "GetTable", "{\"DatabaseName\":\"a\\tb \\u00e9\\ud83d\\ude00\",\"Name\":\"t\"}",
	  FL_OK, NULL },
	{ GLUE, "GetTable", "{\"DatabaseName\":\"a\\nb\",\"Name\":\"t\"}", FL_VALIDATION,
	  ONE "Value 'a\nb' at 'databaseName' failed to satisfy constraint: Member must "
	  "satisfy regular expression pattern: " GLUE_LINE },
	{ GLUE, "GetTable", "{\"DatabaseName\":\"d\",\"Name\":\"x\\u0001\"}", FL_VALIDATION,
	  ONE "Value 'x\001' at 'name' failed to satisfy constraint: Member must "
	  "satisfy regular expression pattern: " GLUE_LINE },
	{ GLUE, "GetTable", "{\"DatabaseName\":\"d\",\"Name\":\"\\ufffe\"}", FL_VALIDATION,
	  ONE "Value '\xef\xbf\xbe' at 'name' failed to satisfy constraint: Member must "
	  "satisfy regular expression pattern: " GLUE_LINE },
	/* length and pattern both fail: two violations of one member */
	{ GLUE, "GetDatabase", "{\"Name\":\"\",\"CatalogId\":\"\\n\"}", FL_VALIDATION,
	  "2 validation errors detected: Value '\n' at 'catalogId' failed to satisfy "
	  "constraint: Member must satisfy regular expression pattern: " GLUE_LINE
	  "; Value '' at 'name' failed to satisfy constraint: Member must have length "
	  "greater than or equal to 1" },
	/* wrong JSON types stop the walk, naming the member as the model does */
	{ GLUE, "GetDatabase", "{\"Name\":5}", FL_MALFORMED,
	  "Unexpected value type for member 'Name': expected string" },
	{ GLUE, "GetTable", "{\"DatabaseName\":\"\",\"Name\":[\"t\"]}", FL_MALFORMED,
	  "Unexpected value type for member 'Name': expected string" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":\"db\"}", FL_MALFORMED,
	  "Unexpected value type for member 'DatabaseInput': expected structure" },
	/* nested structures */
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"\"}}", FL_VALIDATION,
	  ONE "Value '' at 'databaseInput.name' failed to satisfy constraint: Member must "
	  "have length greater than or equal to 1" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{}}", FL_VALIDATION,
	  ONE "Value null at 'databaseInput.name' " NOT_NULL },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\",\"Description\":"
	  "\"line 1\\r\\nline 2\",\"LocationUri\":\"s3://b/p\"}}", FL_OK, NULL },
	/* maps: once for the keys, once for the values, every constraint listed */
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\",\"Parameters\":"
	  "{\"a\":\"1\",\"\":\"v\"}}}", FL_VALIDATION,
	  ONE "Value '{a=1, =v}' at 'databaseInput.parameters' failed to satisfy constraint: "
	  "Map keys must satisfy constraint: [Member must have length less than or equal "
	  "to 255, Member must have length greater than or equal to 1, Member must satisfy "
	  "regular expression pattern: " GLUE_LINE "]" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\"},\"Tags\":{\"\":\"v\","
	  "\"k\":\"\"}}", FL_VALIDATION,
	  ONE "Value '{=v, k=}' at 'tags' failed to satisfy constraint: Map keys must "
	  "satisfy constraint: [Member must have length less than or equal to 128, Member "
	  "must have length greater than or equal to 1]" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\",\"Parameters\":"
	  "{\"a\":1}}}", FL_MALFORMED,
	  "Unexpected value type for member 'DatabaseInput.Parameters.a': expected string" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\",\"Parameters\":"
	  "[\"a\"]}}", FL_MALFORMED,
	  "Unexpected value type for member 'DatabaseInput.Parameters': expected map" },
	{ GLUE, "CreateDatabase", "{\"DatabaseInput\":{\"Name\":\"d\",\"Parameters\":"
	  "{\"a\":null}}}", FL_VALIDATION,
	  ONE "Value '{a=null}' at 'databaseInput.parameters' failed to satisfy constraint: "
	  "Map value must satisfy constraint: [Member must not be null, Member must have "
	  "length less than or equal to 512000]" },
	/* integers */
	{ GLUE, "GetDatabases", "{\"MaxResults\":100}", FL_OK, NULL },
	{ GLUE, "GetDatabases", "{\"MaxResults\":0}", FL_VALIDATION,
	  ONE "Value '0' at 'maxResults' failed to satisfy constraint: Member must have "
	  "value greater than or equal to 1" },
	{ GLUE, "GetDatabases", "{\"MaxResults\":101}", FL_VALIDATION,
	  ONE "Value '101' at 'maxResults' failed to satisfy constraint: Member must have "
	  "value less than or equal to 100" },
	{ GLUE, "GetDatabases", "{\"MaxResults\":1.5}", FL_MALFORMED,
	  "Unexpected value type for member 'MaxResults': expected integer" },
	{ GLUE, "GetDatabases", "{\"MaxResults\":\"10\"}", FL_MALFORMED,
	  "Unexpected value type for member 'MaxResults': expected integer" },
	{ GLUE, "GetDatabases", "{\"MaxResults\":4294967296}", FL_MALFORMED,
	  "Unexpected value type for member 'MaxResults': expected integer" },
	{ GLUE, "GetPartitions", "{\"DatabaseName\":\"d\",\"TableName\":\"t\",\"Segment\":"
	  "{\"SegmentNumber\":-1,\"TotalSegments\":11}}", FL_VALIDATION,
	  "2 validation errors detected: Value '-1' at 'segment.segmentNumber' failed to "
	  "satisfy constraint: Member must have value greater than or equal to 0; Value '11' "
	  "at 'segment.totalSegments' failed to satisfy constraint: Member must have value "
	  "less than or equal to 10" },
	/* longs: TableVersionId, min -1 */
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"ViewDefinition\":{\"SubObjectVersionIds\":[-1,5000000000,-2]}}}", FL_VALIDATION,
	  ONE "Value '-2' at 'tableInput.viewDefinition.subObjectVersionIds.3.member' failed "
	  "to satisfy constraint: Member must have value greater than or equal to -1" },
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"ViewDefinition\":{\"SubObjectVersionIds\":[1.0]}}}", FL_MALFORMED,
	  "Unexpected value type for member "
	  "'TableInput.ViewDefinition.SubObjectVersionIds.1.member': expected long" },
	/* enums */
	{ GLUE, "GetDatabases", "{\"ResourceShareType\":\"MINE\"}", FL_VALIDATION,
	  ONE "Value 'MINE' at 'resourceShareType' failed to satisfy constraint: Member must "
	  "satisfy enum value set: [FOREIGN, ALL, FEDERATED]" },
	{ GLUE, "GetDatabases", "{\"ResourceShareType\":\"ALL\"}", FL_OK, NULL },
	{ GLUE, "GetDatabases", "{\"ResourceShareType\":1}", FL_MALFORMED,
	  "Unexpected value type for member 'ResourceShareType': expected string" },
	{ GLUE, "CreateCrawler", "{\"RecrawlPolicy\":{\"RecrawlBehavior\":\"X\"}}",
	  FL_VALIDATION,
	  "4 validation errors detected: Value null at 'name' " NOT_NULL
	  "; Value null at 'role' " NOT_NULL "; Value null at 'targets' " NOT_NULL
	  "; Value 'X' at 'recrawlPolicy.recrawlBehavior' failed to satisfy constraint: "
	  "Member must satisfy enum value set: [CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY, "
	  "CRAWL_EVENT_MODE]" },
	{ GLUE, "CreateCrawler", "{\"Name\":\"c\",\"Role\":\"r\",\"Targets\":{\"S3Targets\":"
	  "[{\"Path\":\"s3://b/p\",\"Exclusions\":[\"*.tmp\"]}]},\"SchemaChangePolicy\":"
	  "{\"UpdateBehavior\":\"LOG\",\"DeleteBehavior\":\"DEPRECATE_IN_DATABASE\"}}",
	  FL_OK, NULL },
	/* booleans: true and false only */
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"SkipArchive\":true}", FL_OK, NULL },
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"SkipArchive\":\"true\"}",
	  FL_MALFORMED, "Unexpected value type for member 'SkipArchive': expected boolean" },
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"SkipArchive\":1}",
	  FL_MALFORMED, "Unexpected value type for member 'SkipArchive': expected boolean" },
	/* timestamps: epoch seconds or ISO 8601 */
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"LastAccessTime\":1700000000.25,\"LastAnalyzedTime\":1700000000}}", FL_OK, NULL },
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"LastAccessTime\":\"2024-01-02T03:04:05.123Z\",\"LastAnalyzedTime\":"
	  "\"2024-01-02T03:04:05+01:00\"}}", FL_OK, NULL },
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"LastAccessTime\":\"yesterday\"}}", FL_MALFORMED,
	  "Unexpected value type for member 'TableInput.LastAccessTime': expected "
	  "timestamp (epoch seconds or ISO 8601)" },
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"LastAccessTime\":\"2024-13-02T03:04:05Z\"}}", FL_MALFORMED,
	  "Unexpected value type for member 'TableInput.LastAccessTime': expected "
	  "timestamp (epoch seconds or ISO 8601)" },
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"LastAccessTime\":true}}", FL_MALFORMED,
	  "Unexpected value type for member 'TableInput.LastAccessTime': expected "
	  "timestamp (epoch seconds or ISO 8601)" },
	/* lists: paths with 1-based elements */
	{ GLUE, "CreateTable", "{\"DatabaseName\":\"d\",\"TableInput\":{\"Name\":\"t\","
	  "\"StorageDescriptor\":{\"Columns\":[{\"Name\":\"c\",\"Type\":\"int\"},"
	  "{\"Name\":\"\"}]}}}", FL_VALIDATION,
	  ONE "Value '' at 'tableInput.storageDescriptor.columns.2.member.name' failed to "
	  "satisfy constraint: Member must have length greater than or equal to 1" },
	{ GLUE, "BatchCreatePartition", "{\"DatabaseName\":\"d\",\"TableName\":\"t\","
	  "\"PartitionInputList\":[{\"Values\":[\"a\"]},{\"Values\":[\"a\",\"\"]}]}",
	  FL_VALIDATION,
	  ONE "Value '' at 'partitionInputList.2.member.values.2.member' failed to satisfy "
	  "constraint: Member must have length greater than or equal to 1" },
	{ GLUE, "BatchCreatePartition", "{\"DatabaseName\":\"d\",\"TableName\":\"t\","
	  "\"PartitionInputList\":[{\"StorageDescriptor\":{\"Location\":\"s3://b/\\u0001\"}}]}",
	  FL_VALIDATION,
	  ONE "Value 's3://b/\001' at 'partitionInputList.1.member.storageDescriptor.location'"
	  " failed to satisfy constraint: Member must satisfy regular expression pattern: "
	  GLUE_TEXT },
	{ GLUE, "BatchCreatePartition", "{\"DatabaseName\":\"d\",\"TableName\":\"t\","
	  "\"PartitionInputList\":[{\"Values\":\"a\"}]}", FL_MALFORMED,
	  "Unexpected value type for member 'PartitionInputList.1.member.Values': "
	  "expected list" },
	{ GLUE, "BatchDeleteTable", "{\"DatabaseName\":\"d\",\"TablesToDelete\":\"t\"}",
	  FL_MALFORMED, "Unexpected value type for member 'TablesToDelete': expected list" },
	{ GLUE, "BatchDeleteTable", "{\"DatabaseName\":\"d\",\"TablesToDelete\":[1]}",
	  FL_MALFORMED,
	  "Unexpected value type for member 'TablesToDelete.1.member': expected string" },
	{ GLUE, "BatchDeleteTable", "{\"DatabaseName\":\"d\",\"TablesToDelete\":[\"a\",null]}",
	  FL_VALIDATION, ONE "Value null at 'tablesToDelete.2.member' " NOT_NULL },
	{ GLUE, "BatchGetPartition", "{\"DatabaseName\":\"d\",\"TableName\":\"t\","
	  "\"PartitionsToGet\":[{\"Values\":[\"2024\"]}]}", FL_OK, NULL },
	/* a type error wins over the violations found before it */
	{ GLUE, "GetTable", "{\"DatabaseName\":\"\",\"Name\":5}", FL_MALFORMED,
	  "Unexpected value type for member 'Name': expected string" },
	/* documents are not looked into */
	{ GLUE, "UpdateTable", "{\"DatabaseName\":\"d\",\"UpdateOpenTableFormatInput\":"
	  "{\"UpdateIcebergInput\":{\"UpdateIcebergTableInput\":{\"Updates\":[{\"Schema\":"
	  "{\"Fields\":[{\"Id\":1,\"Name\":\"c\",\"Type\":{\"any\":[1,\"x\"]},"
	  "\"Required\":false}]},\"Location\":\"s3://b/t\"}]}}}}", FL_OK, NULL },
	{ GLUE, "StartCrawler", "{}", FL_VALIDATION, ONE "Value null at 'name' " NOT_NULL },
	{ GLUE, "ListCrawlers", "{\"MaxResults\":1000,\"Tags\":{\"k\":\"v\"}}", FL_OK, NULL },
	{ GLUE, "GetCrawlerMetrics", "{\"CrawlerNameList\":[\"a\",\"b\"]}", FL_OK, NULL },
};

/* ---- Athena ---------------------------------------------------------------- */

static const struct check_case athena_cases[] = {
	{ ATHENA, "GetQueryExecution", "{}", FL_VALIDATION,
	  ONE "Value null at 'queryExecutionId' " NOT_NULL },
	{ ATHENA, "GetQueryExecution",
	  "{\"QueryExecutionId\":\"0c3f5a4e-1d2b-4c5d-9e8f-0123456789ab\"}", FL_OK, NULL },
	{ ATHENA, "GetQueryExecution", "{\"QueryExecutionId\":\"a b\"}", FL_VALIDATION,
	  ONE "Value 'a b' at 'queryExecutionId' failed to satisfy constraint: Member must "
	  "satisfy regular expression pattern: \\S+" },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"bad name\"}", FL_VALIDATION,
	  ONE "Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy "
	  "regular expression pattern: [a-zA-Z0-9._-]{1,128}" },
	{ ATHENA, "ListNamedQueries", "{\"WorkGroup\":\"\"}", FL_VALIDATION,
	  ONE "Value '' at 'workGroup' failed to satisfy constraint: Member must satisfy "
	  "regular expression pattern: [a-zA-Z0-9._-]{1,128}" },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"wg.1_a-b\",\"Configuration\":{"
	  "\"ExecutionRole\":\"arn:aws:iam::123456789012:role/service-role/x\","
	  "\"CustomerContentEncryptionConfiguration\":{\"KmsKey\":\"alias/my-key\"},"
	  "\"ResultConfiguration\":{\"OutputLocation\":\"s3://b/p/\",\"ExpectedBucketOwner\":"
	  "\"123456789012\"},\"BytesScannedCutoffPerQuery\":10000000}}", FL_OK, NULL },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Configuration\":{"
	  "\"ExecutionRole\":\"arn:aws:iam::12345:role/x\"}}", FL_VALIDATION,
	  ONE "Value 'arn:aws:iam::12345:role/x' at 'configuration.executionRole' failed to "
	  "satisfy constraint: Member must satisfy regular expression pattern: "
	  "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$" },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Configuration\":{"
	  "\"ResultConfiguration\":{\"ExpectedBucketOwner\":\"12345678901a\"},"
	  "\"BytesScannedCutoffPerQuery\":9999999}}", FL_VALIDATION,
	  "2 validation errors detected: Value '12345678901a' at "
	  "'configuration.resultConfiguration.expectedBucketOwner' failed to satisfy "
	  "constraint: Member must satisfy regular expression pattern: ^[0-9]+$; "
	  "Value '9999999' at 'configuration.bytesScannedCutoffPerQuery' failed to satisfy "
	  "constraint: Member must have value greater than or equal to 10000000" },
	{ ATHENA, "UpdateWorkGroup", "{\"WorkGroup\":\"w\",\"ConfigurationUpdates\":{"
	  "\"CustomerContentEncryptionConfiguration\":{\"KmsKey\":\"my key\"}}}",
	  FL_VALIDATION,
	  ONE "Value 'my key' at 'configurationUpdates.customerContentEncryptionConfiguration"
	  ".kmsKey' failed to satisfy constraint: Member must satisfy regular expression "
	  "pattern: ^arn:aws[a-z\\-]*:kms:([a-z0-9\\-]+):\\d{12}:key/?[a-zA-Z_0-9+=,.@\\-_/]+$"
	  "|^arn:aws[a-z\\-]*:kms:([a-z0-9\\-]+):\\d{12}:alias/?[a-zA-Z_0-9+=,.@\\-_/]+$"
	  "|^alias/[a-zA-Z0-9/_-]+$"
	  "|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}" },
	{ ATHENA, "UpdateWorkGroup", "{\"WorkGroup\":\"w\",\"State\":\"PAUSED\"}",
	  FL_VALIDATION,
	  ONE "Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy "
	  "enum value set: [ENABLED, DISABLED]" },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"SELECT 1\","
	  "\"ClientRequestToken\":\"short\"}", FL_VALIDATION,
	  ONE "Value 'short' at 'clientRequestToken' failed to satisfy constraint: Member "
	  "must have length greater than or equal to 32" },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"\"}", FL_VALIDATION,
	  ONE "Value '' at 'queryString' failed to satisfy constraint: Member must have "
	  "length greater than or equal to 1" },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"SELECT 1\",\"ResultConfiguration\":"
	  "{\"EncryptionConfiguration\":{\"EncryptionOption\":\"NONE\"}}}", FL_VALIDATION,
	  ONE "Value 'NONE' at 'resultConfiguration.encryptionConfiguration.encryptionOption'"
	  " failed to satisfy constraint: Member must satisfy enum value set: "
	  "[SSE_S3, SSE_KMS, CSE_KMS]" },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"SELECT 1\",\"ResultConfiguration\":"
	  "{\"EncryptionConfiguration\":{}}}", FL_VALIDATION,
	  ONE "Value null at 'resultConfiguration.encryptionConfiguration.encryptionOption' "
	  NOT_NULL },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"SELECT ?\","
	  "\"ExecutionParameters\":[]}", FL_VALIDATION,
	  ONE "Value '[]' at 'executionParameters' failed to satisfy constraint: Member must "
	  "have length greater than or equal to 1" },
	{ ATHENA, "StartQueryExecution", "{\"QueryString\":\"SELECT ?\","
	  "\"ExecutionParameters\":[\"'a'\",\"\"],\"QueryExecutionContext\":{\"Database\":"
	  "\"db\",\"Catalog\":\"AwsDataCatalog\"}}", FL_VALIDATION,
	  ONE "Value '' at 'executionParameters.2.member' failed to satisfy constraint: "
	  "Member must have length greater than or equal to 1" },
	{ ATHENA, "ListQueryExecutions", "{\"MaxResults\":51}", FL_VALIDATION,
	  ONE "Value '51' at 'maxResults' failed to satisfy constraint: Member must have "
	  "value less than or equal to 50" },
	{ ATHENA, "ListQueryExecutions", "{\"MaxResults\":0}", FL_OK, NULL },
	{ ATHENA, "GetQueryResults", "{\"QueryExecutionId\":\"q\",\"MaxResults\":1001}",
	  FL_VALIDATION,
	  ONE "Value '1001' at 'maxResults' failed to satisfy constraint: Member must have "
	  "value less than or equal to 1000" },
	{ ATHENA, "BatchGetQueryExecution", "{\"QueryExecutionIds\":[]}", FL_VALIDATION,
	  ONE "Value '[]' at 'queryExecutionIds' failed to satisfy constraint: Member must "
	  "have length greater than or equal to 1" },
	{ ATHENA, "BatchGetNamedQuery", "{\"NamedQueryIds\":[\"a\",\"b c\"]}", FL_VALIDATION,
	  ONE "Value 'b c' at 'namedQueryIds.2.member' failed to satisfy constraint: Member "
	  "must satisfy regular expression pattern: \\S+" },
	{ ATHENA, "ListTableMetadata", "{\"CatalogName\":\"AwsDataCatalog\"}", FL_VALIDATION,
	  ONE "Value null at 'databaseName' " NOT_NULL },
	{ ATHENA, "ListDataCatalogs", "{\"MaxResults\":1}", FL_VALIDATION,
	  ONE "Value '1' at 'maxResults' failed to satisfy constraint: Member must have "
	  "value greater than or equal to 2" },
	{ ATHENA, "GetDataCatalog", "{\"Name\":\"a\\nb\"}", FL_VALIDATION,
	  ONE "Value 'a\nb' at 'name' failed to satisfy constraint: Member must satisfy "
	  "regular expression pattern: " GLUE_LINE },
	/* a map of lists */
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Configuration\":{"
	  "\"MonitoringConfiguration\":{\"CloudWatchLoggingConfiguration\":{\"Enabled\":true,"
	  "\"LogGroup\":\"/aws/athena\",\"LogStreamNamePrefix\":\"p\",\"LogTypes\":"
	  "{\"k\":[\"a\",\"b\"]}}}}}", FL_OK, NULL },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Configuration\":{"
	  "\"MonitoringConfiguration\":{\"CloudWatchLoggingConfiguration\":{\"Enabled\":true,"
	  "\"LogTypes\":{\"k\":\"a\"}}}}}", FL_MALFORMED,
	  "Unexpected value type for member 'Configuration.MonitoringConfiguration."
	  "CloudWatchLoggingConfiguration.LogTypes.k': expected list" },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Configuration\":{"
	  "\"MonitoringConfiguration\":{\"CloudWatchLoggingConfiguration\":{"
	  "\"LogGroup\":\"a b\",\"LogStreamNamePrefix\":\"p:*\"}}}}", FL_VALIDATION,
	  "3 validation errors detected: Value null at 'configuration.monitoringConfiguration"
	  ".cloudWatchLoggingConfiguration.enabled' " NOT_NULL "; Value 'a b' at "
	  "'configuration.monitoringConfiguration.cloudWatchLoggingConfiguration.logGroup' "
	  "failed to satisfy constraint: Member must satisfy regular expression pattern: "
	  "^[a-zA-Z0-9._/-]+$; Value 'p:*' at 'configuration.monitoringConfiguration."
	  "cloudWatchLoggingConfiguration.logStreamNamePrefix' failed to satisfy constraint: "
	  "Member must satisfy regular expression pattern: ^[^:*]*$" },
	{ ATHENA, "CreateWorkGroup", "{\"Name\":\"w\",\"Tags\":[{\"Key\":\"\",\"Value\":\"v\"}]}",
	  FL_VALIDATION,
	  ONE "Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must "
	  "have length greater than or equal to 1" },
};

static void run_cases(const struct check_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect(cases[i].svc, cases[i].op, cases[i].body, cases[i].want, cases[i].msg);
}

static void test_glue_cases(void **state)
{
	(void)state;
	run_cases(glue_cases, sizeof glue_cases / sizeof glue_cases[0]);
}

static void test_athena_cases(void **state)
{
	(void)state;
	run_cases(athena_cases, sizeof athena_cases / sizeof athena_cases[0]);
}

/* ---- long values, long lists, many violations ------------------------------- */

/* Glue GetTable with a 300-character name, as AWS answers it: the value in
 * full. */
static void test_long_name(void **state)
{
	char name[301], body[800], msg[600];

	(void)state;
	memset(name, 'a', 300);
	name[300] = '\0';
	snprintf(body, sizeof body, "{\"DatabaseName\":\"db\",\"Name\":\"%s\"}", name);
	snprintf(msg, sizeof msg, "1 validation error detected: Value '%s' at 'name' failed "
		 "to satisfy constraint: Member must have length less than or equal to 255",
		 name);
	expect(GLUE, "GetTable", body, FL_VALIDATION, msg);
	/* 255 characters of two bytes each are 255 characters */
	char wide[600] = "";
	for (int i = 0; i < 255; i++)
		strcat(wide, "\xc3\xa9");
	snprintf(body, sizeof body, "{\"DatabaseName\":\"db\",\"Name\":\"%s\"}", wide);
	expect(GLUE, "GetTable", body, FL_OK, NULL);
}

/* Values past 400 bytes are cut, on a character boundary. */
static void test_value_cut(void **state)
{
	size_t n = 3000;
	char *body = malloc(n + 100);
	char *msg = malloc(2000);
	char *desc = malloc(n + 1);

	(void)state;
	memset(desc, 'x', n);
	memcpy(desc + 396, "\xc3\xa9", 2);  /* é straddles the cut at 397 bytes */
	desc[n] = '\0';
	snprintf(body, n + 100, "{\"DatabaseInput\":{\"Name\":\"d\",\"Description\":\"%s\"}}",
		 desc);
	snprintf(msg, 2000, "1 validation error detected: Value '%.396s...' at "
		 "'databaseInput.description' failed to satisfy constraint: Member must have "
		 "length less than or equal to 2048", desc);
	expect(GLUE, "CreateDatabase", body, FL_VALIDATION, msg);
	free(body);
	free(msg);
	free(desc);
}

/* A list too long, shown as Java prints it. */
static void test_list_length(void **state)
{
	char body[1024] = "{\"DatabaseName\":\"d\",\"TablesToDelete\":[";
	char shown[512] = "[";
	char msg[1024];

	(void)state;
	for (int i = 0; i < 101; i++) {
		strcat(body, i ? ",\"t\"" : "\"t\"");
		strcat(shown, i ? ", t" : "t");
	}
	strcat(body, "]}");
	strcat(shown, "]");
	snprintf(msg, sizeof msg, "1 validation error detected: Value '%s' at "
		 "'tablesToDelete' failed to satisfy constraint: Member must have length less "
		 "than or equal to 100", shown);
	expect(GLUE, "BatchDeleteTable", body, FL_VALIDATION, msg);
}

/* Every violation is counted; the message lists as many whole ones as fit. */
static void test_many_violations(void **state)
{
	json_t *req = json_pack("{s:s, s:s, s:[]}", "DatabaseName", "d", "TableName", "t",
				"PartitionInputList");
	const char *first = "100 validation errors detected: Value '' at "
			    "'partitionInputList.1.member.values.1.member' failed";
	const char *last = "Member must have length greater than or equal to 1";
	struct fl_error err;
	size_t len;

	(void)state;
	for (int i = 0; i < 100; i++)
		json_array_append_new(json_object_get(req, "PartitionInputList"),
				      json_pack("{s:[s]}", "Values", ""));
	assert_int_equal(fl_awsshape_check(op_of(GLUE, "BatchCreatePartition"), req, &err),
			 FL_VALIDATION);
	assert_true(strncmp(err.msg, first, strlen(first)) == 0);
	len = strlen(err.msg);
	assert_true(len < FL_ERROR_MAX - 1);
	assert_string_equal(err.msg + len - strlen(last), last);
	assert_non_null(strstr(err.msg, "'partitionInputList.2.member.values.1.member'"));
	assert_null(strstr(err.msg, "'partitionInputList.100.member"));
	json_decref(req);
}

/* ---- the generated tables ---------------------------------------------------- */

static const char *const glue_ops[] = {
	"CreateDatabase", "GetDatabase", "GetDatabases", "UpdateDatabase", "DeleteDatabase",
	"CreateTable", "GetTable", "GetTables", "UpdateTable", "DeleteTable",
	"BatchDeleteTable", "CreatePartition", "GetPartition", "GetPartitions",
	"BatchCreatePartition", "BatchDeletePartition", "BatchGetPartition",
	"UpdatePartition", "DeletePartition", "CreateCrawler", "GetCrawler", "GetCrawlers",
	"ListCrawlers", "UpdateCrawler", "DeleteCrawler", "StartCrawler", "StopCrawler",
	"GetCrawlerMetrics",
};

static const char *const athena_ops[] = {
	"StartQueryExecution", "GetQueryExecution", "GetQueryResults", "StopQueryExecution",
	"ListQueryExecutions", "BatchGetQueryExecution", "GetQueryRuntimeStatistics",
	"CreateWorkGroup", "GetWorkGroup", "ListWorkGroups", "UpdateWorkGroup",
	"DeleteWorkGroup", "CreateNamedQuery", "GetNamedQuery", "ListNamedQueries",
	"BatchGetNamedQuery", "UpdateNamedQuery", "DeleteNamedQuery", "ListDataCatalogs",
	"GetDataCatalog", "ListDatabases", "GetDatabase", "ListTableMetadata",
	"GetTableMetadata",
};

static void check_table(const struct fl_awsshape_op *ops, size_t n,
			const char *const *names, size_t nnames)
{
	assert_int_equal(n, nnames);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(ops[i].input);
		assert_int_equal(ops[i].input->kind, FL_AWSSHAPE_STRUCTURE);
		if (i > 0)
			assert_true(strcmp(ops[i - 1].name, ops[i].name) < 0);
		assert_ptr_equal(fl_awsshape_find(ops, n, ops[i].name), &ops[i]);
	}
	for (size_t i = 0; i < nnames; i++) {
		const struct fl_awsshape_op *op = fl_awsshape_find(ops, n, names[i]);
		assert_non_null(op);
		assert_string_equal(op->name, names[i]);
		/* every operation accepts an empty request or names what it needs */
		json_t *empty = json_object();
		struct fl_error err;
		enum fl_result r = fl_awsshape_check(op, empty, &err);
		assert_true(r == FL_OK || (r == FL_VALIDATION && strstr(err.msg, "null")));
		json_decref(empty);
	}
	assert_null(fl_awsshape_find(ops, n, "Nope"));
	assert_null(fl_awsshape_find(ops, n, ""));
	assert_null(fl_awsshape_find(ops, n, "gettable"));
	assert_null(fl_awsshape_find(ops, n, NULL));
}

static void test_tables(void **state)
{
	(void)state;
	check_table(fl_glue_ops, fl_glue_op_count, glue_ops,
		    sizeof glue_ops / sizeof glue_ops[0]);
	check_table(fl_athena_ops, fl_athena_op_count, athena_ops,
		    sizeof athena_ops / sizeof athena_ops[0]);
	/* the shapes behind a well-known operation */
	const struct fl_awsshape *in = op_of(GLUE, "GetTable")->input;
	assert_string_equal(in->name, "GetTableRequest");
	for (size_t i = 0; i < in->nmembers; i++) {
		if (strcmp(in->members[i].name, "Name") != 0)
			continue;
		assert_true(in->members[i].required);
		assert_string_equal(in->members[i].shape->name, "NameString");
		assert_int_equal(in->members[i].shape->max, 255);
		assert_int_equal(in->members[i].shape->pattern, FL_AWSSHAPE_PAT_GLUE_LINE);
	}
}

/* ---- fl_awsshape_parse ------------------------------------------------------- */

static void test_parse(void **state)
{
	const struct fl_awsshape_op *gd = op_of(GLUE, "GetDatabases");
	const struct fl_awsshape_op *gt = op_of(GLUE, "GetTable");
	json_t *out = (json_t *)1;
	struct fl_error err;

	(void)state;
	/* empty body: {} */
	assert_int_equal(fl_awsshape_parse(gd, "", 0, &out, &err), FL_OK);
	assert_true(json_is_object(out) && json_object_size(out) == 0);
	json_decref(out);
	assert_int_equal(fl_awsshape_parse(gd, NULL, 0, &out, &err), FL_OK);
	json_decref(out);
	assert_int_equal(fl_awsshape_parse(gt, "", 0, &out, &err), FL_VALIDATION);
	assert_null(out);
	assert_string_equal(err.msg, "2 validation errors detected: Value null at "
			    "'databaseName' " NOT_NULL "; Value null at 'name' " NOT_NULL);
	/* invalid JSON, non-objects */
	assert_int_equal(fl_awsshape_parse(gd, "{\"MaxResults\":", 14, &out, &err),
			 FL_MALFORMED);
	assert_null(out);
	assert_true(strncmp(err.msg, "Request body is not valid JSON: ", 32) == 0);
	assert_int_equal(fl_awsshape_parse(gd, "[1]", 3, &out, &err), FL_MALFORMED);
	assert_string_equal(err.msg, "Request body must be a JSON object");
	assert_int_equal(fl_awsshape_parse(gd, "\"x\"", 3, &out, &err), FL_MALFORMED);
	assert_int_equal(fl_awsshape_parse(gd, "{\"a\":1,\"a\":2}", 13, &out, &err),
			 FL_MALFORMED);
	/* only len bytes are read */
	assert_int_equal(fl_awsshape_parse(gd, "{\"MaxResults\":5}garbage", 16, &out, &err),
			 FL_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "MaxResults")), 5);
	json_decref(out);
	/* then checked */
	assert_int_equal(fl_awsshape_parse(gd, "{\"MaxResults\":true}", 19, &out, &err),
			 FL_MALFORMED);
	assert_string_equal(err.msg, "Unexpected value type for member 'MaxResults': "
			    "expected integer");
	assert_int_equal(fl_awsshape_check(gd, json_null(), &err), FL_MALFORMED);
	assert_int_equal(fl_awsshape_check(NULL, json_null(), &err), FL_INTERNAL);
}

/* ---- patterns, on shapes made here ------------------------------------------- */

static const struct pattern_case {
	enum fl_awsshape_pattern pat;
	const char *s;
	int match;
} pattern_cases[] = {
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "a b\tc~\x7f\xc2\x80", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd\xf4\x8f\xbf\xbf", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "a\rb", 0 },
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "\x1f", 0 },
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "\xef\xbf\xbf", 0 },            /* U+FFFF */
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "\xed\xa0\x80", 0 },            /* a lone surrogate */
	{ FL_AWSSHAPE_PAT_GLUE_LINE, "\xc0\xaf", 0 },                /* overlong */
	{ FL_AWSSHAPE_PAT_GLUE_TEXT, "a\r\nb\tc", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_TEXT, "a\x0b", 0 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws:glue:us-east-1:123456789012:table/d/t", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws-us-gov:glue:x", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws-iso-b:glue:", 1 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws-iso-c:glue:x", 0 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws:s3:::b", 0 },
	{ FL_AWSSHAPE_PAT_GLUE_ARN, "arn:aws:glue:a\nb", 0 },
	{ FL_AWSSHAPE_PAT_UUID, "0c3f5a4e-1d2b-4c5d-9e8f-0123456789ab", 1 },
	{ FL_AWSSHAPE_PAT_UUID, "0C3F5A4E-1D2B-4C5D-9E8F-0123456789AB", 0 },
	{ FL_AWSSHAPE_PAT_UUID, "0c3f5a4e1d2b4c5d9e8f0123456789ab", 0 },
	{ FL_AWSSHAPE_PAT_REGISTRY_NAME, "a-b_c$d#e.f9", 1 },
	{ FL_AWSSHAPE_PAT_REGISTRY_NAME, "", 0 },
	{ FL_AWSSHAPE_PAT_REGISTRY_NAME, "a b", 0 },
	{ FL_AWSSHAPE_PAT_LETTERS_PUNCT, "tx-1_(a)\xc3\xa9", 1 },
	{ FL_AWSSHAPE_PAT_LETTERS_PUNCT, "a b", 0 },
	{ FL_AWSSHAPE_PAT_LETTERS_PUNCT, "a+b", 0 },                 /* + is a symbol */
	{ FL_AWSSHAPE_PAT_LETTERS_PUNCT, "a\xe3\x80\x80", 0 },       /* U+3000 */
	{ FL_AWSSHAPE_PAT_WORKGROUP, "primary", 1 },
	{ FL_AWSSHAPE_PAT_WORKGROUP, "", 0 },
	{ FL_AWSSHAPE_PAT_WORKGROUP, "a/b", 0 },
	{ FL_AWSSHAPE_PAT_LOG_GROUP, "/aws/athena", 1 },
	{ FL_AWSSHAPE_PAT_LOG_GROUP, "a:b", 0 },
	{ FL_AWSSHAPE_PAT_DIGITS, "0123", 1 },
	{ FL_AWSSHAPE_PAT_DIGITS, "", 0 },
	{ FL_AWSSHAPE_PAT_LOG_STREAM, "", 1 },
	{ FL_AWSSHAPE_PAT_LOG_STREAM, "a\nb", 1 },
	{ FL_AWSSHAPE_PAT_LOG_STREAM, "a*", 0 },
	{ FL_AWSSHAPE_PAT_NOT_SPACE, "abc", 1 },
	{ FL_AWSSHAPE_PAT_NOT_SPACE, "", 0 },
	{ FL_AWSSHAPE_PAT_NOT_SPACE, "a\fb", 0 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws:iam::123456789012:role/r", 1 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws-cn:iam::123456789012:roler", 1 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws:iam::123456789012:role/", 1 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws:iam::123456789012:role", 0 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws:iam:us-east-1:123456789012:role/r", 0 },
	{ FL_AWSSHAPE_PAT_IAM_ROLE_ARN, "arn:aws:iam::123456789012:role/a b", 0 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://ab", 1 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://my-bucket/logs/", 1 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://a", 0 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://-ab/", 0 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://My/", 0 },
	{ FL_AWSSHAPE_PAT_S3_URI, "s3://ab/x\ny", 0 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "arn:aws:kms:us-east-1:123456789012:key/k1", 1 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "arn:aws:kms:us-east-1:123456789012:alias/a", 1 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "arn:aws:kms::123456789012:key/k1", 0 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "alias/a_b-c/d", 1 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "alias/", 0 },
	{ FL_AWSSHAPE_PAT_KMS_KEY, "1234abcd-12ab-34cd-56ef-1234567890ab", 1 },
	{ FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN, "arn:aws:sso:::instance/ssoins-1234567890abcdef", 1 },
	{ FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN, "arn:aws-iso-b:sso:::instance/ins-a.b-c.d-e.f-g.h-", 1 },
	{ FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN, "arn:aws:sso:::instance/ssoins-123", 0 },
	{ FL_AWSSHAPE_PAT_SSO_INSTANCE_ARN, "arn:aws-x:sso:::instance/ins-1234567890abcdef", 0 },
	{ FL_AWSSHAPE_PAT_UNCHECKED, "anything \n at all", 1 },
};

static void test_patterns(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof pattern_cases / sizeof pattern_cases[0]; i++) {
		const struct pattern_case *c = &pattern_cases[i];
		struct fl_awsshape str = { .name = "S", .kind = FL_AWSSHAPE_STRING,
					   .pattern = c->pat, .pattern_text = "P" };
		struct fl_awsshape_member m[] = { { "V", &str, false } };
		struct fl_awsshape root = { .name = "R", .kind = FL_AWSSHAPE_STRUCTURE,
					    FL_AWSSHAPE_MEMBERS(m) };
		struct fl_awsshape_op op = { "Op", &root };
		json_t *req = json_object();
		struct fl_error err;
		enum fl_result r;

		/* unchecked: the walk must cope with what jansson would refuse */
		json_object_set_new(req, "V", json_stringn_nocheck(c->s, strlen(c->s)));
		r = fl_awsshape_check(&op, req, &err);
		if (r != (c->match ? FL_OK : FL_VALIDATION))
			fail_msg("pattern %d on \"%s\": got %d", c->pat, c->s, r);
		if (!c->match)
			assert_non_null(strstr(err.msg, "regular expression pattern: P"));
		json_decref(req);
	}
}

/* ---- shapes the models do not hold yet: blobs, doubles, depth ---------------- */

static void test_synthetic(void **state)
{
	struct fl_awsshape blob = { .name = "B", .kind = FL_AWSSHAPE_BLOB,
				    FL_AWSSHAPE_MAX(3) };
	struct fl_awsshape dbl = { .name = "D", .kind = FL_AWSSHAPE_DOUBLE,
				   FL_AWSSHAPE_MIN(0), FL_AWSSHAPE_MAX(1) };
	struct fl_awsshape nest = { .name = "N", .kind = FL_AWSSHAPE_LIST };
	struct fl_awsshape_member m[] = {
		{ "Blob", &blob, false }, { "Ratio", &dbl, false }, { "Nest", &nest, false } };
	struct fl_awsshape root = { .name = "R", .kind = FL_AWSSHAPE_STRUCTURE,
				    FL_AWSSHAPE_MEMBERS(m) };
	struct fl_awsshape_op op = { "Op", &root };
	json_t *req, *deep;
	struct fl_error err;

	(void)state;
	nest.elem = &nest;      /* a list of itself: only depth stops it */
	req = json_loads("{\"Blob\":\"YWJj\",\"Ratio\":0.5,\"Nest\":[[[]]]}", 0, NULL);
	assert_int_equal(fl_awsshape_check(&op, req, &err), FL_OK);
	json_decref(req);
	req = json_loads("{\"Blob\":\"YWJjZA==\",\"Ratio\":1.5}", 0, NULL);
	assert_int_equal(fl_awsshape_check(&op, req, &err), FL_VALIDATION);
	assert_string_equal(err.msg, "2 validation errors detected: Value 'YWJjZA==' at "
			    "'blob' failed to satisfy constraint: Member must have length less "
			    "than or equal to 3; Value '1.5' at 'ratio' failed to satisfy "
			    "constraint: Member must have value less than or equal to 1");
	json_decref(req);
	req = json_loads("{\"Blob\":\"YWJj!\"}", 0, NULL);
	assert_int_equal(fl_awsshape_check(&op, req, &err), FL_MALFORMED);
	assert_string_equal(err.msg, "Unexpected value type for member 'Blob': expected "
			    "blob (base64)");
	json_decref(req);
	req = json_loads("{\"Ratio\":1}", 0, NULL);
	assert_int_equal(fl_awsshape_check(&op, req, &err), FL_OK);
	json_decref(req);
	/* 100 nested lists: past the walk's depth bound */
	deep = json_array();
	for (int i = 0; i < 100; i++) {
		json_t *outer = json_array();
		json_array_append_new(outer, deep);
		deep = outer;
	}
	req = json_pack("{s:o}", "Nest", deep);
	assert_int_equal(fl_awsshape_check(&op, req, &err), FL_MALFORMED);
	assert_string_equal(err.msg, "Request nesting is deeper than 64 levels");
	json_decref(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glue_cases),
		cmocka_unit_test(test_athena_cases),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_value_cut),
		cmocka_unit_test(test_list_length),
		cmocka_unit_test(test_many_violations),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_synthetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
