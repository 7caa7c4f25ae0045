"""Models and rules of the domain: no I/O here."""
