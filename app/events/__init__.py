"""Earning: events, sign-ups, check-ins and check-outs, hours, awards, claimed and honour hours."""
