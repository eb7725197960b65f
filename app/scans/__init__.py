"""The scanner: one page for every role and the single scan API (`POST /api/v1/scans`)."""
