"""Bulk import of residents from a CSV or .xlsx file: a dry run with a report per row first, then
an import job with a progress bar; idempotent on the phone number."""
