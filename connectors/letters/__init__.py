"""Printable letters (PDF) for paper mail sent through Suomi.fi Messages' printing service."""

from connectors.letters.pdf import Letter, LetterError, LetterSettings, PostalAddress, render_letter

__all__ = ["Letter", "LetterError", "LetterSettings", "PostalAddress", "render_letter"]
