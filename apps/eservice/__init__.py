"""The citizen-facing web app: library-card applications after Suomi.fi e-Identification (see app.py)."""
