"""Fake peers for the fault tests (see scripted_server.py)."""
