"""The Qt user interface: thin widgets over the services (hall.services); no queries here."""
