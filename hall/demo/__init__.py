"""Demo data and walkthroughs for a hall: built on the services, never a second copy of them."""
