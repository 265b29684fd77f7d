"""Bulk staff import: upload a CSV or Excel file, preview what will change, import in one go; a template to start from."""
from __future__ import annotations

import uuid

from flask import abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired

from ..access import hr_required
from ..extensions import db
from ..forms import EmptyForm, FlaskForm
from ..models import ImportBatch, Role, utcnow
from ..people.scope import allowed_paths
from . import bp, spreadsheets, staff_import


class UploadForm(FlaskForm):
    file = FileField(validators=[FileRequired(), FileAllowed(["csv", "xlsx", "txt"])])


def _batch_or_404(batch_id: str) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.created_by_id != current_user.id:
        abort(404)
    return batch


@bp.route("/people/import", methods=["GET", "POST"])
@hr_required
def import_people():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = staff_import.read_table(upload.filename, upload.read())
        except staff_import.ImportFileError as error:
            form.file.errors.append(str(error))
        else:
            rows, errors = staff_import.check_rows(table)
            batch = ImportBatch(
                id=str(uuid.uuid4()),
                created_by_id=current_user.id,
                filename=upload.filename[:255],
                rows={
                    "rows": staff_import.rows_to_json(rows), "errors": staff_import.errors_to_json(errors),
                    "unused_columns": [column.__dict__ for column in table.unused],
                },
            )
            db.session.add(batch)
            db.session.commit()
            return redirect(url_for(".import_preview", batch_id=batch.id))
    return render_template("hr/import.html", form=form)


@bp.route("/people/import/template.<fmt>")
@hr_required
def import_template(fmt: str):
    rows = staff_import.template_rows(get_locale().language)
    return spreadsheets.download(rows, fmt, "staff-template", "staff")


def _plan(batch: ImportBatch) -> staff_import.Plan:
    rows = staff_import.rows_from_json(batch.rows["rows"])
    errors = staff_import.errors_from_json(batch.rows["errors"])
    return staff_import.plan(rows, errors, _importer())


def _importer() -> staff_import.Importer:
    return staff_import.Importer(is_admin=current_user.has_role(Role.ADMIN), allowed_paths=allowed_paths())


@bp.route("/people/import/<batch_id>")
@hr_required
def import_preview(batch_id: str):
    batch = _batch_or_404(batch_id)
    import_plan = _plan(batch)
    # Once imported, the counts are what the import did: planned again now, every row would be unchanged.
    counts = batch.summary if batch.status == "imported" else import_plan.counts()
    return render_template(
        "hr/import_preview.html", batch=batch, plan=import_plan, counts=counts, form=EmptyForm(),
        unused_columns=batch.rows.get("unused_columns", []),
        role_labels={role.value: label for role, label in staff_import.ROLE_LABELS.items()},
    )


@bp.route("/people/import/<batch_id>", methods=["POST"])
@hr_required
def import_confirm(batch_id: str):
    batch = _batch_or_404(batch_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    claimed = db.session.execute(
        ImportBatch.__table__.update()
        .where(ImportBatch.id == batch.id, ImportBatch.status == "previewed")
        .values(status="importing")
    ).rowcount
    if claimed != 1:  # a double click, or a second tab: the first one does the import
        db.session.rollback()
        return redirect(url_for(".import_preview", batch_id=batch.id))
    summary = staff_import.apply(_plan(batch))
    batch.status, batch.imported_at, batch.summary = "imported", utcnow(), summary
    db.session.commit()  # the preview page, now the result page, says what was done
    return redirect(url_for(".import_preview", batch_id=batch.id))
