"""Demo ledgers and walkthroughs for trying Hall and for tests: a hall's ledger filled through the product's own
services (demo data projected by the same projectors)."""
