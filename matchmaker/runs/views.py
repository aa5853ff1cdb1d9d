"""Staff pages for matching runs: list with live progress, start, cancel; the vocabulary page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core import worker_health
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.paging import positive_int
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import vocabulary

bp = Blueprint("runs", __name__, template_folder="templates")


@bp.get("/runs/")
@roles_required("staff")
def index():
    matching_runs.reconcile()
    runs = matching_runs.list_runs(limit=positive_int(request.args.get("limit"), top=500) or 50)
    return render_template(
        "runs/index.html",
        runs=runs,
        labels=matching_runs.STATUS_LABELS,
        kinds=matching_runs.KIND_LABELS,
    )


@bp.post("/runs/start")
@roles_required("staff")
def start():
    kind = request.form.get("kind", "full")
    try:
        run = matching_runs.start_rematch(kind, user_id=current_user.id)
    except ServiceError as e:
        flash(e.message, "danger")
    else:
        flash(f"已启动{matching_runs.KIND_LABELS[run.kind]}任务 #{run.id}", "success")
    return redirect(url_for("runs.index"))


@bp.post("/runs/<int:run_id>/cancel")
@roles_required("staff")
def cancel(run_id: int):
    try:
        matching_runs.cancel_run(run_id)
    except ServiceError as e:
        flash(e.message, "danger")
    else:
        flash(f"任务 #{run_id} 已取消", "success")
    return redirect(url_for("runs.index"))


@bp.get("/runs/progress.json")
@roles_required("staff")
def progress():
    ids = [i for i in map(positive_int, request.args.get("ids", "").split(",")) if i]
    matching_runs.reconcile()
    runs = [matching_runs.describe(matching_runs.get_run(i)) for i in ids[:100] if _exists(i)]
    return {"runs": runs}


def _exists(run_id: int) -> bool:
    try:
        matching_runs.get_run(run_id)
    except ServiceError:
        return False
    return True


@bp.route("/runs/vocabulary", methods=["GET", "POST"])
@roles_required("staff")
def vocabulary_page():
    errors, form = {}, {"kind": "term", "word": ""}
    if request.method == "POST":
        form = {"kind": request.form.get("kind", ""), "word": request.form.get("word", "")}
        try:
            entry = vocabulary.add(form["kind"], form["word"], user_id=current_user.id)
        except ServiceError as e:
            errors = e.errors or {"word": e.message}
        else:
            added = " = ".join(entry.members) if form["kind"] == "synonym" else entry.word
            flash(
                f"已添加{vocabulary.KIND_LABELS[form['kind']]}“{added}”；重建模型后生效",
                "success",
            )
            return redirect(url_for("runs.vocabulary_page"))
    return render_template(
        "runs/vocabulary.html",
        entries=vocabulary.entries(),
        groups=vocabulary.synonym_groups(),
        starter=vocabulary.starter_synonyms(),
        errors=errors,
        form=form,
        labels=vocabulary.KIND_LABELS,
    ), (400 if errors else 200)


@bp.post("/runs/vocabulary/<int:entry_id>/delete")
@roles_required("staff")
def remove_word(entry_id: int):
    return _removed(vocabulary.remove, entry_id, "已删除；重建模型后生效")


@bp.post("/runs/vocabulary/synonyms/<int:group_id>/delete")
@roles_required("staff")
def remove_synonyms(group_id: int):
    return _removed(vocabulary.remove_synonyms, group_id, "已删除同义词组；重建模型后生效")


def _removed(remove, row_id: int, done: str):
    """Delete a vocabulary row, say how it went and go back to the vocabulary page."""
    try:
        remove(row_id)
    except ServiceError as e:
        flash(e.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("runs.vocabulary_page"))


@bp.get("/healthz/worker")
def worker():
    """For staff and monitoring: a real task through the broker; 503 when no worker answers."""
    answer = worker_health.check(timeout=float(request.args.get("timeout", 5) or 5))
    return answer, (200 if answer["ok"] else 503)
