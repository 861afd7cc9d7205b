"""The S3 endpoint (``/s3``) as boto3 and the ``aws`` CLI use it, with EC2 credentials from the
identity service: buckets, objects, listings, ranges and conditions, copies, multipart
uploads, presigned URLs (Signature Versions 4 and 2), refused signatures, what one project
sees of another's, and the same data through the Swift API."""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import os
import subprocess
import time
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import pytest
import requests
import swiftclient.client
from botocore.exceptions import ClientError

from tests.functional.accounts import member_of_new_project

MiB = 1024 * 1024


def ec2_credentials(conn) -> tuple[str, str]:
    user_id = conn.session.get_user_id()
    response = conn.session.post(f"/users/{user_id}/credentials/OS-EC2", json={"tenant_id": conn.current_project_id},
                                 endpoint_filter={"service_type": "identity", "interface": "public", "version": "3"})
    credential = response.json()["credential"]
    return credential["access"], credential["secret"]


def client(cloud, access, secret, **config):
    return boto3.client("s3", endpoint_url=f"{cloud.base_url}/s3", aws_access_key_id=access,
                        aws_secret_access_key=secret, region_name="us-east-1",
                        config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                                                      **config))


@pytest.fixture(scope="module")
def keys(conn):
    return ec2_credentials(conn)


@pytest.fixture(scope="module")
def s3(cloud, keys):
    return client(cloud, *keys)


@pytest.fixture
def bucket(s3):
    name = f"b-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=obj["Key"])
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    s3.delete_bucket(Bucket=name)


def code_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]["Code"]


def test_buckets_are_made_listed_and_removed(s3):
    name = f"life-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=name)
    assert code_of(s3.create_bucket, Bucket=name) == "BucketAlreadyOwnedByYou"
    assert code_of(s3.create_bucket, Bucket="Not_Valid") == "InvalidBucketName"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    assert code_of(s3.delete_bucket, Bucket=name) == "BucketNotEmpty"
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    assert code_of(s3.head_bucket, Bucket=name) == "404"
    assert code_of(s3.list_objects_v2, Bucket=name) == "NoSuchBucket"


def test_objects_round_trip_with_metadata_ranges_and_conditions(s3, bucket):
    data = os.urandom(100_000)
    put = s3.put_object(Bucket=bucket, Key="dir/photo.jpg", Body=data, Metadata={"camera": "leica"},
                        ContentType="image/jpeg", ContentDisposition="inline")
    assert put["ETag"] == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="dir/photo.jpg")
    assert got["Body"].read() == data and got["Metadata"] == {"camera": "leica"}
    assert got["ContentType"] == "image/jpeg" and got["ContentDisposition"] == "inline"
    assert s3.get_object(Bucket=bucket, Key="dir/photo.jpg", Range="bytes=10-19")["Body"].read() == data[10:20]
    assert s3.get_object(Bucket=bucket, Key="dir/photo.jpg", Range="bytes=-5")["Body"].read() == data[-5:]
    assert code_of(s3.get_object, Bucket=bucket, Key="dir/photo.jpg", Range="bytes=200000-") == "InvalidRange"
    assert code_of(s3.get_object, Bucket=bucket, Key="dir/photo.jpg", IfNoneMatch=put["ETag"]) == "304"
    assert code_of(s3.get_object, Bucket=bucket, Key="dir/photo.jpg", IfMatch='"nope"') == "PreconditionFailed"
    head = s3.head_object(Bucket=bucket, Key="dir/photo.jpg")
    assert head["ContentLength"] == len(data) and head["ETag"] == put["ETag"]
    assert code_of(s3.get_object, Bucket=bucket, Key="missing") == "NoSuchKey"
    s3.delete_object(Bucket=bucket, Key="missing")  # S3: deleting what is not there succeeds
    s3.delete_object(Bucket=bucket, Key="dir/photo.jpg")
    assert code_of(s3.head_object, Bucket=bucket, Key="dir/photo.jpg") == "404"


def test_a_bad_content_md5_keeps_nothing(s3, bucket):
    assert code_of(s3.put_object, Bucket=bucket, Key="k", Body=b"data", ContentMD5="AAAAAAAAAAAAAAAAAAAAAA==") \
        == "BadDigest"
    assert code_of(s3.head_object, Bucket=bucket, Key="k") == "404"


def test_copies_keep_or_replace_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", Metadata={"a": "1"})
    s3.copy_object(Bucket=bucket, Key="kept", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.head_object(Bucket=bucket, Key="kept")["Metadata"] == {"a": "1"}
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="text/plain")
    head = s3.head_object(Bucket=bucket, Key="replaced")
    assert head["Metadata"] == {"b": "2"} and head["ContentType"] == "text/plain"
    assert s3.get_object(Bucket=bucket, Key="replaced")["Body"].read() == b"copy me"
    assert code_of(s3.copy_object, Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}) \
        == "InvalidRequest"
    assert code_of(s3.copy_object, Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "none"}) \
        == "NoSuchKey"


def test_listings_v1_and_v2_page_with_prefixes(s3, bucket):
    keys = [*sorted(f"logs/{day:02d}/{part:02d}" for day in range(30) for part in range(40)), "top"]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b""), keys))
    seen = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={
        "PageSize": 500}) for o in page.get("Contents", [])]
    assert seen == keys
    v1 = [o["Key"] for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={
        "PageSize": 300}) for o in page.get("Contents", [])]
    assert v1 == keys
    days = s3.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/", MaxKeys=10)
    assert [p["Prefix"] for p in days["CommonPrefixes"]] == [f"logs/{d:02d}/" for d in range(10)]
    assert days["IsTruncated"] and days["KeyCount"] == 10
    rest = s3.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/",
                              ContinuationToken=days["NextContinuationToken"])
    assert len(rest["CommonPrefixes"]) == 20 and not rest["IsTruncated"]
    top = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["logs/"] and [o["Key"] for o in top["Contents"]] == ["top"]
    removed = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:1000]]})
    assert len(removed["Deleted"]) == 1000
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == len(keys) - 1000


def test_multipart_uploads_complete_list_and_abort(s3, bucket, conn):
    data = os.urandom(12 * MiB + 3)
    transfer = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big.bin", Config=transfer, ExtraArgs={"Metadata": {"k": "v"}})
    got = s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["Body"].read() == data and got["ETag"].endswith('-3"') and got["Metadata"] == {"k": "v"}
    assert s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes={5 * MiB - 2}-{5 * MiB + 2}")["Body"].read() \
        == data[5 * MiB - 2:5 * MiB + 3]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["big.bin"]
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["Size"] == len(data)

    upload = s3.create_multipart_upload(Bucket=bucket, Key="pending")
    part = s3.upload_part(Bucket=bucket, Key="pending", UploadId=upload["UploadId"], PartNumber=1, Body=b"small")
    listed = s3.list_parts(Bucket=bucket, Key="pending", UploadId=upload["UploadId"])["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [(1, 5, part["ETag"])]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == ["pending"]
    s3.upload_part(Bucket=bucket, Key="pending", UploadId=upload["UploadId"], PartNumber=2, Body=b"tail")
    parts = [{"PartNumber": 1, "ETag": part["ETag"]}, {"PartNumber": 2, "ETag": '"0"'}]
    assert code_of(s3.complete_multipart_upload, Bucket=bucket, Key="pending", UploadId=upload["UploadId"],
                   MultipartUpload={"Parts": parts}) == "InvalidPart"
    two = s3.list_parts(Bucket=bucket, Key="pending", UploadId=upload["UploadId"])["Parts"][1]
    parts[1]["ETag"] = two["ETag"]
    assert code_of(s3.complete_multipart_upload, Bucket=bucket, Key="pending", UploadId=upload["UploadId"],
                   MultipartUpload={"Parts": parts}) == "EntityTooSmall"
    assert code_of(s3.complete_multipart_upload, Bucket=bucket, Key="pending", UploadId=upload["UploadId"],
                   MultipartUpload={"Parts": parts[::-1]}) == "InvalidPartOrder"
    s3.abort_multipart_upload(Bucket=bucket, Key="pending", UploadId=upload["UploadId"])
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert code_of(s3.list_parts, Bucket=bucket, Key="pending", UploadId=upload["UploadId"]) == "NoSuchUpload"
    swift = swiftclient.client.Connection(session=conn.session)
    assert len(swift.get_container(f"{bucket}+segments")[1]) == 3  # the parts, kept as Swift's s3api keeps them
    s3.delete_object(Bucket=bucket, Key="big.bin")  # its parts go with it
    assert swift.get_container(f"{bucket}+segments")[1] == []
    swift.close()


@pytest.mark.parametrize("version", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_presigned_urls_work_until_they_expire(cloud, keys, bucket, version):
    signer = client(cloud, *keys, signature_version=version)
    signer.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared via a URL")
    url = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=60)
    assert requests.get(url, timeout=30).content == b"shared via a URL"
    tampered = url.replace("shared.txt", "other.txt")
    assert requests.get(tampered, timeout=30).status_code == 403
    upload = signer.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "dropped.txt"},
                                           ExpiresIn=60)
    assert requests.put(upload, data=b"dropped off", timeout=30).status_code == 200
    assert signer.get_object(Bucket=bucket, Key="dropped.txt")["Body"].read() == b"dropped off"
    short = signer.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared.txt"}, ExpiresIn=1)
    time.sleep(2.1)
    expired = requests.get(short, timeout=30)
    assert expired.status_code == 403 and b"expired" in expired.content


def test_refused_signatures_and_anonymous_requests(cloud, keys, bucket):
    access, secret = keys
    assert code_of(client(cloud, access, "wrong-secret").list_buckets) == "SignatureDoesNotMatch"
    assert code_of(client(cloud, "no-such-key", secret).list_buckets) == "InvalidAccessKeyId"
    anonymous = requests.get(f"{cloud.base_url}/s3/{bucket}", timeout=30)
    assert anonymous.status_code == 403 and b"<Code>AccessDenied</Code>" in anonymous.content


def test_a_body_that_is_not_the_signed_one_is_refused(cloud, keys, bucket, s3):
    credentials = botocore.credentials.Credentials(*keys)
    url = f"{cloud.base_url}/s3/{bucket}/signed"
    request = botocore.awsrequest.AWSRequest("PUT", url, data=b"the signed body")
    request.headers["x-amz-content-sha256"] = hashlib.sha256(b"the signed body").hexdigest()
    botocore.auth.S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
    sent = requests.put(url, data=b"another body!!!", headers=dict(request.headers), timeout=30)
    assert sent.status_code == 400 and b"XAmzContentSHA256Mismatch" in sent.content
    assert code_of(s3.head_object, Bucket=bucket, Key="signed") == "404"
    good = requests.put(url, data=b"the signed body", headers=dict(request.headers), timeout=30)
    assert good.status_code == 200


def test_projects_see_only_their_own_buckets(cloud, conn, s3, bucket):
    _, other = member_of_new_project(conn, f"s3-other-{uuid.uuid4().hex[:6]}")
    theirs = client(cloud, *ec2_credentials(other))
    assert bucket not in [b["Name"] for b in theirs.list_buckets()["Buckets"]]
    assert code_of(theirs.head_bucket, Bucket=bucket) == "404"
    theirs.create_bucket(Bucket=bucket)  # bucket names are per project, as containers are
    theirs.put_object(Bucket=bucket, Key="mine", Body=b"theirs")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    theirs.delete_object(Bucket=bucket, Key="mine")
    theirs.delete_bucket(Bucket=bucket)
    other.close()


def test_s3_and_swift_see_the_same_objects(conn, s3, bucket):
    swift = swiftclient.client.Connection(session=conn.session)
    s3.put_object(Bucket=bucket, Key="from-s3", Body=b"written by S3", Metadata={"color": "red"})
    headers, body = swift.get_object(bucket, "from-s3")
    assert body == b"written by S3" and headers["x-object-meta-color"] == "red"
    swift.put_object(bucket, "from-swift", b"written by Swift", headers={"X-Object-Meta-Size": "small"})
    got = s3.get_object(Bucket=bucket, Key="from-swift")
    assert got["Body"].read() == b"written by Swift" and got["Metadata"] == {"size": "small"}
    swift.close()


def test_the_aws_cli(cloud, keys, tmp_path):
    access, secret = keys
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "config"))
    (tmp_path / "config").write_text("[default]\ns3 =\n    addressing_style = path\n")
    endpoint = ["--endpoint-url", f"{cloud.base_url}/s3"]

    def aws(*args):
        result = subprocess.run(["aws", *endpoint, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    data = os.urandom(9 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    aws("s3", "mb", f"s3://{name}")
    aws("s3", "cp", "big.bin", f"s3://{name}/dir/big.bin")
    assert "big.bin" in aws("s3", "ls", f"s3://{name}/dir/")
    aws("s3", "cp", f"s3://{name}/dir/big.bin", "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data
    aws("s3api", "put-object", "--bucket", name, "--key", "note", "--body", "back.bin")
    assert '"ContentLength": 9437184' in aws("s3api", "head-object", "--bucket", name, "--key", "note")
    aws("s3", "rb", f"s3://{name}", "--force")
    assert name not in aws("s3", "ls")


def test_identity_checks_signatures_for_any_s3_endpoint(cloud, conn, keys):
    """``POST /v3/s3tokens`` as Swift's s3token middleware calls it (no token of its own)."""
    import base64

    from stratus.identity import ec2

    access, secret = keys
    string = "AWS4-HMAC-SHA256\n20261205T000000Z\n20261205/us-east-1/s3/aws4_request\n" + "0" * 64
    url = f"{cloud.base_url}/identity/v3/s3tokens"
    body = {"credentials": {"access": access, "token": base64.b64encode(string.encode()).decode(),
                            "signature": ec2.sign(secret, string)}}
    answer = requests.post(url, json=body, timeout=30)
    assert answer.status_code == 200 and answer.headers["X-Subject-Token"]
    assert answer.json()["token"]["project"]["id"] == conn.current_project_id
    assert "ec2credential" in answer.json()["token"]["methods"]
    wrong = requests.post(url, json={"credentials": {**body["credentials"], "signature": "0" * 64}}, timeout=30)
    assert wrong.status_code == 401
    unknown = requests.post(url, json={"credentials": {**body["credentials"], "access": "nobody"}}, timeout=30)
    assert unknown.status_code == 401
    assert requests.post(url, json={"credentials": {"access": access}}, timeout=30).status_code == 400
    odd = requests.post(url, json={"credentials": {**body["credentials"], "signature": "é" * 64,
                                                   "access": "\udc80"}}, timeout=30)
    assert odd.status_code == 401
    not_base64 = requests.post(url, json={"credentials": {**body["credentials"], "token": "ünïcode"}}, timeout=30)
    assert not_base64.status_code == 400 and "base64" in not_base64.text
