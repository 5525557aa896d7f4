"""Keyword libraries: thin adapters between Robot Framework and the processes (robots/README.md)."""
