"""Notices: what the app tells a person (an event tomorrow, points about to expire, a wish
claimed), kept with its kind and parameters and put into the reader's words when shown; the
inbox, each person's choice of kinds, and the community's outgoing webhook. A seam below the
domains and the ledger: they emit through `app.notices.services.notify` and register their kinds'
words with `app.notices.words`; this package names none of them."""
