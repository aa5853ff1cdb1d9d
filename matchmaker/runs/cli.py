"""`flask matching ...`: start, watch, cancel and export matching runs; check the workers."""

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from matchmaker.core import worker_health
from matchmaker.core.cli import echo_json, fail
from matchmaker.core.exceptions import ServiceError
from matchmaker.runs import export as matching_export
from matchmaker.runs import full_match as matching_runs

matching = AppGroup("matching", help="Matching runs on the Celery workers.")
TERMINAL = ("succeeded", "failed", "cancelled")


@matching.command("rematch")
@click.option("--wait", is_flag=True, help="Wait for the run to end and print a JSON summary.")
@click.option(
    "--timeout",
    type=float,
    default=3600,
    show_default=True,
    help="With --wait: give up after this many seconds.",
)
@click.option("--rebuild", is_flag=True, help="Refit the model with the current vocabulary.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing when suggestions exist or nothing is published (for make run).",
)
def rematch(wait: bool, timeout: float, rebuild: bool, if_empty: bool) -> None:
    """Start a full rematch of all published listings; print the run id."""
    if if_empty and not matching_export.needs_first_rematch():
        click.echo("suggestions exist or nothing is published; no rematch queued")
        return
    try:
        run = matching_runs.start_rematch("rebuild" if rebuild else "full")
    except ServiceError as e:
        fail(e.message)
    if not wait:
        click.echo(run.id)
        return
    deadline = time.monotonic() + timeout
    while True:
        info = matching_runs.status(run.id)
        if info["status"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            fail(f"run {run.id} still {info['status']} after {timeout:g} s")
        time.sleep(0.2)
    echo_json(
        {
            key: info[key]
            for key in ("run_id", "status", "needs", "achievements", "suggestions", "seconds")
        }
    )
    if info["status"] != "succeeded":
        fail(info["error"] or info["status"], code=1)


@matching.command("status")
@click.argument("run_id", type=int)
def status(run_id: int) -> None:
    """Print {"run_id", "status", "progress"} of one run (+ "broker": "down" without a broker)."""
    try:
        info = matching_runs.status(run_id)
    except ServiceError as e:
        fail(e.message)
    answer = {key: info[key] for key in ("run_id", "status", "progress")}
    if info["broker"] == "down":
        answer["broker"] = "down"
        message = "任务队列（Redis）连接不上：显示的是数据库中的状态，停滞的任务暂时无法重新排队"
        click.echo(message, err=True)
    echo_json(answer)


@matching.command("cancel")
@click.argument("run_id", type=int)
def cancel(run_id: int) -> None:
    """Cancel a queued or running run."""
    try:
        run = matching_runs.cancel_run(run_id)
    except ServiceError as e:
        fail(e.message)
    echo_json({"run_id": run.id, "status": run.status})


@matching.command("reconcile")
def reconcile() -> None:
    """Re-queue or fail runs whose worker stopped reporting."""
    sent = matching_runs.reconcile()
    click.echo(f"re-queued {len(sent)} task(s)")


@matching.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def export(out: Path) -> None:
    """Write every current (active) suggestion as JSON lines."""
    try:
        count = matching_export.write_jsonl(out)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    click.echo(f"wrote {count} suggestions to {out}", err=True)


@matching.command("health")
@click.option("--timeout", type=float, default=10, show_default=True)
def health(timeout: float) -> None:
    """Send a real ping task through the broker and wait for a worker to answer."""
    answer = worker_health.check(timeout)
    echo_json(answer)
    if not answer["ok"]:
        raise SystemExit(1)
