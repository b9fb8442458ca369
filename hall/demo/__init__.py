"""Demo data for trying Hall and for tests: a hall's ledger filled through the product's own services."""
