"""``python -m metrics_ai.s3sync``: keep the model root in S3 (an OpenShift AI data connection).

``run`` wraps any command that reads or writes a model root (``python -m training run``,
``update``, ``rollback``, ``versions``)::

    python -m metrics_ai.s3sync run --remote s3://models/metrics-ai --local /mnt/models -- \\
        python -m training run --out /mnt/models --models all

It pulls the prefix into ``--local``, runs the command, pushes what it published (also
when the command exits 3, a rejected version: the rejection is recorded in the history),
and exits with the command's status. A pod killed before the push (``activeDeadlineSeconds``)
leaves S3 as it was. ``pull`` only downloads (to look at versions).

Credentials and endpoint come from the data connection's keys, read once at start:
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_S3_ENDPOINT``
(empty: AWS itself) and, for a private CA, ``AWS_CA_BUNDLE``. Needs the ``s3`` extra (boto3).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field
from pydantic_settings import BaseSettings

from metrics_ai.errors import MetricsAIError
from metrics_ai.s3store import S3Location, S3Mirror

#: what a pull or push can raise: a bad URI, S3 refusing (credentials, bucket), no connection
SYNC_ERRORS = (MetricsAIError, BotoCoreError, ClientError)
app = typer.Typer(add_completion=False, no_args_is_help=True, help="Mirror a metrics-ai model root to and from S3.")

RemoteOption = Annotated[str, typer.Option(help="s3://bucket/prefix holding the models.")]
LocalOption = Annotated[Path, typer.Option(help="Local model root (an emptyDir in a pod).")]


class S3Settings(BaseSettings):
    """Where S3 is: the data connection's endpoint and region (credentials stay with boto3)."""

    endpoint: str | None = Field(None, validation_alias="AWS_S3_ENDPOINT")
    region: str | None = Field(None, validation_alias="AWS_DEFAULT_REGION")


def make_client(settings: S3Settings) -> Any:
    """A boto3 S3 client for the data connection (path-style addressing works with any S3)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint or None,
        region_name=settings.region or None,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
    )


def _mirror(remote: str) -> S3Mirror:
    return S3Mirror(make_client(S3Settings()), S3Location.parse(remote))


@app.command()
def pull(remote: RemoteOption, local: LocalOption) -> None:
    """Download the models under ``--remote`` into ``--local``."""
    try:
        seen = _mirror(remote).pull(local)
    except SYNC_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"pulled {remote} -> {local}: {len(seen.keys)} files", err=True)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    remote: RemoteOption,
    local: LocalOption,
    command: Annotated[list[str], typer.Argument(help="The command to run between pull and push.")],
) -> None:
    """Pull, run ``command``, push; exit with the command's status."""
    try:
        mirror = _mirror(remote)
        local.mkdir(parents=True, exist_ok=True)
        seen = mirror.pull(local)
    except SYNC_ERRORS as exc:
        typer.echo(f"error: pulling {remote}: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"pulled {remote} -> {local}: {len(seen.keys)} files", err=True)
    returncode = subprocess.run(command, check=False).returncode
    status = returncode if returncode >= 0 else 128 - returncode  # killed by a signal: the shell's code
    try:
        uploaded, deleted = mirror.push(local, seen)
    except SYNC_ERRORS as exc:
        kept = "models whose manifest.json was not uploaded keep their version"
        typer.echo(f"error: pushing to {remote}: {exc}; {kept}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"pushed {local} -> {remote}: {uploaded} uploaded, {deleted} pruned", err=True)
    raise typer.Exit(status)


if __name__ == "__main__":
    sys.exit(app())
