"""One file per revision of the work-item queue's tables, oldest first."""
