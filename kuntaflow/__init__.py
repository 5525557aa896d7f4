"""Kuntaflow engine shell: settings, CLI, work-item queue, robot runner, redaction."""

__version__ = "0.1.0"
