"""Parity tests: dqgate's compiled verdicts against Great Expectations' own engine."""
