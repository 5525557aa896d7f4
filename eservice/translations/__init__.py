"""Translation tables of the e-service, one JSON file per language (read by ``eservice.i18n``)."""
