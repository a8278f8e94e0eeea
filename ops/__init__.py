"""Shared runtime of every process: metrics, the health and metrics server, structured logs."""
