#!/usr/bin/env python3
"""Verifies the AWS Signature V4 of one recorded HTTP request with botocore.

Usage: verify_sigv4.py REQUEST_FILE ACCESS_KEY SECRET_KEY
REQUEST_FILE holds the request as received: request line, headers, a blank line,
the body. Prints "signature ok" and exits 0 when botocore computes the same
signature over exactly the headers named in SignedHeaders (as S3
does) and the x-amz-content-sha256 header is the SHA-256 of the body;
otherwise prints what differs and exits 1.
"""
import hashlib
import sys

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    path, access_key, secret_key = sys.argv[1:4]
    raw = open(path, "rb").read()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ")
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    auth = headers["authorization"]
    credential = auth.split("Credential=")[1].split(",")[0]
    key_id, date, region, service, _ = credential.split("/")
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    signature = auth.split("Signature=")[1].strip()
    if key_id != access_key or service != "s3":
        print("unexpected credential scope", credential)
        return 1
    payload_hash = headers.get("x-amz-content-sha256")
    if payload_hash != hashlib.sha256(body).hexdigest():
        print("x-amz-content-sha256 is not the body's hash:", payload_hash)
        return 1
    for required in ("host", "x-amz-date", "x-amz-content-sha256"):
        if required not in signed:
            print("header not signed:", required)
            return 1
    request = AWSRequest(method=method, url="http://" + headers["host"] + target, data=body,
                         headers={k: v for k, v in headers.items() if k in signed})
    request.context["timestamp"] = headers["x-amz-date"]

    class Signer(S3SigV4Auth):
        # Sign exactly the headers the request lists, as the S3 server does (botocore
        # itself would leave out "expect" when it signs its own requests).
        def headers_to_sign(self, request):
            from botocore.awsrequest import HTTPHeaders
            out = HTTPHeaders()
            for name in signed:
                out[name] = request.headers[name]
            return out

        def payload(self, request):
            return payload_hash

    signer = Signer(Credentials(access_key, secret_key, headers.get("x-amz-security-token")),
                    "s3", region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != signature:
        print("signature mismatch: botocore", expected, "request", signature)
        print("canonical request:\n" + canonical)
        return 1
    print("signature ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
