"""Village laptops and the hall: enrolment, signed and encrypted bundles of verbatim events, verified imports."""
