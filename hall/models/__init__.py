"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from hall.models import (
    petition,  # noqa: F401  (registers the 涉法信访 tables)
    supervision,  # noqa: F401  (效能监察 findings, fee receipts)
    workflow,  # noqa: F401  (registers the case-workflow tables)
)
from hall.models.base import Base
from hall.models.calendar import CalendarDay, CalendarYear
from hall.models.catalog import CatalogVersion, Item, Window
from hall.models.ledger import Event, NodeHead
from hall.models.legacy import LegacyInitials, LegacyItem, LegacyStaff
from hall.models.staff import IntakePoint, Setting, Staff
from hall.models.sync import SyncConflict, SyncExchange, SyncHeldEvent, SyncParked, SyncPeer, SyncStaffDirectory
from hall.models.ticket import Applicant, Ticket, TicketSerial

__all__ = [
    "Applicant",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "CatalogVersion",
    "Event",
    "IntakePoint",
    "Item",
    "LegacyInitials",
    "LegacyItem",
    "LegacyStaff",
    "NodeHead",
    "Setting",
    "Staff",
    "SyncConflict",
    "SyncExchange",
    "SyncHeldEvent",
    "SyncParked",
    "SyncPeer",
    "SyncStaffDirectory",
    "Ticket",
    "TicketSerial",
    "Window",
]
