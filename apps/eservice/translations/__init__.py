"""Translation tables of the e-service, one JSON file per language (read by ``apps.eservice.i18n``)."""
