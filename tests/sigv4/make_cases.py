#!/usr/bin/env python3
"""make_cases.py - writes AWS's SigV4 test-suite cases as data for test_sigv4.c.

Each case becomes tests/sigv4/<case>.req (the raw request, as in AWS's
aws-sig-v4-test-suite: request line, headers, blank line, body), .creq
(canonical request), .sts (string to sign) and .authz (the Authorization
header value).  The suite's pinned context: 20150830T123600Z, us-east-1,
service "service", AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY.

Where the expected values come from
-----------------------------------
* The .req texts and the PUBLISHED signatures below are AWS's published
  suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html,
  the 2015-08-30 aws-sig-v4-test-suite.zip).  That zip is not on this
  machine; the values were read from public copies of it:
    - aws-sdk-js-v3, packages/signature-v4/src/suite.fixture.ts (the
      "authorization" of every case it carries);
    - public transcriptions of the suite's .req/.creq/.authz files in
      third-party test code (a C++ test-data header holding the raw
      .req/.creq/.sts/.authz strings, and a Go test table of
      .req/.creq/.authz), which agree with the fixture on every case
      they share.
  fluent-bit's copies of the two post-x-www-form-urlencoded cases were
  looked at and NOT used: fluent-bit edited them to fit its own signer.
* Every published value is then recomputed here with an independent
  implementation, botocore's SigV4Auth at a frozen clock.  The script
  fails when botocore and the published value disagree, unless the case
  lists the disagreement in KNOWN_DIFFERENCES (none at present); the
  published value is what the test uses.
* .creq and .sts are botocore's (their hash chain ends in the published
  signature, so they are the suite's too).

Feeding botocore the suite's requests: the suite's paths are unencoded
("/example space/", "/\u1234") and botocore signs the path it is given
encoded once more, so the raw path goes into the URL as it is.  The
query is put on the URL the way an SDK sends it (each name and value
percent-encoded, RFC 3986 unreserved left bare) because botocore sorts
the URL's query without re-encoding it.

Also written: s3-*.req/.authz, S3 cases signed with botocore's
S3SigV4Auth (path not normalised, encoded once), and presign-get.req/
.creq, a query-string (presigned) request from botocore's SigV4QueryAuth.

Run: python3 tests/sigv4/make_cases.py   (rewrites the files; idempotent)
"""
import datetime
import hashlib
import os
import sys
from unittest import mock
from urllib.parse import quote, unquote

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
WHEN = datetime.datetime(2015, 8, 30, 12, 36, 0)
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
SERVICE = "service"
AUTHZ = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
         "aws4_request, SignedHeaders=%s, Signature=%s")
H = "Host:example.amazonaws.com\n"
D = "X-Amz-Date:20150830T123600Z"
STS_TOKEN = ("AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWs"
             "KWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGde"
             "ehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8T"
             "x6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8F"
             "DrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==")
UNRES = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# name: (raw request, signed headers, published signature)
CASES = {
    "get-vanilla": ("GET / HTTP/1.1\n" + H + D, "host;x-amz-date",
                    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "get-vanilla-query": ("GET / HTTP/1.1\n" + H + D, "host;x-amz-date",
                          "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "get-vanilla-empty-query-key": (
        "GET /?Param1=value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
        "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
    "get-vanilla-query-order-key": (
        "GET /?Param1=value2&Param1=Value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
        "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"),
    "get-vanilla-query-order-key-case": (
        "GET /?Param2=value2&Param1=value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    "get-vanilla-query-order-value": (
        "GET /?Param1=value2&Param1=value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
        "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"),
    "get-vanilla-query-unreserved": (
        "GET /?%s=%s HTTP/1.1\n" % (UNRES, UNRES) + H + D, "host;x-amz-date",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
    "get-vanilla-utf8-query": (
        "GET /?\u1234=bar HTTP/1.1\n" + H + D, "host;x-amz-date",
        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    "get-unreserved": ("GET /%s HTTP/1.1\n" % UNRES + H + D, "host;x-amz-date",
                       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
    "get-utf8": ("GET /\u1234 HTTP/1.1\n" + H + D, "host;x-amz-date",
                 "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
    # normalize-path/
    "get-space": ("GET /example space/ HTTP/1.1\n" + H + D, "host;x-amz-date",
                  "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
    "get-slash": ("GET // HTTP/1.1\n" + H + D, "host;x-amz-date",
                  "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "get-slash-dot-slash": ("GET /./ HTTP/1.1\n" + H + D, "host;x-amz-date",
                            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "get-slash-pointless-dot": (
        "GET /./example HTTP/1.1\n" + H + D, "host;x-amz-date",
        "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
    "get-slashes": ("GET //example// HTTP/1.1\n" + H + D, "host;x-amz-date",
                    "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    "get-relative": ("GET /example/.. HTTP/1.1\n" + H + D, "host;x-amz-date",
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "get-relative-relative": (
        "GET /example1/example2/../.. HTTP/1.1\n" + H + D, "host;x-amz-date",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    # headers
    "get-header-key-duplicate": (
        "GET / HTTP/1.1\n" + H + "My-Header1:value2\nMy-Header1:value2\n"
        "My-Header1:value1\n" + D, "host;my-header1;x-amz-date",
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
    # The suite has shipped two versions of this case: the 2015 zip's
    # .creq folds the continuation lines into "value1,value2,value3"
    # (ba17b383...), the later copy (botocore's tests) into
    # "value1 value2 value3" (cfd34249...).  RFC 7230 obs-fold is a space,
    # which is what botocore and we do; the later published value is used.
    "get-header-value-multiline": (
        "GET / HTTP/1.1\n" + H + "My-Header1:value1\n  value2\n     value3\n" + D,
        "host;my-header1;x-amz-date",
        "cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd"),
    "get-header-value-order": (
        "GET / HTTP/1.1\n" + H + "My-Header1:value4\nMy-Header1:value1\n"
        "My-Header1:value3\nMy-Header1:value2\n" + D, "host;my-header1;x-amz-date",
        "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
    "get-header-value-trim": (
        "GET / HTTP/1.1\n" + H + "My-Header1: value1\nMy-Header2: \"a   b   c\"\n" + D,
        "host;my-header1;my-header2;x-amz-date",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
    "post-vanilla": ("POST / HTTP/1.1\n" + H + D, "host;x-amz-date",
                     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    "post-vanilla-query": ("POST /?Param1=value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
                           "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    "post-vanilla-empty-query-value": (
        "POST /?Param1=value1 HTTP/1.1\n" + H + D, "host;x-amz-date",
        "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
    "post-header-key-case": ("POST / HTTP/1.1\n" + H + D, "host;x-amz-date",
                             "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    "post-header-key-sort": (
        "POST / HTTP/1.1\n" + H + "My-Header1:value1\n" + D, "host;my-header1;x-amz-date",
        "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
    "post-header-value-case": (
        "POST / HTTP/1.1\n" + H + "My-Header1:VALUE1\n" + D, "host;my-header1;x-amz-date",
        "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
    "post-sts-header-before": (
        "POST / HTTP/1.1\n" + H + D + "\nX-Amz-Security-Token:" + STS_TOKEN,
        "host;x-amz-date;x-amz-security-token",
        "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
    "post-x-www-form-urlencoded": (
        "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n" + H + D +
        "\n\nParam1=value1", "content-type;host;x-amz-date",
        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
    "post-x-www-form-urlencoded-parameters": (
        "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n" +
        H + D + "\n\nParam1=value1", "content-type;host;x-amz-date",
        "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
}

# Cases where botocore's value differs from the published one (the
# published one wins): none; kept so a future difference is recorded.
KNOWN_DIFFERENCES = {}

# S3 (botocore S3SigV4Auth): keys with spaces, '+', unicode, '//'.  The
# request path is what botocore's S3 serializer puts on the wire.
S3_KEYS = {
    "s3-space-plus": "/bucket/my file+1.txt",
    "s3-unicode": "/bucket/d\u00e9j\u00e0/\u1234 x.csv",
    "s3-double-slash": "/bucket/a//b/./c/../d",
    "s3-reserved": "/bucket/k=v&x;y,z!(1)*'@$:.json",
}


def parse_req(raw):
    head, _, body = raw.partition("\n\n")
    lines = head.split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    path, _, query = target.partition("?")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, value + "\n" + line)
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    return method, path, query, headers, body


def wire_query(query):
    out = []
    for pair in query.split("&") if query else []:
        k, _, v = pair.partition("=")
        out.append(quote(unquote(k), safe="-_.~") + "=" + quote(unquote(v), safe="-_.~"))
    return "&".join(out)


def frozen():
    return mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: WHEN)


def botocore_sign(auth_cls, method, path, query, headers, body):
    url = "https://example.amazonaws.com" + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body.encode() if body else b"")
    for name, value in headers:
        if name.lower() != "x-amz-date":     # botocore sets it from the clock
            req.headers[name] = value
    auth = auth_cls(Credentials(KEY_ID, SECRET), SERVICE if auth_cls is SigV4Auth else "s3",
                    REGION)
    with frozen():
        auth.add_auth(req)
        authz = req.headers["Authorization"]
        del req.headers["Authorization"]     # not part of what was signed
        creq = auth.canonical_request(req)
        sts = auth.string_to_sign(req, creq)
    return authz, creq, sts, req


def write(name, ext, text):
    with open(os.path.join(HERE, name + "." + ext), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    bad = 0
    for name, (raw, signed, published) in CASES.items():
        method, path, query, headers, body = parse_req(raw)
        authz, creq, sts, _ = botocore_sign(SigV4Auth, method, path, wire_query(query),
                                            headers, body)
        want = AUTHZ % (signed, published)
        if authz != want and name not in KNOWN_DIFFERENCES:
            print("DISAGREE %s\n  botocore:  %s\n  published: %s" % (name, authz, want))
            bad += 1
        write(name, "req", raw)
        write(name, "authz", want)
        write(name, "creq", creq)
        write(name, "sts", sts)
    for name, path in S3_KEYS.items():
        wire = quote(path, safe="/~")
        hdrs = [("Host", "example.amazonaws.com"),
                ("X-Amz-Content-SHA256", hashlib.sha256(b"").hexdigest())]
        authz, creq, sts, req = botocore_sign(S3SigV4Auth, "GET", wire, "", hdrs, "")
        raw = "GET %s HTTP/1.1\n" % wire + "".join(
            "%s:%s\n" % (k, v) for k, v in req.headers.items())
        write(name, "req", raw.rstrip("\n"))
        write(name, "authz", authz)
        write(name, "creq", creq)
        write(name, "sts", sts)
    # A presigned GET (query-string form), 300 s.
    req = AWSRequest(method="GET",
                     url="https://example.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
    qauth = SigV4QueryAuth(Credentials(KEY_ID, SECRET), SERVICE, REGION, expires=300)
    seen = []
    real = qauth.canonical_request
    qauth.canonical_request = lambda r: seen.append(real(r)) or seen[-1]
    with frozen():
        qauth.add_auth(req)
    query = req.url.split("?", 1)[1]
    write("presign-get", "req", "GET /?%s HTTP/1.1\nHost:example.amazonaws.com" % query)
    write("presign-get", "creq", seen[0])
    if bad:
        sys.exit("%d case(s) disagree" % bad)
    print("wrote %d suite cases, %d S3 cases, 1 presigned URL" % (len(CASES), len(S3_KEYS)))


if __name__ == "__main__":
    main()
