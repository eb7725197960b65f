"""The points ledger: accounts, immutable transfers and holds. The only code that moves points."""
