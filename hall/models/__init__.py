"""SQLAlchemy models. Importing this package registers every table on ``Base.metadata``."""

from hall.models.base import Base
from hall.models.catalog import CatalogVersion, Item, Window
from hall.models.ledger import Event, NodeHead
from hall.models.staff import IntakePoint, Setting, Staff
from hall.models.ticket import Applicant, Ticket, TicketSerial

from hall.models.calendar import CalendarDay, CalendarYear

__all__ = [
    "Applicant",
    "Base",
    "CalendarDay",
    "CalendarYear",
    "CatalogVersion",
    "Event",
    "IntakePoint",
    "Item",
    "NodeHead",
    "Setting",
    "Staff",
    "Ticket",
    "TicketSerial",
    "Window",
]
