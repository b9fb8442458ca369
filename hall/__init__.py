"""Hall: ticket register, deadlines and papers for a township one-stop service hall."""

__version__ = "0.1.0"
