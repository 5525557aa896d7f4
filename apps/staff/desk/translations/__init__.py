"""The Desk's texts in Finnish, Swedish and English (flat ``key: text`` tables; apps/eservice/i18n.py reads them)."""
