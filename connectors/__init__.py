"""Typed clients for the systems Kuntaflow acts on, each with a local FastAPI sandbox.

Shared pieces: ``errors`` (the one error hierarchy), ``http`` (the REST base: retries, status
table, decoding) and ``sandbox_support`` (fault injection, in-process transport).
"""
