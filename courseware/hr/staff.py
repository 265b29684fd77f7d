"""Bulk staff import: upload a CSV or Excel file, preview what will change, import in one go."""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.file import FileAllowed, FileField, FileRequired

from ..access import hr_required
from ..extensions import db
from ..forms import EmptyForm, FlaskForm
from ..models import ImportBatch, Role, utcnow
from ..people.scope import allowed_paths
from . import bp, staff_import


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
                rows={"rows": staff_import.rows_to_json(rows), "errors": [e.__dict__ for e in errors]},
            )
            db.session.add(batch)
            db.session.commit()
            return redirect(url_for(".import_preview", batch_id=batch.id))
    return render_template("hr/import.html", form=form)


def _plan(batch: ImportBatch) -> staff_import.Plan:
    rows = staff_import.rows_from_json(batch.rows["rows"])
    errors = [staff_import.RowError(**e) for e in batch.rows["errors"]]
    return staff_import.plan(rows, errors, _importer())


def _importer() -> staff_import.Importer:
    return staff_import.Importer(is_admin=current_user.has_role(Role.ADMIN), allowed_paths=allowed_paths())


@bp.route("/people/import/<batch_id>")
@hr_required
def import_preview(batch_id: str):
    batch = _batch_or_404(batch_id)
    return render_template("hr/import_preview.html", batch=batch, plan=_plan(batch), form=EmptyForm())


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
    db.session.commit()
    flash(
        _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(errors)s rows skipped with errors.", **summary),
        "success",
    )
    return redirect(url_for(".import_preview", batch_id=batch.id))
