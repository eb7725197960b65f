"""Money: funding goals and their contributions by source, Stripe Checkout, its webhooks and
reconciliation, and the offline test Stripe of the demo. A seam like app.ledger: it names no
domain; domains register their funding targets (`targets`) and payment kinds (`kinds`)."""
