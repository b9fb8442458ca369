"""The manager's 过错责任追究 record, opened by hand: who (工号), which case (办件编号), what fault, the finding.

One dialog of the ticket detail's kind (:class:`hall.ui.ticket_detail.ActionDialog`): a refusal keeps what was
typed and says why above the buttons.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from hall.errors import HallError
from hall.services.registers import accountability, inspection
from hall.ui.ops import Context, run
from hall.ui.ticket_detail import ActionDialog, Field

OUTCOMES = (("upheld", "属实，予以追究"), ("dismissed", "不予追究"))
FIELDS = (
    Field("number", "办件编号"),
    Field("staff_no", "责任人工号"),
    Field("fault", "过错情形"),
    Field("finding", "认定意见", "long"),
    Field("outcome", "认定结论", "choice", OUTCOMES),
    Field("measure", "处理措施", "choice", tuple((m, m or "（不予追究时不填）") for m in accountability.MEASURES)),
)


def fault_record_dialog(ctx: Context, parent: QWidget) -> ActionDialog:
    actor = ctx.actor

    def submit(values: dict[str, Any]) -> HallError | None:
        refused: list[HallError] = []

        def go(s: Any) -> int:
            return inspection.open_fault_record(s, actor, values["number"], values["staff_no"], values["fault"],
                                                values["finding"], upheld=values["outcome"] == "upheld",
                                                measure=values["measure"])

        title = QCoreApplication.translate("FaultDialog", "未能登记过错责任追究")
        done = run(dialog, ctx, go, title=title, initiator=parent, failed=refused.append)
        if done is None:
            return refused[0] if refused else HallError(title)
        return None

    dialog = ActionDialog(QCoreApplication.translate("FaultDialog", "登记过错责任追究"), FIELDS, parent, submit=submit)
    dialog.setObjectName("faultRecordDialog")
    return dialog
