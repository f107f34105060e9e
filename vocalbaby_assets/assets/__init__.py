"""Asset modules, one per pipeline stage."""
