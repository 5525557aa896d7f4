"""The staff app's texts: fi.json, sv.json, en.json (loaded by apps.staff.pages)."""
