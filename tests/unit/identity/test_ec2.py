"""EC2 signatures as identity checks them for S3 endpoints (``POST /v3/s3tokens``)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from stratus.identity import ec2

# the "GET Object" example of the AWS Signature Version 4 documentation
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_STRING = ("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
AWS_SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"


def test_version_4_signs_as_the_aws_documentation_does():
    assert ec2.sign(AWS_SECRET, AWS_STRING) == AWS_SIGNATURE


def test_version_2_is_hmac_sha1_in_base64():
    string = "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
    expected = base64.b64encode(hmac.new(b"secret", string.encode(), hashlib.sha1).digest()).decode()
    assert ec2.sign("secret", string) == expected


def test_a_different_scope_or_secret_signs_differently():
    assert ec2.sign(AWS_SECRET, AWS_STRING.replace("us-east-1", "eu-west-1")) != AWS_SIGNATURE
    assert ec2.sign(AWS_SECRET + "x", AWS_STRING) != AWS_SIGNATURE
