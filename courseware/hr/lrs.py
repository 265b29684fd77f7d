"""How forwarding statements to the company's LRS goes, for HR: the backlog, the last error, sending again."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import ngettext

from ..access import hr_required
from ..forms import EmptyForm
from ..outbox import lrs
from ..outbox import queue as outbox
from ..people import audit
from . import bp


@bp.route("/lrs")
@hr_required
def lrs_page():
    """How forwarding statements to the company's LRS goes: what waits, the last error, the last delivery."""
    url = current_app.config["XAPI_LRS_URL"]
    return render_template("hr/lrs.html", backlog=lrs.backlog(), host=urlsplit(url).netloc if url else "",
                           form=EmptyForm())


@bp.post("/lrs/send-again")
@hr_required
def lrs_send_again():
    """Queue the statements the worker gave up on again (after the LRS or its settings were put right)."""
    if EmptyForm().validate_on_submit():
        batches = lrs.given_up()
        statements = sum(len(lrs.statement_ids(message)) for message in batches)
        for message in batches:
            outbox.send_again(message)
        audit.record("resend_lrs", detail={"messages": [message.id for message in batches], "statements": statements})
        flash(ngettext("%(num)d statement will be sent to the LRS again shortly.",
                       "%(num)d statements will be sent to the LRS again shortly.", statements), "success")
    return redirect(url_for(".lrs_page"))
