"""An S3-compatible endpoint on loopback (moto's server mode), for tests and benchmarks.

The payload store talks to it exactly as to MinIO or Ceph: `s3://BUCKET/prefix` with
`endpoint_url` in the store options and the credentials in the `AWS_*` variables.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from exchange.testing.postgres import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "hub", "AWS_SECRET_ACCESS_KEY": "hub-secret"}
BUCKET = "hub"


@contextlib.contextmanager
def moto_server(bucket: str = BUCKET) -> Iterator[str]:
    """Start moto on a free port with `bucket` made; yields the endpoint URL. The `AWS_*`
    credentials are set in this process's environment meanwhile (child processes inherit)."""
    import boto3

    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        os.environ.update(CREDENTIALS)
        boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=bucket)
        yield url
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.terminate()
        proc.wait(timeout=10)
