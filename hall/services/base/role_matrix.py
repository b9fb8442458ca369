"""The role matrix: every public service function that appends ledger events, with the roles allowed to call it.

This is the one written statement of who may change what. The services enforce it themselves (permissions.py,
``tickets.rules.permit``, and checks of their own); tests/services/base/test_role_matrix.py discovers every
public mutating service function (a public function taking an ``actor`` whose body reaches ``ledger.append``,
``append_many`` or ``append_events``), fails when one has no entry here, and calls each entry as every role of
:data:`ROLES` against a small prepared ledger: an allowed role gets past the permission check, every other role
gets a :class:`~hall.errors.PermissionDenied` with a Chinese message. The program itself (``system``: first start,
the daily rules) may do everything but rate.

The roles, as the test plays them against one ticket of window W02 (and one of village point 001):
- ``clerk_own``: the clerk of the ticket's window (W02); ``clerk_other``: a clerk of another window (W03);
- ``b_post``: the B-post holder of the W02 clerk, standing in while that clerk is away;
- ``manager`` (中心主任); ``inspector`` (效能监察员: oversees the hall, handles no tickets); ``admin``;
- ``village_own``: village staff of the ticket's own intake point; ``village_other``: of another point;
- ``citizen``: the rating screen's citizen channel.

The 信访 entries are played on a 信访 ticket moved to W02 (so W02's clerk and B-post are its window's) whose
首办责任人 is the W02 clerk, and for the village roles on a 信访 ticket taken in at point 001.
"""

from __future__ import annotations

ROLES = ("clerk_own", "clerk_other", "b_post", "manager", "inspector", "admin", "village_own", "village_other",
         "citizen")

ADMIN = frozenset({"admin"})
SUPERVISOR = frozenset({"manager", "admin"})
# Acting on a ticket: its window, its owner, a B-post standing in, the manager, village staff of its own point.
TICKET = frozenset({"clerk_own", "b_post", "manager", "admin", "village_own"})
# Anyone logged in as staff (not the citizen's rating screen).
STAFF = frozenset(ROLES) - {"citizen"}
COUNTER_STAFF = STAFF - {"inspector"}
# Registering a ticket: any counter, village staff at their own point (the service takes the point from the
# login, which the login only gives on that point's laptop).
INTAKE = COUNTER_STAFF
# The hall's own counters and manager (not a village point, not the inspector).
HALL_COUNTER = frozenset({"clerk_own", "clerk_other", "b_post", "manager", "admin"})
# The window concerned (a rectification, a follow-up call) or the manager.
WINDOW = frozenset({"clerk_own", "manager", "admin"})
CITIZEN = frozenset({"citizen"})
# A 信访 case is handled like a ticket of the 信访 window: its clerk (or the case's 首办责任人), a B-post standing in,
# the manager; not a village 代办员 (the point takes a 信访 in; the township handles it) — docs/petition.md.
PETITION = TICKET - {"village_own"}
INSPECTOR = frozenset({"inspector"})
# The person themself (checking in present today; the staff member booked) or the manager/administrator.
SELF = frozenset({"clerk_own", "manager", "admin"})
# One's own password, or the administrator.
OWN_PASSWORD = frozenset({"clerk_own", "admin"})
# The receiving window of a transfer (the W02 ticket sent to W03), or the manager.
RECEIVER = frozenset({"clerk_other", "manager", "admin"})

# Helpers that take a locked ``Ticket`` row from a caller that has already checked the permission (they are
# public because other service modules call them); they are listed so that a new one is a decision, and the test
# checks that they are reached only through an entry above.
INTERNAL = frozenset({"internal"})

MATRIX: dict[str, frozenset[str]] = {
    # calendar: the hall's working-day calendar is the administrator's
    "calendar.workdays.add_local_holiday": ADMIN,
    "calendar.workdays.record_calendar_event": ADMIN,
    "calendar.workdays.record_unrecorded_seed": ADMIN,
    "calendar.workdays.seed_from_package": ADMIN,
    "calendar.workdays.set_year": ADMIN,
    "cases.recalc.add_local_holiday": ADMIN,
    "cases.recalc.confirm_year": ADMIN,
    "cases.recalc.recompute_open": ADMIN,
    "cases.rederive.rederive_all": ADMIN,
    # B-posts and attendance
    "cases.bposts.end_substitution": SUPERVISOR,
    "cases.bposts.mark_attendance": SELF,  # self check-in present today; anything else the manager's
    "cases.bposts.return_tickets": SUPERVISOR,
    "cases.bposts.route_tickets": SUPERVISOR,
    "cases.bposts.start_and_end": SUPERVISOR,
    "cases.bposts.sweep": SUPERVISOR,
    # the daily rules
    "cases.daily.run": SUPERVISOR,
    "cases.daily.run_batched": SUPERVISOR,
    # joint and proxy cases
    "cases.joint.copy": TICKET,
    "cases.joint.deem_consent": SUPERVISOR,
    "cases.joint.record_opinion": WINDOW,  # the lead window (or the department's window), or the manager
    "cases.joint.sweep_deemed_consent": SUPERVISOR,
    "cases.proxy.department_returned": TICKET,
    "cases.proxy.forward": TICKET,
    "cases.proxy.record_reference": TICKET,
    # routing
    "cases.routing.accept_transfer": RECEIVER,
    "cases.routing.decide": SUPERVISOR,
    "cases.routing.decline_transfer": RECEIVER,
    "cases.routing.escalate": TICKET,
    "cases.routing.request_transfer": TICKET,
    # the ticket's clock and state
    "cases.supplement.request": TICKET,
    "cases.supplement.request_from_text": TICKET,
    "cases.workflow.change_kind": TICKET,
    "cases.workflow.close": TICKET,
    "cases.workflow.deliver": TICKET,
    "cases.workflow.extend": TICKET,  # and the manager's own act: their session or their password (staff.approve)
    "cases.workflow.pause": TICKET,
    "cases.workflow.reassign_event": INTERNAL,
    "cases.workflow.resume": TICKET,
    "cases.workflow.special_end": TICKET,
    "cases.workflow.special_start": TICKET,
    "cases.workflow.start": TICKET,
    "cases.workflow.withdraw": TICKET,
    "tickets.intake.register": INTAKE,
    "tickets.fees.charge": TICKET,  # those who may act on the ticket take its fee
    "tickets.fees.charge_ticket": INTERNAL,  # intake's own save, after its check
    "tickets.record.append_event": INTERNAL,
    "tickets.record.supplement_received": TICKET,
    "tickets.record.void": TICKET,
    # 涉法信访 (docs/petition.md): the case as a ticket of the 信访 window
    "cases.petition.add_agent": PETITION,
    "cases.petition.decide_acceptance": PETITION,
    "cases.petition.fix_four": SUPERVISOR,  # 四定一包 is the manager's
    "cases.petition.give_feedback": PETITION,
    "cases.petition.register": PETITION,
    "cases.petition.register_new": HALL_COUNTER,  # any hall counter takes a 信访 in (首问负责); it goes to 信访
    "cases.petition_steps.close_case": PETITION,
    "cases.petition_steps.record_followup": PETITION,
    "cases.petition_steps.record_hearing": PETITION,
    "cases.petition_steps.schedule_followups": PETITION,
    "cases.petition_steps.schedule_missing_followups": SUPERVISOR,  # a sweep over every closed case
    "cases.petition_steps.transfer": PETITION,
    "cases.petition_steps.transfer_answered": PETITION,
    "registers.reception.post_slot": SUPERVISOR,  # the leaders' reception schedule
    # Booking the leaders' reception: the hall's counters. The slots and their room are the hall's ledger; a
    # village laptop is sent none of them and could only overbook offline.
    "registers.reception.book": HALL_COUNTER,
    "registers.reception.cancel": HALL_COUNTER,
    "registers.reception.request_named": PETITION,  # 点名约访 on a case, by those who act on it
    # catalogue, staff, settings, sync peers: the administrator's
    "catalog.items.import_catalog": ADMIN,
    "catalog.items.seed_default": ADMIN,
    "ledger_check.rebuild": ADMIN,
    "people.staff.add_intake_point": ADMIN,
    "people.staff.add_staff": ADMIN,
    "people.staff.reset_password": ADMIN,
    "people.staff.set_active": ADMIN,
    "people.staff.set_b_post": ADMIN,
    "people.staff.set_password": OWN_PASSWORD,
    "people.staff.update_staff": ADMIN,
    "catalog.windows.add_window": ADMIN,
    "catalog.windows.set_window_active": ADMIN,
    "catalog.windows.update_window": ADMIN,
    "people.staff.set_profile": ADMIN,
    "people.staff.update_intake_point": ADMIN,
    "storage.settings.set_values": ADMIN,
    "storage.anchor.sign_head": ADMIN,  # the program signs its node's chain head (daily rules), or the admin
    "sync.heads.sign_now": ADMIN,
    "sync.enrolment.enrol": ADMIN,
    "sync.enrolment.join": ADMIN,  # on the new laptop: the program (first start) or its administrator
    "sync.peers.enrol": ADMIN,
    "sync.peers.record_join": ADMIN,
    "sync.peers.revoke": ADMIN,
    # sync conflicts: the manager resolves them at the hall; ``arrive`` stands for a laptop's own act reaching it
    "sync.conflicts.resolve": SUPERVISOR,
    "sync.conflicts.arrive": frozenset({"village_own"}),
    # registers
    "registers.accountability.open_record": SUPERVISOR,  # the 效能监察员 records findings only
    "registers.accountability.record_finding": SUPERVISOR,
    "registers.accountability.record_overdue": SUPERVISOR,
    "registers.accountability.sweep_overdue": SUPERVISOR,
    "registers.appointments.book": COUNTER_STAFF,
    "registers.appointments.finish_visit": SUPERVISOR,
    "registers.appointments.plan_visit": SUPERVISOR,
    "registers.appointments.record_outcome": SELF,  # the staff member booked, or the manager
    "registers.appointments.tag_ticket": SUPERVISOR | {"clerk_own"},  # who went on the visit, or the manager
    # 效能监察: the inspector's own finding; the 过错责任追究 record opened by hand is the manager's
    "registers.inspection.open_fault_record": SUPERVISOR,
    "registers.inspection.record_finding": INSPECTOR,
    "registers.complaints.answer": SUPERVISOR,
    "registers.complaints.register": HALL_COUNTER,  # taken at the hall's counters (a village forwards it)
    "registers.followups.record_outcome": WINDOW,
    "registers.followups.schedule": SUPERVISOR,
    "registers.followups.schedule_after_closure": TICKET,
    "registers.followups.schedule_closed": SUPERVISOR,
    "registers.followups.sweep_closed": SUPERVISOR,
    "registers.rating_channel.enrol": ADMIN,  # the rating screen's key (first opening: the program)
    "registers.ratings.rate": CITIZEN,
    "registers.ratings.record_rectified": WINDOW,
    "registers.ratings.request_rating": TICKET,
    "registers.ratings.settle_unrated": SUPERVISOR,
    "registers.ratings.sweep_unrated": SUPERVISOR,
    "registers.ratings.verify": SUPERVISOR,
    # reading that is itself recorded
    "reporting.papers.record_print": STAFF,
    "reporting.queue.reveal_id": TICKET,
}


# Public functions that append events without taking an actor: each acts as the program itself, and says why
# that is safe. A new one must be added here (the test fails otherwise).
NO_ACTOR: dict[str, str] = {
    "bootstrap.open_hall": "first start: seeds the catalogue, calendar and the hall's point as the program",
    "bootstrap.init_server": "hall-admin server init: the same first start on a new PostgreSQL database",
    "bootstrap.seed": "idempotent seeding as the program (called by the first start only)",
    "backup_chain.assemble": "builds a restore copy from backup files, outside the live ledger (hall-admin "
                             "restore, the administrator's command)",
    "backup_chain.restore_any": "restores from backup files into a new copy, outside the live ledger; the rebuild "
                                "it may run for an older day replays that copy's own events as the program",
    "people.staff.create_first_admin": "only while no administrator exists (refused afterwards)",
    "registers.rating_channel.ensure_enrolled": "enrols a screen key only where none is enrolled; a different "
                                                "key is refused (replacing one is the administrator's enrol)",
}


def allowed(name: str) -> frozenset[str]:
    """The roles of :data:`ROLES` allowed to call service function ``name`` ("cases.workflow.close")."""
    return MATRIX[name]
